#!/bin/sh
# The original project's test with kwasm-ABI programs: a TCP echo on
# 127.0.0.1:23557 connects under accept-all and times out under drop-port.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
expect_ok nettool tcp-echo-server 127.0.0.1:23559 --daemon

load_prog /wasm/accept_all.wasm
tcp_passes 23557
load_prog /wasm/drop_port.wasm
tcp_blocked 23557
tcp_passes 23559
dropped=$(status_field dropped)
check "dropped counter counts the SYNs (is $dropped)" [ "${dropped:-0}" -gt 0 ]
expect_ok kwasmctl unload
tcp_passes 23557
finish
