#!/bin/sh
# Events: drop_events drops TCP to 23557 and writes an event per drop.
# kwasmctl events reads them decoded (poll() path, with --timeout), as many
# as the program dropped, none lost; a reader sleeping in read() (no
# --timeout) gets the end when the program is unloaded; an open events
# file pins the module (rmmod fails), and after close everything is freed.
. /lib.sh

K=5

module_load || fail "module loads"
load_prog /wasm/drop_events.wasm
line=$(grep '^events:' /proc/kwasm)
check "/proc/kwasm: $line" [ "$line" = "events: size=65536 record=12 written=0 dropped=0 reader=0" ]

# A reader waiting in poll() before the traffic comes.
timeout 60 kwasmctl events --count $K --json --timeout 20 >/tmp/ev.out 2>/tmp/ev.err &
reader=$!
check "the reader shows in /proc/kwasm" wait_for "grep -q '^events:.*reader=1' /proc/kwasm" 10
# Connection attempts that give up before the SYN's first retransmit (1 s):
# one dropped packet each.
i=0
while [ $i -lt $K ]; do
	nettool tcp-echo 127.0.0.1:23557 --timeout-ms 300 >/dev/null 2>&1
	i=$((i + 1))
done
wait $reader
status=$?
check "kwasmctl events --count $K exits 0 (status $status)" [ "$status" -eq 0 ]
records=$(wc -l </tmp/ev.out)
check "$records records read, $K wanted" [ "$records" -eq $K ]
good=$(grep -c '"dport":23557' /tmp/ev.out)
check "$good records with dport 23557" [ "$good" -eq $K ]
for want in '"saddr":"127.0.0.1"' '"proto":6' '"len":12' '"time_ns":[1-9]' \
	'"cpu":[0-9]' "\"prog\":$(status_field id)" '"data":"0100007f'; do
	n=$(grep -c "$want" /tmp/ev.out)
	check "$n records have $want" [ "$n" -eq $K ]
done
check "lost: 0 ($(cat /tmp/ev.err))" grep -qx 'lost: 0' /tmp/ev.err
sed 's/^/    /' /tmp/ev.out
status_settled /tmp/status 5
dropped=$(status_field dropped /tmp/status)
check "the program dropped $dropped packets: as many as records" [ "$dropped" -eq "$records" ]
line=$(grep '^events:' /tmp/status)
check "/proc/kwasm: $line" [ "$line" = "events: size=65536 record=12 written=$K dropped=0 reader=0" ]

# A second reader is refused while one has the ring.
timeout 60 kwasmctl events >/tmp/ev2.out 2>&1 &
reader=$!
check "a reader sleeping in read()" wait_for "grep -q '^events:.*reader=1' /proc/kwasm" 10
expect_fail_with EBUSY kwasmctl events --timeout 1

# Unload while it sleeps: it reads the end and exits at once.
start=$(uptime_cs)
expect_ok kwasmctl unload
wait $reader
status=$?
took=$(elapsed_s "$start")
check "the sleeping reader ends with EOF after the unload (status $status, ${took} s)" \
	[ "$status" -eq 0 ]
check "it ended within 10 s (${took} s)" [ "$(($(uptime_cs) - start))" -lt 1000 ]
check "lost: 0 at its end" grep -qx 'lost: 0' /tmp/ev2.out
expect_fail_with ENOENT kwasmctl events --timeout 1

# An open events file pins the module.
load_prog /wasm/drop_events.wasm
timeout 60 kwasmctl events --timeout 50 >/tmp/ev3.out 2>&1 &
reader=$!
check "a reader holds the ring" wait_for "grep -q '^events:.*reader=1' /proc/kwasm" 10
refcnt=$(cat /sys/module/kwasm/refcnt)
check "module refcnt $refcnt with an events file open" [ "$refcnt" -ge 1 ]
if out=$(rmmod kwasm 2>&1); then
	fail "rmmod succeeded with an events file open"
	module_load
else
	pass "rmmod refused with an events file open: $out"
fi
check "the module is still there" [ -c /dev/kwasm ]
expect_ok kwasmctl unload
wait $reader
check "the detached reader's file is closed: refcnt 0" \
	wait_for '[ "$(cat /sys/module/kwasm/refcnt)" -eq 0 ]' 5
check_alloc_zero "after unload and the reader's close"
expect_ok rmmod kwasm
finish
