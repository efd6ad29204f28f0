#!/bin/sh
# Maps across a replacement: loading a program whose map has the name and
# shape of the running program's takes its contents over (the counts go
# on); another shape is refused naming the map, the running program
# untouched; --fresh-maps starts empty. An events reader reads on across a
# reload of its program. Allocation counters back to zero at the end.
. /lib.sh

module_load || fail "module loads"
port=23562
# Silent: an echo would come back to a sender that has gone, and the ICMP
# error about it would count as a packet from that sender.
expect_ok nettool udp-echo-server 127.0.0.1:$port --daemon --silent

send() { # send <count>: datagrams from 127.0.0.2, all sent
	_out=$(nettool flood 127.0.0.1:$port --udp --src 127.0.0.2 --count "$1" --size 64 2>&1)
	case $_out in
	*"sent $1 packets, 0 errors"*) pass "sent $1 from 127.0.0.2" ;;
	*) fail "flood: $_out" ;;
	esac
}
packets_are() { # packets_are <n>: by_src's count of 127.0.0.2 becomes n
	if wait_for "kwasmctl map lookup by_src 127.0.0.2 2>/dev/null | grep -qx 'packets=$1,bytes=[0-9]*'" 5; then
		pass "127.0.0.2 counted $1 packets"
	else
		fail "127.0.0.2 should count $1: $(kwasmctl map lookup by_src 127.0.0.2 2>&1)"
	fi
}

load_prog /wasm/src_counters.wasm --name counters
first_id=$(status_field id)
send 20
packets_are 20

# The same shape: the new program counts on from the old one's figures.
load_prog /wasm/src_counters.wasm --name counters
second_id=$(status_field id)
check "the reload replaced program $first_id with $second_id" \
	[ "$second_id" -gt "$first_id" ] && [ "$(status_field programs)" = 1 ]
packets_are 20
send 10
packets_are 30

# Another shape (16 entries, not 4096): refused, naming the map; the
# running program keeps its maps and goes on counting.
expect_fail_naming EEXIST "map by_src: max entries 16, the running program's is 4096; load with --fresh-maps" \
	kwasmctl load /wasm/src_counters_small.wasm --name counters
check "program $second_id is still attached" [ "$(status_field id)" = "$second_id" ]
send 5
packets_are 35

# --fresh-maps: the new program starts empty.
load_prog /wasm/src_counters_small.wasm --name counters --fresh-maps
expect_fail_naming ENOENT "no such key" kwasmctl map lookup by_src 127.0.0.2
send 3
packets_are 3

# An events reader follows its ring across a reload of drop_events.
expect_ok kwasmctl unload counters
load_prog /wasm/drop_events.wasm --name ev
timeout 60 kwasmctl events --count 4 --json --timeout 30 >/tmp/ev.out 2>/tmp/ev.err &
reader=$!
check "the reader holds the ring" wait_for "grep -q '^events:.*reader=1' /proc/kwasm" 10
drop2() {
	nettool tcp-echo 127.0.0.1:23557 --timeout-ms 300 >/dev/null 2>&1
	nettool tcp-echo 127.0.0.1:23557 --timeout-ms 300 >/dev/null 2>&1
}
drop2
load_prog /wasm/drop_events.wasm --name ev
check "the reader still holds the ring after the reload" \
	grep -q '^events:.*reader=1' /proc/kwasm
drop2
wait $reader
status=$?
check "the reader exits 0 (status $status)" [ "$status" -eq 0 ]
records=$(grep -c '"dport":23557' /tmp/ev.out)
check "the reader got 4 records across the reload ($records)" [ "$records" -eq 4 ]
check "lost: 0 ($(cat /tmp/ev.err))" grep -qx 'lost: 0' /tmp/ev.err

expect_ok kwasmctl unload
check_alloc_zero "after unload"
expect_ok rmmod kwasm
finish
