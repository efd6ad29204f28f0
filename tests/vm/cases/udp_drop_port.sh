#!/bin/sh
# udp_drop_port drops UDP to port 23558 only.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool udp-echo-server 127.0.0.1:23558 --daemon
expect_ok nettool udp-echo-server 127.0.0.1:23559 --daemon

udp_passes 23558
load_prog /wasm/udp_drop_port.wasm
udp_blocked 23558
udp_passes 23559
expect_ok kwasmctl unload
udp_passes 23558
finish
