#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/demo.sh.
. /lib.sh

say() { printf '\n### %s\n' "$*"; }

say "modprobe kwasm"
module_load || exit 1
say "kwasmctl load /wasm/log_every_n.wasm --name log_every_n (logs every 1000th packet per CPU)"
kwasmctl load /wasm/log_every_n.wasm --name log_every_n || exit 1
nettool udp-echo-server 127.0.0.1:7777 --daemon
say "4000 UDP packets to 127.0.0.1:7777, echoed back"
nettool flood 127.0.0.1:7777 --udp --count 4000
say "what the program logged"
dmesg | grep 'kwasm: log_every_n:'
say "cat /proc/kwasm"
cat /proc/kwasm
say "test-run a crafted packet through drop_port.wasm"
kwasmctl test-run --prog /wasm/drop_port.wasm --proto tcp \
	--src 10.0.0.1:40000 --dst 127.0.0.1:23557
say "rmmod kwasm"
rmmod kwasm
