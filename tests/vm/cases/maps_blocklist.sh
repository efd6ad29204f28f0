#!/bin/sh
# Maps from user space: blocklist.wasm drops packets whose source address is
# a key of its hash map "blocked" (ipv4 -> u8). kwasmctl map update/delete
# change what passes at once; 127.0.0.1 is never affected. Also the map
# requests' errors, and /proc/kwasm's map line.
. /lib.sh

module_load || fail "module loads"
port=23560
expect_ok nettool tcp-echo-server 127.0.0.1:$port --daemon

from2() { nettool tcp-echo 127.0.0.1:$port --src 127.0.0.2 --timeout-ms "${1:-2000}"; }
from2_blocked() {
	if _out=$(from2 1000 2>&1); then
		fail "tcp from 127.0.0.2 is blocked, but: $_out"
	elif printf '%s' "$_out" | grep -q timeout; then
		pass "tcp from 127.0.0.2 is blocked: $_out"
	else
		fail "tcp from 127.0.0.2 should time out: $_out"
	fi
}

expect_ok from2
expect_fail_naming ENOENT "no program is loaded" kwasmctl map list
load_prog /wasm/blocklist.wasm
check "map list shows blocked as a hash map" sh -c \
	'kwasmctl map list | grep -q "^blocked: hash .*key=4 value=1 .*key_fmt=ipv4 value_fmt=u8"'
check "map list --json" sh -c \
	'kwasmctl map list --json | grep -q "\"name\":\"blocked\""'
expect_ok from2
tcp_passes $port

# Block 127.0.0.2: its next connection is dropped, 127.0.0.1's is not.
expect_ok kwasmctl map update blocked 127.0.0.2 1
check "lookup gives the value" sh -c '[ "$(kwasmctl map lookup blocked 127.0.0.2)" = 1 ]'
check "lookup --json" sh -c \
	'kwasmctl map lookup blocked 127.0.0.2 --json | grep -q "{\"key\":\"127.0.0.2\",\"value\":1}"'
check "dump lists the key" sh -c '[ "$(kwasmctl map dump blocked)" = "127.0.0.2: 1" ]'
check "hex: keys name the same entry" sh -c \
	'[ "$(kwasmctl map lookup blocked hex:0200007f)" = 1 ]'
check "/proc/kwasm has the map line" sh -c \
	'grep -q "^map.blocked: hash key=4 value=1 max=[0-9]* entries=1 " /proc/kwasm'
from2_blocked
tcp_passes $port
expect_fail_naming EEXIST "the key exists" kwasmctl map update blocked 127.0.0.2 1 --noexist
expect_ok kwasmctl map update blocked 127.0.0.2 2 --exist
expect_fail_naming ENOENT "no such key" kwasmctl map update blocked 127.0.0.9 1 --exist

# Unblock: it passes again.
expect_ok kwasmctl map delete blocked 127.0.0.2
expect_ok from2
expect_fail_naming ENOENT "no such key" kwasmctl map lookup blocked 127.0.0.2
expect_fail_naming ENOENT "no such key" kwasmctl map delete blocked 127.0.0.2
check "dump of an empty map prints nothing" sh -c '[ -z "$(kwasmctl map dump blocked)" ]'
check "dump --json of an empty map" sh -c '[ "$(kwasmctl map dump blocked --json)" = "[]" ]'

# Bad requests: errno and a reason naming the culprit.
expect_fail_naming ENOENT "no map named nope" kwasmctl map lookup nope 1.2.3.4
expect_status 2 kwasmctl map update blocked 1.2.3 1
expect_status 2 kwasmctl map update blocked 1.2.3.4 256
expect_fail_naming EINVAL "one value per key" kwasmctl map lookup blocked 1.2.3.4 --cpu 0

expect_ok kwasmctl unload
expect_ok from2
finish
