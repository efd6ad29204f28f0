#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/bench.sh: figures, not pass/fail. Absolute numbers
# under QEMU TCG say little; compare rows of one run.
. /lib.sh

runs=${KWASM_BENCH_RUNS:-20000}
packets=${KWASM_BENCH_PACKETS:-20000}

# flood_rate <label>: UDP packets per second through the hook, echoed back.
flood_rate() {
	out=$(nettool flood 127.0.0.1:7777 --udp --count "$packets" 2>&1 | tail -n 1)
	printf '%-28s %s\n' "$1" "$out"
}

echo "### test-run: ns per run of one TCP packet, $runs runs each"
module_load || exit 1
for prog in accept_all drop_port udp_drop_port log_every_n orig_drop_port rust_drop_port drop_icmp; do
	ns=$(kwasmctl test-run --prog "/wasm/$prog.wasm" --proto tcp \
		--src 10.0.0.1:40000 --dst 127.0.0.1:80 --repeat "$runs" |
		sed -n 's/^ns\/run: //p')
	printf '%-28s %s ns/run\n' "$prog" "$ns"
done

echo
echo "### fuel: units one run of each example uses (same TCP packet)"
for prog in accept_all drop_port udp_drop_port log_every_n orig_drop_port rust_drop_port drop_icmp; do
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

echo
echo "### UDP flood of $packets packets to an echo server on 127.0.0.1"
nettool udp-echo-server 127.0.0.1:7777 --daemon >/dev/null
rmmod kwasm
flood_rate "no module"
module_load || exit 1
flood_rate "module, no program"
for prog in accept_all drop_port log_every_n; do
	kwasmctl load "/wasm/$prog.wasm" >/dev/null || exit 1
	flood_rate "$prog"
done
echo
kwasmctl status | grep -E '^(program|runs|accepted|dropped|memory):'

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
