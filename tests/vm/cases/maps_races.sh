#!/bin/sh
# Maps under races: maps_hammer.wat runs every map operation on each packet
# of two floods (one per CPU, as the scheduler spreads them) and traps if it
# ever reads a torn value, while kwasmctl updates, deletes, looks up and
# dumps the same maps from user space, per-CPU slots included. No trap, no
# torn value seen from user space, the per-CPU run counts add up exactly to
# the program's runs, and the allocation counters return to zero.
. /lib.sh

module_load || fail "module loads"
port=23563
expect_ok nettool udp-echo-server 127.0.0.1:$port --daemon
load_prog /fixtures/maps_hammer.wat --name hammer
taskset -c 0 nettool flood 127.0.0.1:$port --udp >/dev/null 2>&1 &
f1=$!
taskset -c 1 nettool flood 127.0.0.1:$port --udp --src 127.0.0.2 >/dev/null 2>&1 &
f2=$!
check "the program runs under the floods" wait_for "counter_above runs 1000" 10

# torn <file>: values in a dump whose a and b differ.
torn() {
	grep -o '"a":[0-9]*,"b":[0-9]*' "$1" | awk -F'[:,]' '$2 != $4' | wc -l
}
unexpected=0
torn_seen=0
i=0
while [ $i -lt 20 ]; do
	v=$((i * 1000 + 7))
	# A full hash map refuses new keys (ENOSPC): expected under the flood.
	if ! out=$(kwasmctl map update h $((i % 128)) a=$v,b=$v 2>&1); then
		case $out in *"(errno 28)"*) ;; *) unexpected=$((unexpected + 1)); echo "update h: $out" ;; esac
	fi
	kwasmctl map delete h $(((i + 3) % 128)) >/dev/null 2>&1
	kwasmctl map update arr $((i % 8)) a=$v,b=$v || unexpected=$((unexpected + 1))
	kwasmctl map update pc 1 a=$v,b=$v --cpu $((i % 2)) || unexpected=$((unexpected + 1))
	kwasmctl map update pc 1 a=$v,b=$v || unexpected=$((unexpected + 1))
	for m in h arr; do
		kwasmctl map dump $m --json >/tmp/dump.json || unexpected=$((unexpected + 1))
		torn_seen=$((torn_seen + $(torn /tmp/dump.json)))
	done
	kwasmctl map lookup arr $(((i + 5) % 8)) --json >/tmp/one.json || unexpected=$((unexpected + 1))
	torn_seen=$((torn_seen + $(torn /tmp/one.json)))
	i=$((i + 1))
done
check "user-space map requests under the floods: $unexpected unexpected failures" [ $unexpected -eq 0 ]
check "user space saw $torn_seen torn values" [ $torn_seen -eq 0 ]
check "the hash map was full at times (full > 0)" \
	sh -c 'grep "^map.h:" /proc/kwasm | grep -q "full=[1-9]"'
kill $f1 $f2
wait $f1 $f2
check "the counters settle once the floods stopped" status_settled /tmp/status 10
runs=$(status_field runs /tmp/status)
check "no traps: the program never read a torn value ($(status_field traps /tmp/status))" \
	[ "$(status_field traps /tmp/status)" = 0 ]
sum=$(kwasmctl map lookup pc 0 --json | sed -n 's/.*"sum":{"a":\([0-9]*\).*/\1/p')
check "per-CPU run counts sum to the program's runs ($sum = $runs)" [ "$sum" = "$runs" ]
check "both CPUs ran the program" sh -c \
	'kwasmctl map lookup pc 0 | grep -q "cpu0=a=[1-9][0-9]*,b=0 cpu1=a=[1-9]"'

expect_ok kwasmctl unload
check_alloc_zero "after unload"
expect_ok rmmod kwasm
finish
