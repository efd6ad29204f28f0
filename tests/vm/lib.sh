# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Helpers for the guest test scripts (busybox ash). Source it with
# `. /lib.sh`, call the checks, and end with `finish`, which prints
# "N passed, N failed" (", N skipped" when any were) and exits non-zero if
# anything failed.

KWASM_PASSED=0
KWASM_FAILED=0
KWASM_SKIPPED=0

pass() {
	KWASM_PASSED=$((KWASM_PASSED + 1))
	echo "PASS: $*"
}

fail() {
	KWASM_FAILED=$((KWASM_FAILED + 1))
	echo "FAIL: $*"
}

skip() {
	KWASM_SKIPPED=$((KWASM_SKIPPED + 1))
	echo "SKIP: $*"
}

# check <name> <cmd...>: pass when the command succeeds (quietly).
check() {
	_name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$_name"; else fail "$_name"; fi
}

# expect_ok <cmd...>: the command succeeds; its output is shown on failure.
expect_ok() {
	if _out=$("$@" 2>&1); then
		pass "$*"
	else
		fail "$* (exit $?)"
		printf '%s\n' "$_out" | sed 's/^/    /'
	fi
}

# expect_status <n> <cmd...>: the command exits with status n.
expect_status() {
	_want=$1
	shift
	_out=$("$@" 2>&1)
	_status=$?
	if [ "$_status" -eq "$_want" ]; then
		pass "$* exits $_want"
	else
		fail "$* exits $_status, expected $_want"
	fi
	printf '%s\n' "$_out" | sed 's/^/    /'
}

# Symbolic name of an errno, and the text strerror() gives for it.
errno_text() {
	case $1 in
	EPERM) echo "Operation not permitted" ;;
	ENOENT) echo "No such file or directory" ;;
	ENOMEM) echo "Cannot allocate memory" ;;
	EINVAL) echo "Invalid argument" ;;
	EFBIG) echo "File too large" ;;
	E2BIG) echo "Argument list too long" ;;
	EBUSY) echo "Device or resource busy" ;;
	EEXIST) echo "File exists" ;;
	ENOSPC) echo "No space left on device" ;;
	*) echo "$1" ;;
	esac
}

# expect_fail_with <errno> <cmd...>: the command fails and says why, naming
# the errno either symbolically (EINVAL) or as strerror() text.
expect_fail_with() {
	_errno=$1
	shift
	if _out=$("$@" 2>&1); then
		fail "$* succeeded, expected $_errno"
	elif printf '%s' "$_out" | grep -qiF -e "$_errno" -e "$(errno_text "$_errno")"; then
		pass "$* fails with $_errno"
		printf '%s\n' "$_out" | sed 's/^/    /'
		return 0
	else
		fail "$* failed, but not with $_errno"
	fi
	printf '%s\n' "$_out" | sed 's/^/    /'
	return 1
}

# expect_fail_naming <errno> <text> <cmd...>: as expect_fail_with, and the
# reason the command gives contains text.
expect_fail_naming() {
	_text=$2
	_errno=$1
	shift 2
	expect_fail_with "$_errno" "$@" || return 1
	case $_out in
	*"$_text"*) pass "$* gives a reason naming '$_text'" ;;
	*) fail "$*: the reason does not name '$_text'" ;;
	esac
}

# expect_dmesg <extended regex> [name]: the kernel log has a matching line.
expect_dmesg() {
	if dmesg | grep -Eq -- "$1"; then
		pass "${2:-dmesg has /$1/}"
	else
		fail "${2:-dmesg has /$1/}"
		dmesg | tail -n 20 | sed 's/^/    /'
	fi
}

# wait_for <condition> <seconds>: evaluate the shell condition every 0.1 s
# until it holds (status 0) or the time runs out (status 1).
wait_for() {
	_tries=$(($2 * 10))
	while [ "$_tries" -gt 0 ]; do
		eval "$1" >/dev/null 2>&1 && return 0
		_tries=$((_tries - 1))
		sleep 0.1
	done
	return 1
}

# status_field <key> [file]: the value of "<key>: <value>" in /proc/kwasm
# (or in a copy of it, to read several fields of one snapshot), the one
# place that knows the status file's format. Keys: program (name or "none"),
# size, sha256, hook, runs, accepted, dropped, invalid, traps, skipped,
# last_load ("<name>: ok" or "<name>: error <errno>: <reason>").
status_field() {
	sed -n "s/^$1: *//p" "${2:-/proc/kwasm}" 2>/dev/null | head -n 1
}

# prog_field <name> <key> [file]: the value of "<key>: <value>" in the
# block of program <name> in /proc/kwasm.
prog_field() {
	awk -v name="$1" -v key="$2" '
		/^program: / { in_prog = ($2 == name) }
		in_prog && index($0, key ": ") == 1 {
			print substr($0, length(key) + 3); exit
		}' "${3:-/proc/kwasm}" 2>/dev/null
}

# status_settled <file> <seconds>: wait until /proc/kwasm reads the same
# twice in a row, 0.1 s apart (packets a flood sent may still be waiting in
# the loopback backlog after it stopped), and leave that snapshot in <file>.
status_settled() {
	: >"$1"
	wait_for "cat /proc/kwasm >'$1.new'; cmp -s '$1' '$1.new' || { mv '$1.new' '$1'; false; }" "$2"
}

# expect_verdict <accept|drop> <kwasmctl test-run options...>: a test run
# of a crafted packet gives that verdict with a clean outcome.
expect_verdict() {
	_want=$1
	shift
	_out=$(kwasmctl test-run "$@" 2>&1)
	_verdict=$(printf '%s\n' "$_out" | sed -n 's/^verdict: //p')
	_outcome=$(printf '%s\n' "$_out" | sed -n 's/^outcome: //p')
	if [ "$_verdict" = "$_want" ] && [ "$_outcome" = ok ]; then
		pass "test-run $* -> $_want"
	else
		fail "test-run $*: wanted $_want/ok, got ${_verdict:-?}/${_outcome:-?}"
		printf '%s\n' "$_out" | sed 's/^/    /'
	fi
}

# counter_above <name> <n>: the /proc/kwasm counter is above n (for wait_for).
counter_above() {
	[ "$(status_field "$1")" -gt "$2" ]
}

# module_load: insert kwasm and wait for its device.
module_load() {
	modprobe kwasm || return 1
	wait_for '[ -c /dev/kwasm ]' 5
}

# load_prog <file> [kwasmctl load options]: load a program, or fail the test.
# Unless the options name it, the program is named "test": each load
# replaces the last, as the cases expect of one program at a time.
load_prog() {
	case " $* " in
	*" --name "*) expect_ok kwasmctl load "$@" ;;
	*) expect_ok kwasmctl load "$@" --name test ;;
	esac
}

# loaded_is <file.wasm>: the (first) loaded program is that file's bytes.
loaded_is() {
	[ "$(status_field sha256)" = "$(sha256sum "$1" | cut -d' ' -f1)" ]
}

# tcp_passes / tcp_blocked / udp_passes / udp_blocked <port>: whether an
# echo to 127.0.0.1:<port> gets through (the echo server must be running).
# Blocked means the echo times out, not that it fails in some other way.
_passes() { # _passes <tcp|udp> <port>
	expect_ok nettool "$1-echo" "127.0.0.1:$2" --timeout-ms 2000
}

_blocked() { # _blocked <tcp|udp> <port>
	if _out=$(nettool "$1-echo" "127.0.0.1:$2" --timeout-ms 1000 2>&1); then
		fail "$1 to port $2 is blocked, but: $_out"
	elif printf '%s' "$_out" | grep -q ': timeout$'; then
		pass "$1 to port $2 is blocked: $_out"
	else
		fail "$1 to port $2 should time out: $_out"
	fi
}

tcp_passes() { _passes tcp "$1"; }
tcp_blocked() { _blocked tcp "$1"; }
udp_passes() { _passes udp "$1"; }
udp_blocked() { _blocked udp "$1"; }

# finish: print the summary and exit with the verdict.
finish() {
	_summary="$KWASM_PASSED passed, $KWASM_FAILED failed"
	[ "$KWASM_SKIPPED" -eq 0 ] || _summary="$_summary, $KWASM_SKIPPED skipped"
	echo "$_summary"
	[ "$KWASM_FAILED" -eq 0 ] && [ "$KWASM_PASSED" -gt 0 ]
	exit $?
}

# original_scenario <accept-all program> <drop-23557 program>: the original
# project's test. A TCP echo on 127.0.0.1:23557 connects under accept-all and
# times out under drop-port, while port 23559 still passes; it connects
# again once the program is unloaded. The drop program stays loaded until
# then, for the caller's own checks between (pass them as a command).
original_scenario() {
	expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
	expect_ok nettool tcp-echo-server 127.0.0.1:23559 --daemon
	load_prog "$1"
	tcp_passes 23557
	load_prog "$2"
	tcp_blocked 23557
	tcp_passes 23559
	shift 2
	"$@"
	expect_ok kwasmctl unload
	tcp_passes 23557
}

# ---- concurrency and memory (tests/vm/cases/concurrency.sh) ----

# uptime_cs: time since boot in hundredths of a second.
uptime_cs() {
	awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

# elapsed_s <uptime_cs>: seconds since then, with one decimal.
elapsed_s() {
	_d=$(($(uptime_cs) - $1))
	echo "$((_d / 100)).$((_d % 100 / 10))"
}

# meminfo_kb <field>: a /proc/meminfo figure in kB, e.g. meminfo_kb Slab.
meminfo_kb() {
	sed -n "s/^$1: *\([0-9]*\) kB$/\1/p" /proc/meminfo
}

# slab_live_kb: kB held by live slab objects (active objects x object
# size, summed over /proc/slabinfo), after every cache flushed its per-CPU
# slabs (/sys/kernel/slab/*/shrink): objects cached per CPU count as active
# otherwise. Pages (SUnreclaim) are not compared: caches keep empty and
# partial slabs as they please. Each kernfs file opened here leaves a small
# object that RCU frees later, the same number each time: call it once per
# measurement, never in a polling loop.
# Prints two figures: all caches, and the kmalloc-* caches alone (where
# kwasm's and netfilter's allocations live; named caches such as
# task_struct or shmem_inode_cache move with the test's own processes and
# files).
slab_live_kb() {
	for _f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$_f" 2>/dev/null
	done
	awk 'NR > 2 { b += $2 * $4; if ($1 ~ /^kmalloc-/) k += $2 * $4 }
		END { printf "%d %d\n", b / 1024, k / 1024 }' /proc/slabinfo
}

# slab_snapshot <file>: "<cache> <bytes in its active objects>" per line,
# from /proc/slabinfo, for slab_growth.
slab_snapshot() {
	awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo >"$1"
}

# slab_growth <before> <after> [n]: the n caches whose active objects grew
# the most between two snapshots, as "<bytes> <cache>".
slab_growth() {
	awk 'NR == FNR { was[$1] = $2; next }
		$2 != was[$1] { print $2 - was[$1], $1 }' "$1" "$2" |
		sort -rn | head -n "${3:-5}"
}

# net_rx_softirqs: the NET_RX line of /proc/softirqs, one count per CPU.
net_rx_softirqs() {
	sed -n 's/^ *NET_RX: *//p' /proc/softirqs | tr -s ' '
}

# tcp_echo_loop <port> <stop file> <result file>: TCP echoes to
# 127.0.0.1:<port> one after the other until the stop file exists, then
# "<echoes back> <echoes lost>" in the result file. Run it in the background.
tcp_echo_loop() {
	_ok=0
	_lost=0
	while [ ! -e "$2" ]; do
		if nettool tcp-echo "127.0.0.1:$1" --timeout-ms 5000 >/dev/null 2>&1; then
			_ok=$((_ok + 1))
		else
			_lost=$((_lost + 1))
		fi
	done
	echo "$_ok $_lost" >"$3"
}

# check_alloc_zero <when>: the module's allocation counters in /proc/kwasm
# are exactly zero (no program loaded, no test-run running).
check_alloc_zero() {
	_blocks=$(status_field alloc_blocks)
	_bytes=$(status_field alloc_bytes)
	check "alloc_blocks $_blocks, alloc_bytes $_bytes: zero $1" \
		[ "$_blocks:$_bytes" = 0:0 ]
}
