#!/bin/sh
# A program attaches where it is told: hook, priority and snap length show in
# /proc/kwasm and decide which packets it sees; bad options are refused and
# the running program keeps running.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
drop=/wasm/drop_port.wasm

load_prog $drop
check "default hook: pre-routing" [ "$(status_field hook)" = pre-routing ]
check "default snaplen: 256" [ "$(status_field snaplen)" = 256 ]
tcp_blocked 23557

# A SYN to 127.0.0.1 leaves through local-out and post-routing and comes
# back through pre-routing and local-in; it is never forwarded.
load_prog $drop --hook local-out
check "hook: local-out" [ "$(status_field hook)" = local-out ]
tcp_blocked 23557
load_prog $drop --hook post-routing --priority -100
check "hook: post-routing" [ "$(status_field hook)" = post-routing ]
check "priority: -100" [ "$(status_field priority)" = -100 ]
tcp_blocked 23557
load_prog $drop --hook forward
check "hook: forward" [ "$(status_field hook)" = forward ]
tcp_passes 23557
load_prog $drop --hook local-in --priority 0
check "hook: local-in" [ "$(status_field hook)" = local-in ]
check "priority: 0" [ "$(status_field priority)" = 0 ]
tcp_blocked 23557
load_prog /wasm/accept_all.wasm --hook local-in --priority 0
tcp_passes 23557

load_prog $drop --snaplen 64
check "snaplen: 64" [ "$(status_field snaplen)" = 64 ]
tcp_blocked 23557

# kwasmctl refuses an unknown hook itself (usage), the kernel a snap length
# above 65535, with the reason; either way drop_port keeps running.
expect_status 2 kwasmctl load /wasm/accept_all.wasm --hook input
expect_status 1 kwasmctl load /wasm/accept_all.wasm --snaplen 70000
check "the reason names the limit" sh -c \
	'kwasmctl load /wasm/accept_all.wasm --snaplen 70000 2>&1 | grep -q "Invalid argument.*above the limit 65535"'
check "drop_port still runs" loaded_is $drop
check "with snaplen 64" [ "$(status_field snaplen)" = 64 ]
tcp_blocked 23557

# 65535 itself is allowed.
check "snaplen 65535 loads" kwasmctl load /wasm/accept_all.wasm --snaplen 65535 --name test
check "snaplen: 65535" [ "$(status_field snaplen)" = 65535 ]
tcp_passes 23557
expect_status 1 kwasmctl load $drop --snaplen 65536 --name test
check "accept_all still runs" loaded_is /wasm/accept_all.wasm
tcp_passes 23557
finish
