#!/bin/sh
# Fuel: a filter that never returns for UDP to port 23560 is stopped by its
# budget on every packet of a flood. The guest stays responsive, the
# out_of_fuel counter grows, the log line is rate-limited, the program can
# be replaced and unloaded meanwhile. A looping start function is refused;
# a small --fuel stops a finite loop.
. /lib.sh

prog=fuel_loop_udp
log_re="kwasm: $prog: out of fuel \\(budget 100000\\)"

# has_line <text> <regex>: a line of the text matches.
has_line() {
	printf '%s\n' "$1" | grep -Eq -- "$2"
}

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon

# Test-runs first: the budget stops the loop and says how much was used.
_out=$(kwasmctl test-run --prog /fixtures/$prog.wat --proto udp \
	--src 10.0.0.1:1 --dst 127.0.0.1:23560 2>&1)
check "test-run of the endless loop traps out_of_fuel" \
	has_line "$_out" '^trap: out_of_fuel$'
check "test-run reports the whole default budget used" \
	has_line "$_out" '^fuel used: 100000$'
printf '%s\n' "$_out" | sed 's/^/    /'
expect_verdict accept --prog /fixtures/$prog.wat --proto udp \
	--src 10.0.0.1:1 --dst 127.0.0.1:23561

# fuel_count costs 5 + 7 * dport: 7005 for port 1000.
count=/fixtures/fuel_count.wat
expect_verdict accept --prog $count --fuel 7005 --proto udp \
	--src 10.0.0.1:1 --dst 127.0.0.1:1000
check "a finite loop uses 7005 fuel" sh -c "kwasmctl test-run --prog $count \
	--proto udp --src 10.0.0.1:1 --dst 127.0.0.1:1000 --json |
	grep -q '\"fuel_used\":7005'"
check "--fuel 7004 makes the finite loop run out" sh -c "kwasmctl test-run \
	--prog $count --fuel 7004 --proto udp --src 10.0.0.1:1 \
	--dst 127.0.0.1:1000 | grep -q '^trap: out_of_fuel'"
load_prog $count --name small_fuel --fuel 7004
check "status shows the budget" [ "$(status_field fuel)" = 7004 ]
check "the loaded program runs out with --fuel 7004" sh -c "kwasmctl test-run \
	--proto udp --src 10.0.0.1:1 --dst 127.0.0.1:1000 | grep -q '^trap: out_of_fuel'"
# Above KWASM_MAX_FUEL: kwasmctl refuses it as bad usage (exit 2).
expect_status 2 kwasmctl load $count --fuel 4294967297
expect_ok kwasmctl unload

# The flood: every packet to 23560 spends the whole default budget.
load_prog /fixtures/$prog.wat --default accept --name $prog
check "status shows the default budget" [ "$(status_field fuel)" = 100000 ]
before=$(dmesg | grep -Ec "$log_re")
t0=$(date +%s)
# Killed at the end; long enough for a slow, contended emulator.
nettool flood 127.0.0.1:23560 --udp --seconds 900 >/tmp/flood.out 2>&1 &
flood=$!
check "out_of_fuel counter grows under the flood" \
	wait_for "counter_above trap.out_of_fuel 20" 30
tcp_passes 23557
n=$(status_field trap.out_of_fuel)
check "out_of_fuel keeps growing (past $n)" \
	wait_for "counter_above trap.out_of_fuel $n" 10
# One reading of /proc/kwasm: the counters move meanwhile.
snap=$(cat /proc/kwasm)
field() { printf '%s\n' "$snap" | sed -n "s/^$1: *//p"; }
check "every trap is out_of_fuel ($(field traps))" \
	[ "$(field traps)" = "$(field trap.out_of_fuel)" ]
check "out of fuel counts no divide_by_zero" [ "$(field trap.divide_by_zero)" = 0 ]
expect_dmesg "$log_re" "dmesg names the program that ran out"
# pr_info_ratelimited: at most 10 lines per 5 s (and one burst more).
n=$(status_field trap.out_of_fuel)
lines=$(($(dmesg | grep -Ec "$log_re") - before))
secs=$(($(date +%s) - t0))
check "log is rate-limited: $lines lines for $n traps in ${secs}s" \
	[ "$lines" -ge 1 ] && [ "$lines" -le $((10 * (secs / 5 + 2))) ] && [ "$lines" -lt "$n" ]

# A looping start function is refused; the running program stays.
sha=$(status_field sha256)
expect_fail_with EINVAL kwasmctl load /fixtures/fuel_start_loop.wat
check "the refusal says why" sh -c "kwasmctl load /fixtures/fuel_start_loop.wat 2>&1 |
	grep -q 'running the start function: out of fuel'"
check "the previous program still runs" [ "$(status_field sha256)" = "$sha" ]
n=$(status_field trap.out_of_fuel)
check "and still runs out of fuel" wait_for "counter_above trap.out_of_fuel $n" 10

# Replace and unload during the flood.
load_prog /wasm/accept_all.wasm --name $prog
check "replaced during the flood" loaded_is /wasm/accept_all.wasm
check "the new program sees the flood" wait_for "counter_above runs 20" 10
check "and does not run out" [ "$(status_field traps)" = 0 ]
load_prog /fixtures/$prog.wat --default accept --name $prog
check "the loop is back" wait_for "counter_above trap.out_of_fuel 5" 20
expect_ok kwasmctl unload
check "unloaded during the flood" [ "$(status_field program)" = none ]
tcp_passes 23557
kill $flood
wait $flood
expect_ok rmmod kwasm
finish
