#!/bin/sh
# The module goes away cleanly while packets run through its hook.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool udp-echo-server 127.0.0.1:23559 --daemon
# The probe's own server: an echo to the flooded one can wait behind a full
# socket buffer and time out with nothing wrong in the kernel.
expect_ok nettool udp-echo-server 127.0.0.1:23561 --daemon
load_prog /wasm/log_every_n.wasm
nettool flood 127.0.0.1:23559 --udp --seconds 6 >/tmp/flood.out 2>&1 &
flood=$!
check "the program sees the flood" wait_for "counter_above runs 1000" 5
expect_ok rmmod kwasm
check "the flood survives rmmod" kill -0 $flood
check "/dev/kwasm is gone" [ ! -e /dev/kwasm ]
# UDP under a flood of the same loopback may lose a datagram (the backlog
# is full); a hook left behind would lose every one: three tries.
udp_probe() {
	for _try in 1 2 3; do
		nettool udp-echo 127.0.0.1:23561 --timeout-ms 2000 && return 0
	done
	return 1
}
check "UDP passes during the flood after rmmod" udp_probe
wait $flood
status=$?
check "flood ran to the end: $(tail -n 1 /tmp/flood.out)" [ $status -eq 0 ]
module_load || fail "module loads again"
load_prog /wasm/accept_all.wasm
expect_ok rmmod kwasm
finish
