#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/bench.sh: figures, not pass/fail. Absolute numbers
# under QEMU TCG say little; compare rows of one run.
#
# kwasm next to an eBPF netfilter program doing the same check
# (tests/bench/ebpf, through /usr/bin/bpfbench and /bpf/*.bpf.o): ns per
# test-run and UDP flood rates, each the median of $rounds rounds with their
# min and max. Engines alternate within a round, so that drift of the host
# hits both. Machine-readable lines come first ("bench testrun ENGINE PROG
# median=NS min=NS max=NS rounds=R runs=N", "bench flood ENGINE CONFIG
# median=PPS min=PPS max=PPS rounds=R seconds=S", "bench ratio ...",
# "bench rate ENGINE CONFIG offered=PPS sent=PPS delivered=PPS seconds=S",
# "bench maps run PROG median=NS ... runs=N fuel=UNITS", "bench maps call
# OP median=NS ... runs=N fuel=UNITS", "bench maps ring SHAPE written=N
# dropped=N", "bench maps operator ns=NS fuel=UNITS ns_per_unit=NS"),
# tables after them. /files/bench.conf (from tests/bench.sh) may set runs,
# rounds, seconds, rates and rate_seconds.
#
# The rate sweep, after the floods: for no filter and each program, paced
# floods (nettool flood --rate) of $rate_seconds s at offered rates that are
# $rates percent of the median unpaced no-filter flood of this boot;
# delivered is what the echo server received. Where delivered falls below
# offered, that configuration is saturated.
. /lib.sh

runs=20000
rounds=7
seconds=2
# Percent of the no-filter flood rate: a geometric series, steps of sqrt(2).
# The unpaced flood counts what was sent; the echo server saturates well
# below that under TCG (it echoes every datagram), so the series starts low.
rates="12 18 25 35 50 71 100 141"
rate_seconds=2
# shellcheck disable=SC1091 # written by tests/bench.sh
[ ! -f /files/bench.conf ] || . /files/bench.conf

data=/tmp/bench
mkdir -p "$data"
tcp_args="--proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:80"
# The payload program reads up to 256 bytes: a 256-byte TCP packet.
payload_args="$tcp_args --payload-len 216"
# Both engines at the same place for the flood: IPv4 LOCAL_IN, first but
# one (netfilter refuses NF_IP_PRI_FIRST itself for BPF links).
hook_args="--hook local-in --priority -2147483647"

# eBPF netfilter programs need 6.4; the tool is there when it was built.
release=$(uname -r)
major=${release%%.*}
minor=${release#*.}
minor=${minor%%.*}
ebpf=1
if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 4 ]; }; then
	ebpf=
	ebpf_why="not available on $major.$minor (netfilter programs need >= 6.4)"
elif ! command -v bpfbench >/dev/null || ! [ -f /bpf/accept_all.bpf.o ]; then
	ebpf=
	ebpf_why="not available: bpfbench was not built (make ebpf)"
fi

# stats: numbers on stdin (one a line) -> "median=M min=A max=B rounds=N".
stats() {
	sort -n | awk '{ v[NR] = $1 }
	END {
		if (NR == 0) { print "median=- min=- max=- rounds=0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
		printf "median=%d min=%d max=%d rounds=%d\n", m, v[1], v[NR], NR
	}'
}

# field <name> <stats line>: one value of a stats line.
field() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# ratio <a> <b>: a / b with two decimals, "-" when either is missing.
ratio() {
	case "$1$2" in *-* | '') echo -; return ;; esac
	[ "$2" -gt 0 ] || { echo -; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
}

# per_unit <ns> <units>: ns / units with one decimal, "-" when either is
# missing or units is not above 0.
per_unit() {
	case "$1$2" in *-* | '') echo -; return ;; esac
	[ "$2" -gt 0 ] || { echo -; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", a / b }'
}

# ns_per_run <output of a test-run>: its ns/run figure, or fail.
ns_per_run() {
	_ns=$(sed -n 's/^ns\/run: //p')
	[ -n "$_ns" ] || return 1
	echo "$_ns"
}

# The kwasm programs of the test-run table: drop_port reads the parsed
# ports of record version 2, drop_port_v1 (the same source built for
# version 1) parses the header itself, orig_drop_port is the original ABI.
testrun_progs="accept_all drop_port drop_port_v1 payload orig_drop_port"

# ebpf_of <kwasm program>: the eBPF program doing the same check.
ebpf_of() {
	case $1 in
	drop_port_v1 | orig_drop_port) echo drop_port ;;
	*) echo "$1" ;;
	esac
}

# One round of test-runs: every program on both engines, $runs runs each,
# and kwasm's path without a wasm call: the original ABI skips an ICMP
# packet after the header is read, before wasm3 is entered ("no_call").
testrun_round() {
	kwasmctl test-run --prog /wasm/orig_accept_all.wasm --proto icmp \
		--src 10.0.0.1 --dst 127.0.0.1 --repeat "$runs" |
		ns_per_run >>"$data/testrun.kwasm.no_call" ||
		{ echo "bench: kwasm test-run without a call failed" >&2; return 1; }
	for prog in $testrun_progs; do
		args=$tcp_args
		[ "$prog" != payload ] || args=$payload_args
		# shellcheck disable=SC2086
		kwasmctl test-run --prog "/wasm/$prog.wasm" $args --repeat "$runs" |
			ns_per_run >>"$data/testrun.kwasm.$prog" ||
			{ echo "bench: kwasm test-run of $prog failed" >&2; return 1; }
		# Each eBPF program once a round, next to its first kwasm twin.
		[ "$(ebpf_of "$prog")" = "$prog" ] || continue
		[ -n "$ebpf" ] && [ -f "/bpf/$prog.bpf.o" ] || continue
		# shellcheck disable=SC2086
		bpfbench test-run "/bpf/$prog.bpf.o" $args --repeat "$runs" |
			ns_per_run >>"$data/testrun.ebpf.$prog" ||
			{ echo "bench: eBPF test-run of $prog failed" >&2; return 1; }
	done
}

# The map operations: the programs of tests/vm/fixtures/bench_map_*.wat
# (scripts/gen-bench-maps.py), each one map call per run, attached in turn
# and test-run (the attached program: the path a packet takes, with its
# maps). Programs of one shape declare the same maps, so each load adopts
# the maps of the one before: key 1 put into h once a round stays there.
# Shape "room" ("none" its empty program): arr, pc, h and a 4 MiB events
# ring that a reader (kwasmctl events) drains, which no round can fill;
# shape "full" ("full_none"): a 4 KiB ring nobody reads, full after its
# first 85 records, so that every later event is dropped (-ENOSPC).
map_progs="none lookup_array lookup_percpu lookup_hash update_array update_hash add_array
	add_percpu add_hash delete_update event16 event64"
full_progs="full_none full_event16 full_event64"

# map_run <prog> <verdict>: load bench_map_<prog> and test-run it $runs
# times; its ns per run appended to $data/maps.<prog>, the fuel of a run to
# $data/maps.fuel.<prog>. The verdict tells the call's result (accept: 0):
# another means the run did not take the path it measures.
map_run() {
	kwasmctl load "/fixtures/bench_map_$1.wat" --name bench >/dev/null ||
		{ echo "bench: load of bench_map_$1 failed" >&2; return 1; }
	# shellcheck disable=SC2086
	_out=$(kwasmctl test-run $tcp_args --repeat "$runs") ||
		{ echo "bench: test-run of bench_map_$1 failed" >&2; return 1; }
	_verdict=$(echo "$_out" | sed -n 's/^verdict: //p')
	[ "$_verdict" = "$2" ] || {
		echo "bench: bench_map_$1: verdict '$_verdict', not $2: not the path measured" >&2
		return 1
	}
	echo "$_out" | ns_per_run >>"$data/maps.$1" ||
		{ echo "bench: test-run of bench_map_$1 gave no ns/run" >&2; return 1; }
	echo "$_out" | sed -n 's/^fuel used: //p' >"$data/maps.fuel.$1"
}

# last <file>: its last line.
last() { tail -n 1 "$1"; }

# ring_line <shape>: the attached program's events ring ("written=W
# dropped=D") from /proc/kwasm, kept as the last of its shape.
ring_line() {
	sed -n 's/^events:.* \(written=[0-9]* dropped=[0-9]*\).*/\1/p' /proc/kwasm >"$data/maps.ring.$1"
}

# One round of map operations: both shapes, every program once, then each
# program's difference to the empty program of its shape in this round.
maps_round() {
	kwasmctl load --fresh-maps /fixtures/bench_map_none.wat --name bench >/dev/null || return 1
	kwasmctl map update h hex:01000000 hex:00000000000000000000000000000000 >/dev/null ||
		{ echo "bench: map update of h failed" >&2; return 1; }
	kwasmctl events >/dev/null 2>&1 &
	_reader=$!
	wait_for "grep -q '^events:.*reader=1' /proc/kwasm" 10 ||
		{ echo "bench: the events reader did not start" >&2; return 1; }
	for _prog in $map_progs; do
		map_run "$_prog" accept || return 1
	done
	ring_line room
	# A fresh ring: the reader's ends (end of file), the new one fills.
	kwasmctl load --fresh-maps /fixtures/bench_map_full_none.wat --name bench >/dev/null || return 1
	wait "$_reader" || echo "bench: note: the events reader exited with status $?" >&2
	for _prog in $full_progs; do
		_verdict=accept
		[ "$_prog" = full_none ] || _verdict=drop
		map_run "$_prog" "$_verdict" || return 1
	done
	ring_line full
	kwasmctl unload >/dev/null || return 1
	for _prog in $map_progs; do
		[ "$_prog" != none ] || continue
		echo $(($(last "$data/maps.$_prog") - $(last "$data/maps.none"))) \
			>>"$data/maps.call.$_prog"
	done
	# The delete: delete_update less update_hash.
	echo $(($(last "$data/maps.delete_update") - $(last "$data/maps.update_hash"))) \
		>>"$data/maps.call.delete_hash"
	for _prog in full_event16 full_event64; do
		echo $(($(last "$data/maps.$_prog") - $(last "$data/maps.full_none"))) \
			>>"$data/maps.call.$_prog"
	done
}

# flood <engine> <config>: packets per second of a $seconds-long UDP flood
# to the echo server, appended to its data file.
flood() {
	_out=$(nettool flood 127.0.0.1:7777 --udp --seconds "$seconds" 2>&1 | tail -n 1)
	_sent=$(echo "$_out" | sed -n 's/.* sent \([0-9]*\) packets.*/\1/p')
	[ -n "$_sent" ] || { echo "bench: flood failed: $_out" >&2; return 1; }
	echo $((_sent / seconds)) >>"$data/flood.$1.$2"
}

# rate_flood <engine> <config> <pps>: a paced flood of $rate_seconds s at
# <pps> offered, its "bench rate" line appended to $data/rate.lines.
rate_flood() {
	_out=$(nettool flood 127.0.0.1:7777 --udp --seconds "$rate_seconds" --rate "$3" 2>&1 |
		tail -n 1)
	_sent=$(echo "$_out" | sed -n 's/.* sent_pps=\([0-9]*\).*/\1/p')
	_delivered=$(echo "$_out" | sed -n 's/.* delivered_pps=\([0-9]*\).*/\1/p')
	if [ -z "$_sent" ] || [ -z "$_delivered" ]; then
		echo "bench: paced flood failed: $_out" >&2
		return 1
	fi
	echo "bench rate $1 $2 offered=$3 sent=$_sent delivered=$_delivered" \
		"seconds=$rate_seconds" >>"$data/rate.lines"
}

# rate_sweep <engine> <config>: a paced flood at each offered rate, lowest
# first ($rate_max, the no-filter flood rate, times each of $rates percent).
rate_sweep() {
	for _pct in $rates; do
		rate_flood "$1" "$2" $((rate_max * _pct / 100)) || return 1
	done
}

# ebpf_attached <prog> <command...>: runs the command with the eBPF program
# attached, detached after. bpfbench's first line says it attached; it
# detaches on SIGTERM and exits.
ebpf_attached() {
	rm -f /tmp/bpf.out
	mkfifo /tmp/bpf.out
	bpfbench attach "/bpf/$1.bpf.o" >/tmp/bpf.out &
	_pid=$!
	# Open until bpfbench is gone, so that its last line has a reader.
	exec 3</tmp/bpf.out
	read -r _line <&3 || true
	case $_line in
	attached:*) ;;
	*)
		echo "bench: bpfbench attach $1 failed" >&2
		wait "$_pid"
		exec 3<&-
		return 1
		;;
	esac
	_prog=$1
	shift
	"$@"
	_status=$?
	kill "$_pid"
	wait "$_pid" || _status=1
	read -r _line <&3 || true
	exec 3<&-
	case $_line in
	detached:*) ;;
	*) echo "bench: bpfbench did not detach $_prog: '$_line'" >&2; return 1 ;;
	esac
	return $_status
}

# ebpf_flood <prog>: a flood with the eBPF program attached.
ebpf_flood() {
	ebpf_attached "$1" flood ebpf "$1"
}

# One round of floods: every configuration once.
flood_round() {
	flood none no_module || return 1
	if [ -n "$ebpf" ]; then
		ebpf_flood accept_all || return 1
		ebpf_flood drop_port || return 1
	fi
	module_load || return 1
	flood kwasm no_program || return 1
	for prog in accept_all drop_port; do
		# shellcheck disable=SC2086
		kwasmctl load "/wasm/$prog.wasm" $hook_args --name bench >/dev/null || return 1
		flood kwasm "$prog" || return 1
	done
	kwasmctl unload >/dev/null && rmmod kwasm
}

echo "### bench: $rounds rounds; test-run $runs runs each; flood $seconds s each;" \
	"rate sweep $rate_seconds s at $(echo "$rates" | tr ' ' ,) % of the no-filter flood"
[ -n "$ebpf" ] || echo "eBPF: $ebpf_why"

module_load || exit 1
round=1
while [ "$round" -le "$rounds" ]; do
	testrun_round || exit 1
	round=$((round + 1))
done
round=1
while [ "$round" -le "$rounds" ]; do
	maps_round || exit 1
	round=$((round + 1))
done
# The fuel of an interpreted operator's time, for the map table: the fuel
# of one run of accept_all and drop_port (their times are the test-run's).
for prog in accept_all drop_port; do
	# shellcheck disable=SC2086
	kwasmctl test-run --prog "/wasm/$prog.wasm" $tcp_args | sed -n 's/^fuel used: //p' \
		>"$data/fuel.$prog"
done
rmmod kwasm

nettool udp-echo-server 127.0.0.1:7777 --daemon >/dev/null || exit 1
round=1
while [ "$round" -le "$rounds" ]; do
	flood_round || exit 1
	round=$((round + 1))
done

# The rate sweep: offered rates relative to what an unpaced flood reached
# with no filter in this boot, every configuration in turn.
rate_max=$(field median "$(stats <"$data/flood.none.no_module")")
[ "$rate_max" -gt 0 ] 2>/dev/null || { echo "bench: no flood rate to sweep from" >&2; exit 1; }
: >"$data/rate.lines"
rate_sweep none no_module || exit 1
if [ -n "$ebpf" ]; then
	for prog in accept_all drop_port; do
		ebpf_attached "$prog" rate_sweep ebpf "$prog" || exit 1
	done
fi
module_load || exit 1
for prog in accept_all drop_port; do
	# shellcheck disable=SC2086
	kwasmctl load "/wasm/$prog.wasm" $hook_args --name bench >/dev/null || exit 1
	rate_sweep kwasm "$prog" || exit 1
done
kwasmctl unload >/dev/null && rmmod kwasm || exit 1

cell() { # cell <data file>: "median (min-max)", or "-" when missing
	[ -f "$1" ] || { echo -; return; }
	_s=$(stats <"$1")
	echo "$(field median "$_s") ($(field min "$_s")-$(field max "$_s"))"
}
median() { # median <data file>: its median, "-" when missing
	if [ -f "$1" ]; then field median "$(stats <"$1")"; else echo -; fi
}
flood_configs="none.no_module kwasm.no_program kwasm.accept_all kwasm.drop_port
	ebpf.accept_all ebpf.drop_port"

# The map operations' per-call figures: each program less the empty one of
# its shape; the delete is delete_update less update_hash.
map_ops="lookup_array lookup_percpu lookup_hash update_array update_hash add_array add_percpu
	add_hash delete_update delete_hash event16 event64 full_event16 full_event64"
call_fuel() { # call_fuel <op>: the fuel of its call(s)
	case $1 in
	delete_hash) echo $(($(cat "$data/maps.fuel.delete_update") - $(cat "$data/maps.fuel.update_hash"))) ;;
	full_*) echo $(($(cat "$data/maps.fuel.$1") - $(cat "$data/maps.fuel.full_none"))) ;;
	*) echo $(($(cat "$data/maps.fuel.$1") - $(cat "$data/maps.fuel.none"))) ;;
	esac
}

# The machine-readable lines.
for prog in no_call $testrun_progs; do
	for engine in kwasm ebpf; do
		f=$data/testrun.$engine.$prog
		[ ! -f "$f" ] || echo "bench testrun $engine $prog $(stats <"$f") runs=$runs"
	done
done
for config in $flood_configs; do
	f=$data/flood.$config
	[ ! -f "$f" ] || echo "bench flood ${config%%.*} ${config#*.} $(stats <"$f") seconds=$seconds"
done
for prog in $testrun_progs; do
	echo "bench ratio testrun $prog kwasm/ebpf=$(ratio "$(median "$data/testrun.kwasm.$prog")" \
		"$(median "$data/testrun.ebpf.$(ebpf_of "$prog")")")"
done
base=$(median "$data/flood.none.no_module")
for config in $flood_configs; do
	echo "bench ratio flood ${config%%.*} ${config#*.} vs_no_filter=$(ratio \
		"$(median "$data/flood.$config")" "$base")"
done
cat "$data/rate.lines"
for prog in $map_progs $full_progs; do
	echo "bench maps run $prog $(stats <"$data/maps.$prog") runs=$runs" \
		"fuel=$(cat "$data/maps.fuel.$prog")"
done
for op in $map_ops; do
	echo "bench maps call $op $(stats <"$data/maps.call.$op") runs=$runs fuel=$(call_fuel "$op")"
done
echo "bench maps ring room $(cat "$data/maps.ring.room")"
echo "bench maps ring full $(cat "$data/maps.ring.full")"
op_ns=$(($(median "$data/testrun.kwasm.drop_port") - $(median "$data/testrun.kwasm.accept_all")))
op_fuel=$(($(cat "$data/fuel.drop_port") - $(cat "$data/fuel.accept_all")))
echo "bench maps operator ns=$op_ns fuel=$op_fuel ns_per_unit=$(per_unit "$op_ns" "$op_fuel")"

echo
echo "### test-run: ns per run, median of $rounds rounds of $runs runs (min-max)"
echo "### a TCP SYN to port 80; for payload a 256-byte TCP packet"
printf '%-16s %-24s %-24s %s\n' program kwasm eBPF kwasm/eBPF
for prog in $testrun_progs; do
	twin=$(ebpf_of "$prog")
	printf '%-16s %-24s %-24s %s\n' "$prog" "$(cell "$data/testrun.kwasm.$prog")" \
		"$(cell "$data/testrun.ebpf.$twin")" \
		"$(ratio "$(median "$data/testrun.kwasm.$prog")" "$(median "$data/testrun.ebpf.$twin")")"
done
printf '%-16s %-24s %s\n' no_call "$(cell "$data/testrun.kwasm.no_call")" \
	"(kwasm without entering wasm3: an original-ABI program skips ICMP)"

echo
echo "### map operations: ns per test-run of the attached program, median of $rounds rounds"
echo "### of $runs runs (min-max); per call: the run less the empty program of its shape"
echo "### in the same round (median of the rounds' differences); fuel: units of one run,"
echo "### and of the call (the run's less the empty program's)"
printf '%-22s %-22s %-20s %-9s %-9s %s\n' operation ns/run ns/call fuel/run fuel/call ns/unit
map_row() { # map_row <label> <program or -> <op or ->
	_run=- _call=- _fuel=- _cfuel=- _unit=-
	if [ "$2" != - ]; then
		_run=$(cell "$data/maps.$2")
		_fuel=$(cat "$data/maps.fuel.$2")
	fi
	if [ "$3" != - ]; then
		_call=$(cell "$data/maps.call.$3")
		_cfuel=$(call_fuel "$3")
		_unit=$(per_unit "$(median "$data/maps.call.$3")" "$_cfuel")
	fi
	printf '%-22s %-22s %-20s %-9s %-9s %s\n' "$1" "$_run" "$_call" "$_fuel" "$_cfuel" "$_unit"
}
map_row "empty (arr,pc,h,ring)" none -
map_row "lookup array" lookup_array lookup_array
map_row "lookup percpu" lookup_percpu lookup_percpu
map_row "lookup hash" lookup_hash lookup_hash
map_row "update array" update_array update_array
map_row "update hash" update_hash update_hash
map_row "add array" add_array add_array
map_row "add percpu" add_percpu add_percpu
map_row "add hash" add_hash add_hash
map_row "delete+update hash" delete_update delete_update
map_row "delete hash" - delete_hash
map_row "event 16 B (room)" event16 event16
map_row "event 64 B (room)" event64 event64
map_row "empty (4 KiB ring)" full_none -
map_row "event 16 B (full)" full_event16 full_event16
map_row "event 64 B (full)" full_event64 full_event64
echo "### delete hash = delete+update hash less update hash; the ring with room:"
echo "### $(cat "$data/maps.ring.room") in the last round (4 MiB, a reader draining it);"
echo "### the full ring: $(cat "$data/maps.ring.full") (4 KiB, no reader)."
echo "### ns/unit: ns per call / fuel per call. An interpreted operator:"
echo "### drop_port less accept_all, $op_ns ns for $op_fuel units: $(per_unit "$op_ns" "$op_fuel") ns/unit"

echo
echo "### UDP flood to an echo server on 127.0.0.1: packets/s, median of $rounds rounds"
echo "### of $seconds s (min-max); programs at IPv4 LOCAL_IN; ratio to no filter"
printf '%-28s %-28s %s\n' configuration packets/s ratio
for config in $flood_configs; do
	case $config in
	none.no_module) label="no filter (no module)" ;;
	kwasm.no_program) label="kwasm: module, no program" ;;
	kwasm.*) label="kwasm: ${config#*.}" ;;
	ebpf.*) label="eBPF: ${config#*.}" ;;
	esac
	printf '%-28s %-28s %s\n' "$label" "$(cell "$data/flood.$config")" \
		"$(ratio "$(median "$data/flood.$config")" "$base")"
done

echo
echo "### rate sweep: packets/s delivered to the echo server at each offered rate"
echo "### (paced floods of $rate_seconds s; $rate_max packets/s = the no-filter flood)"
rate_configs="none.no_module kwasm.accept_all kwasm.drop_port ebpf.accept_all ebpf.drop_port"
printf '%-10s %-10s %-10s %-10s %-10s %s\n' offered "no filter" "kwasm acc" "kwasm drop" \
	"eBPF acc" "eBPF drop"
for pct in $rates; do
	offered=$((rate_max * pct / 100))
	row=$offered
	for config in $rate_configs; do
		d=$(grep "^bench rate ${config%%.*} ${config#*.} offered=$offered " "$data/rate.lines" |
			sed -n 's/.* delivered=\([0-9]*\).*/\1/p')
		row="$row ${d:--}"
	done
	# shellcheck disable=SC2086 # one word a column
	printf '%-10s %-10s %-10s %-10s %-10s %s\n' $row
done

module_load || exit 1
echo
echo "### fuel: units one run of each example uses (same TCP packet)"
for prog in accept_all drop_port drop_port_v1 udp_drop_port log_every_n orig_drop_port \
	rust_drop_port drop_icmp payload; do
	used=$(kwasmctl test-run --prog "/wasm/$prog.wasm" --proto tcp \
		--src 10.0.0.1:40000 --dst 127.0.0.1:80 | sed -n 's/^fuel used: //p')
	printf '%-28s %s units\n' "$prog" "$used"
done
echo "### fuel: time to spend a whole budget (endless loop, 20 runs each)"
for fuel in 10000 100000 1000000; do
	ns=$(kwasmctl test-run --prog /fixtures/fuel_loop_udp.wat --fuel "$fuel" \
		--proto udp --src 10.0.0.1:1 --dst 127.0.0.1:23560 --repeat 20 |
		sed -n 's/^ns\/run: //p')
	printf '%-28s %s ns/run\n' "budget $fuel" "$ns"
done

# deepest_call_chain: binary search over the recursion depth (the packet's
# destination port) for the deepest one that returns instead of trapping.
echo
echo "### native stack: deepest wasm call chain before the stack_overflow trap"
lo=0
hi=65535
while [ $((hi - lo)) -gt 1 ]; do
	mid=$(((lo + hi) / 2))
	if kwasmctl test-run --prog /fixtures/recurse_to_dport.wat --proto udp \
		--src 10.0.0.1:1 --dst "10.0.0.2:$mid" | grep -q '^outcome: ok'; then
		lo=$mid
	else
		hi=$mid
	fi
done
printf '%-28s %s calls\n' "test-run (process context)" "$lo"
rmmod kwasm
