#!/bin/sh
# The original project's test, with its original-ABI programs: a TCP echo on
# 127.0.0.1:23557 connects under accept-all and times out under drop-port.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
expect_ok nettool tcp-echo-server 127.0.0.1:23559 --daemon

load_prog /wasm/orig_accept_all.wasm
tcp_passes 23557
load_prog /wasm/orig_drop_port.wasm
tcp_blocked 23557
tcp_passes 23559
check "status names orig_drop_port" [ "$(status_field program)" = orig_drop_port ]
expect_ok kwasmctl unload
tcp_passes 23557
finish
