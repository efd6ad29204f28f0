#!/bin/sh
# Several named programs on one hook: the order of their priorities is
# observable (the first drops, the second never sees the packet; then the
# reverse), replacing one leaves the other's counters running, unload by
# name leaves the other. Priority names map to the documented numbers and
# the kernel's first and last are refused with a reason. A namespace holds
# at most 64 programs. Run-time stats count while switched on. Allocation
# counters back to zero at the end.
. /lib.sh

module_load || fail "module loads"
port=23558
# Silent: an echo would come back as packets from 127.0.0.1 and count.
expect_ok nettool udp-echo-server 127.0.0.1:$port --daemon --silent

send() { # send <count>: datagrams from 127.0.0.2 to the port, all sent
	_out=$(nettool flood 127.0.0.1:$port --udp --src 127.0.0.2 --count "$1" --size 64 2>&1)
	case $_out in
	*"sent $1 packets, 0 errors"*) pass "sent $1 from 127.0.0.2" ;;
	*) fail "flood: $_out" ;;
	esac
}
counted() { # counted <n>: the counters program saw n packets from 127.0.0.2
	wait_for "kwasmctl map lookup --prog counters by_src 127.0.0.2 2>/dev/null | grep -qx 'packets=$1,bytes=[0-9]*'" 5
}
dropped_is() { # dropped_is <program> <n>
	wait_for "[ \"\$(prog_field $1 dropped)\" = $2 ]" 5
}

# The dropper first (-10), the counter after (10): the counter never sees
# the dropped datagrams.
load_prog /wasm/udp_drop_port.wasm --name dropper --priority -10
load_prog /wasm/src_counters.wasm --name counters --priority 10
check "two programs are loaded" [ "$(status_field programs)" = 2 ]
send 20
check "the dropper dropped 20" dropped_is dropper 20
if kwasmctl map lookup --prog counters by_src 127.0.0.2 >/tmp/lookup.out 2>&1; then
	fail "the counter saw packets the dropper dropped: $(cat /tmp/lookup.out)"
else
	pass "the counter never saw them: $(cat /tmp/lookup.out)"
fi

# The reverse: the counter first (-20), then the dropper. Replacing the
# dropper (same name) keeps its name and gives a new id.
dropper_id=$(prog_field dropper id)
load_prog /wasm/udp_drop_port.wasm --name dropper --priority 20
check "the dropper was replaced (id $dropper_id -> $(prog_field dropper id))" \
	[ "$(prog_field dropper id)" -gt "$dropper_id" ]
counters_id=$(prog_field counters id)
load_prog /wasm/src_counters.wasm --name counters --priority -20
send 10
check "the counter, first now, saw 10" counted 10
check "the replaced dropper dropped 10 (its counters are its own)" dropped_is dropper 10

# Replacing the dropper leaves the counter running: its maps, id and
# counters go on.
counters_id=$(prog_field counters id)
runs=$(prog_field counters runs)
load_prog /wasm/udp_drop_port.wasm --name dropper --priority 30
check "the counter kept its id ($counters_id)" [ "$(prog_field counters id)" = "$counters_id" ]
check "and its runs ($runs -> $(prog_field counters runs))" \
	[ "$(prog_field counters runs)" -ge "$runs" ]
send 5
check "and counts on: 15" counted 15

# Unload by name: the other stays.
expect_ok kwasmctl unload dropper
check "one program is left" [ "$(status_field programs)" = 1 ]
check "it is the counter" [ "$(status_field program)" = counters ]
expect_fail_naming ENOENT "no program named dropper" kwasmctl unload dropper
send 5
check "the counter counts on alone: 20" counted 20

# Run-time stats: counted only while switched on.
check "stats are off by default" [ "$(cat /sys/module/kwasm/parameters/stats_enabled)" = 0 ]
check "no run time while off" [ "$(prog_field counters run_count)" = 0 ]
echo 1 >/sys/module/kwasm/parameters/stats_enabled
send 10
check "run_count counts while on" wait_for '[ "$(prog_field counters run_count)" -ge 10 ]' 5
check "run_time_ns too ($(prog_field counters run_time_ns))" \
	[ "$(prog_field counters run_time_ns)" -gt 0 ]
echo 0 >/sys/module/kwasm/parameters/stats_enabled
count=$(prog_field counters run_count)
send 10
check "the counter saw those 10 too" counted 40
check "run_count stays at $count while off" [ "$(prog_field counters run_count)" = "$count" ]
expect_ok kwasmctl unload counters

# Priorities by name, as nftables names them.
prio_is() { # prio_is <option> <hook> <number>
	expect_ok kwasmctl load /wasm/accept_all.wasm --name prio --hook "$2" --priority "$1"
	check "priority $1 at $2 is $3 ($(prog_field prio priority))" \
		[ "$(prog_field prio priority)" = "$3" ]
}
prio_is raw pre-routing -300
prio_is conntrack pre-routing -200
prio_is mangle pre-routing -150
prio_is dstnat pre-routing -100
prio_is filter pre-routing 0
prio_is security local-in 50
prio_is srcnat post-routing 100
prio_is nat pre-routing -100
prio_is nat post-routing 100
prio_is filter+10 forward 10
prio_is raw-5 local-out -305
expect_ok kwasmctl load /wasm/accept_all.wasm --name default --hook forward
check "the default priority is filter (0)" [ "$(prog_field default priority)" = 0 ]
expect_fail_naming EINVAL "priority -2147483648 is reserved for the kernel" \
	kwasmctl load /wasm/accept_all.wasm --name first --priority -2147483648
expect_fail_naming EINVAL "priority 2147483647 is reserved for the kernel" \
	kwasmctl load /wasm/accept_all.wasm --name last --priority 2147483647
check "the refused ones are not loaded" [ "$(status_field programs)" = 2 ]
expect_ok kwasmctl unload --all
check "unload --all leaves none" [ "$(status_field programs)" = 0 ]
check_alloc_zero "after unload --all"

# 64 programs per namespace, at the forward hook (no traffic there).
i=1
while [ $i -le 64 ]; do
	kwasmctl load /wasm/accept_all.wasm --name "p$i" --hook forward >/dev/null 2>&1 || break
	i=$((i + 1))
done
check "64 programs load ($((i - 1)))" [ $i -eq 65 ]
check "status counts 64" [ "$(status_field programs)" = 64 ]
expect_fail_naming ENOSPC "64 programs are loaded in this network namespace" \
	kwasmctl load /wasm/accept_all.wasm --name p65 --hook forward
check "replacing one at the limit works" \
	kwasmctl load /wasm/drop_port.wasm --name p1 --hook forward
check "show lists 64" [ "$(kwasmctl show --json | grep -o '"name":' | wc -l)" = 64 ]
expect_ok kwasmctl unload --all
check_alloc_zero "after 64 programs"
expect_fail_naming ENOENT "nothing is loaded" kwasmctl unload
expect_ok rmmod kwasm
finish
