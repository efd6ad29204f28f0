#!/bin/sh
# Maps from user space: src_counters.wasm counts packets and bytes per source
# address in its hash map "by_src" (ipv4 -> packets:u64,bytes:u64) with
# map_add. Datagrams from two sources: kwasmctl map dump --json gives
# exactly their numbers and IP lengths.
. /lib.sh

module_load || fail "module loads"
port=23561
# Silent: an echo would come back to a sender that has gone, and the ICMP
# error about it would count as a packet from that sender.
expect_ok nettool udp-echo-server 127.0.0.1:$port --daemon --silent
load_prog /wasm/src_counters.wasm

# flood <src> <count> <payload bytes>: all sent without an error.
flood() {
	_out=$(nettool flood 127.0.0.1:$port --udp --src "$1" --count "$2" --size "$3" 2>&1)
	case $_out in
	*"sent $2 packets, 0 errors"*) pass "flood from $1: $_out" ;;
	*) fail "flood from $1: $_out" ;;
	esac
}

# entry <src>: the dump's JSON entry of a source.
entry() {
	kwasmctl map dump by_src --json | grep -o "{\"key\":\"$1\",\"value\":{[^}]*}}"
}
field() { # field <src> <name>
	entry "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

flood 127.0.0.2 50 64
flood 127.0.0.3 30 100
# IP length: 20 (IPv4) + 8 (UDP) + payload.
want2_bytes=$((50 * (28 + 64)))
want3_bytes=$((30 * (28 + 100)))
if wait_for '[ "$(field 127.0.0.2 packets)" = 50 ] && [ "$(field 127.0.0.3 packets)" = 30 ]' 5; then
	pass "packets per source: 50 and 30"
else
	fail "packets per source: $(kwasmctl map dump by_src --json)"
fi
check "bytes of 127.0.0.2 are $want2_bytes" sh -c "[ \"\$(kwasmctl map dump by_src --json | grep -o '{\"key\":\"127.0.0.2\",\"value\":{[^}]*}}' | sed -n 's/.*\"bytes\":\([0-9]*\).*/\1/p')\" = $want2_bytes ]"
check "bytes of 127.0.0.3 are $want3_bytes" sh -c "[ \"\$(kwasmctl map dump by_src --json | grep -o '{\"key\":\"127.0.0.3\",\"value\":{[^}]*}}' | sed -n 's/.*\"bytes\":\([0-9]*\).*/\1/p')\" = $want3_bytes ]"
check "lookup shows named fields" sh -c \
	"[ \"\$(kwasmctl map lookup by_src 127.0.0.2)\" = 'packets=50,bytes=$want2_bytes' ]"

# User space writes too: reset one source, the other keeps its counts.
expect_ok kwasmctl map update by_src 127.0.0.3 packets=0,bytes=0
check "reset source reads zero" sh -c \
	'[ "$(kwasmctl map lookup by_src 127.0.0.3)" = "packets=0,bytes=0" ]'
check "the other source kept its counts" sh -c \
	"[ \"\$(kwasmctl map lookup by_src 127.0.0.2)\" = 'packets=50,bytes=$want2_bytes' ]"
expect_ok kwasmctl map delete by_src 127.0.0.3
flood 127.0.0.3 7 1
if wait_for '[ "$(field 127.0.0.3 packets)" = 7 ]' 5; then
	pass "a deleted source counts from zero again"
else
	fail "a deleted source counts from zero again: $(entry 127.0.0.3)"
fi
check "entries on /proc/kwasm match the dump" sh -c \
	'[ "$(sed -n "s/^map.by_src: .* entries=\([0-9]*\) .*/\1/p" /proc/kwasm)" = "$(kwasmctl map dump by_src | wc -l)" ]'

expect_ok kwasmctl unload
finish
