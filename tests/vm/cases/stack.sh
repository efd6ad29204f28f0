#!/bin/sh
# The native stack is bounded: deep recursion with a host call at the bottom
# stays within the module's stack reserve in test-run (the task stack) and
# traps with stack_overflow past wasm3's budget, in the packet path too;
# with less stack left than the reserve a run is refused (no_stack) and the
# default verdict applies. Linux 6.1 does not export where the IRQ stack is:
# there, runs on it are not measured (docs/SAFETY.md). docs/SAFETY.md quotes the figures printed here.
. /lib.sh

module_load || fail "module loads"
prog=/fixtures/recurse_host.wat
reserve=$(cat /sys/module/kwasm/parameters/stack_reserve)
check "stack_reserve is set ($reserve bytes)" [ "$reserve" -gt 0 ]

# run <depth>: "<stack used> [trap]" of a test-run recursing <depth> calls.
run() {
	kwasmctl test-run --prog $prog --proto udp \
		--src 10.0.0.1:1 --dst 10.0.0.2:"$1" --json |
		sed -n 's/.*"stack_used":\([0-9]*\).*"trap":"\([a-z_]*\)".*/\1 \2/p'
}

# Deeper and deeper until wasm3's budget traps; every run stays within the
# reserve, and the deepest one that returns is the figure to quote.
depth=0 deepest=0 most=0
while :; do
	set -- $(run $depth)
	used=${1:-0} trap=${2:-none}
	if [ "$used" -ge "$reserve" ] || [ "$used" -le 0 ]; then
		fail "depth $depth used $used bytes of stack (reserve $reserve)"
		break
	fi
	[ "$used" -gt "$most" ] && most=$used
	if [ "$trap" = stack_overflow ]; then
		pass "depth $depth traps with stack_overflow after $used bytes"
		break
	elif [ "$trap" != none ]; then
		fail "depth $depth: unexpected trap $trap"
		break
	fi
	deepest=$depth
	[ "$depth" -gt 400 ] && { fail "no stack_overflow by depth $depth"; break; }
	depth=$((depth + 1))
done
check "calls before the trap: $deepest (deepest run used $most of $reserve bytes)" \
	[ "$deepest" -gt 16 ]

# The search above printed more log lines than printk's rate limit lets
# through (10 per 5 s), so its deepest runs may have skipped printk. Once
# the window has passed (a time, not a condition to wait on), the deepest
# chain runs again and must reach printk at its bottom.
sleep 5
logged=$(dmesg | grep -c 'test-run: bottom')
set -- $(run $deepest)
used=${1:-0}
check "the deepest chain logged through printk at its bottom" \
	[ "$(dmesg | grep -c 'test-run: bottom')" -gt "$logged" ]
check "and used $used of $reserve bytes" \
	[ "$used" -gt 0 ] && [ "$used" -lt "$reserve" ]
[ "$used" -gt "$most" ] && most=$used
echo "figure: stack: deepest call chain $deepest, most stack used $most bytes (printk at the bottom: $used), reserve $reserve"

# The packet path (softirq): the same program on real UDP traffic. Ports
# below the depth limit are accepted, deeper ones trap (default drop).
expect_ok nettool udp-echo-server 127.0.0.1:5 --daemon
expect_ok nettool udp-echo-server 127.0.0.1:4000 --daemon
load_prog $prog --default drop
udp_passes 5
udp_blocked 4000
check "stack_overflow counted on real traffic" counter_above trap.stack_overflow 0

# Less stack left than the reserve: refused, counted, default verdict. At
# local-out the hook runs on the sending task's stack, measured on every
# kernel; at pre-routing (softirq, IRQ stack) from Linux 6.2 on.
echo 1048576 > /sys/module/kwasm/parameters/stack_reserve
expect_ok sh -c "kwasmctl test-run --prog $prog --proto udp --src 10.0.0.1:1 --dst 10.0.0.2:5 | grep -qx 'trap: no_stack'"
load_prog $prog --default drop --hook local-out
# A packet dropped at local-out fails the sender's sendto() with EPERM.
check "udp to port 5 is dropped at local-out" sh -c \
	"nettool udp-echo 127.0.0.1:5 --timeout-ms 1000 2>&1 | grep -q 'not permitted'"
check "no_stack counted on the task stack" counter_above trap.no_stack 0
release=$(uname -r)
major=${release%%.*} minor=${release#*.}
minor=${minor%%[!0-9]*}
if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 2 ]; }; then
	load_prog $prog --default drop
	udp_blocked 5
	check "no_stack counted on the IRQ stack" counter_above trap.no_stack 0
else
	# Runs on the IRQ stack are not measured: they pass although a 1 MiB
	# reserve refuses every measured run. A packet that TCG's slowness
	# pushes to ksoftirqd runs on a task stack, is measured and refused
	# (no_stack, dropped); the echo retries, so only the accepted count,
	# not a zero no_stack count, can be asserted.
	load_prog $prog --default drop
	udp_passes 5
	check "$release: runs on the IRQ stack are not measured ($(status_field accepted) accepted, $(status_field trap.no_stack) no_stack)" \
		[ "$(status_field accepted)" -ge 2 ]
fi
echo "$reserve" > /sys/module/kwasm/parameters/stack_reserve
udp_passes 5
expect_ok kwasmctl unload
finish
