#!/bin/sh
# Network namespaces: each has its own programs. A program loaded in
# namespace A (kwasmctl --netns PID) drops traffic there while the same
# traffic in namespace B and in the initial namespace passes; /proc/kwasm
# and kwasmctl show in A show A's programs only. A namespace that goes away
# takes its programs with it: the allocation counters come back to what
# they were before, also when it goes under a flood. Root in a user
# namespace of its own (CAP_NET_ADMIN there only) cannot load: EPERM.
. /lib.sh

module_load || fail "module loads"
port=23558

# new_netns <name>: a network namespace with lo up and a UDP echo server,
# held by a sleeping process whose PID goes to /tmp/<name>.pid.
new_netns() {
	unshare -n sh -c "
		ip link set lo up
		nettool udp-echo-server 127.0.0.1:$port &
		echo \$\$ >/tmp/$1.pid
		exec sleep 100000" &
	wait_for "[ -s /tmp/$1.pid ] && nsenter -t \$(cat /tmp/$1.pid) -n nettool udp-echo 127.0.0.1:$port --timeout-ms 500" 20
}
in_ns() { # in_ns <name> <command...>
	_pid=$(cat "/tmp/$1.pid")
	shift
	nsenter -t "$_pid" -n "$@"
}
del_netns() { # del_netns <name>: end every process in it
	_ns=$(readlink "/proc/$(cat "/tmp/$1.pid")/ns/net")
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/ns/net" 2>/dev/null)" = "$_ns" ] && kill "${_p#/proc/}" 2>/dev/null
	done
	rm -f "/tmp/$1.pid"
}

expect_ok nettool udp-echo-server 127.0.0.1:$port --daemon
check "namespace A comes up" new_netns a
check "namespace B comes up" new_netns b
a=$(cat /tmp/a.pid)

# Baseline: a program in the initial namespace, which stays all along.
load_prog /wasm/accept_all.wasm --name init_prog
base_blocks=$(status_field alloc_blocks)
base_bytes=$(status_field alloc_bytes)

expect_ok kwasmctl --netns "$a" load /wasm/udp_drop_port.wasm --name a_drop
check "A's UDP to $port is dropped" sh -c \
	"! nsenter -t $a -n nettool udp-echo 127.0.0.1:$port --timeout-ms 1000"
check "B's passes" in_ns b nettool udp-echo 127.0.0.1:$port --timeout-ms 2000
udp_passes $port
check "the initial namespace shows its own program only" \
	[ "$(status_field programs):$(status_field program)" = 1:init_prog ]
check "A's /proc/kwasm shows A's program only" \
	[ "$(in_ns a cat /proc/kwasm | sed -n 's/^program: //p')" = a_drop ]
check "A's program dropped there ($(in_ns a cat /proc/kwasm | sed -n 's/^dropped: //p'))" \
	[ "$(in_ns a cat /proc/kwasm | sed -n 's/^dropped: //p')" -gt 0 ]
check "B has none" [ "$(in_ns b cat /proc/kwasm | sed -n 's/^programs: //p')" = 0 ]
check "kwasmctl --netns shows A's" sh -c \
	"kwasmctl --netns $a show --json | grep -q '\"name\": *\"a_drop\"'"
check "kwasmctl show here does not" sh -c \
	"! kwasmctl show --json | grep -q a_drop"
expect_fail_naming ENOENT "no program named a_drop" kwasmctl unload a_drop
# Names are per namespace: the same name in B is another program.
expect_ok kwasmctl --netns "$(cat /tmp/b.pid)" load /wasm/accept_all.wasm --name a_drop
check "B's a_drop accepts" in_ns b nettool udp-echo 127.0.0.1:$port --timeout-ms 2000

# A goes away: its program with it.
del_netns a
expect_ok kwasmctl --netns "$(cat /tmp/b.pid)" unload a_drop
check "alloc counters back to the baseline once A is gone ($base_blocks blocks, $base_bytes bytes)" \
	wait_for "[ \"\$(status_field alloc_blocks):\$(status_field alloc_bytes)\" = $base_blocks:$base_bytes ]" 30

# The same under a flood in the namespace, its program dropping.
check "namespace C comes up" new_netns c
c=$(cat /tmp/c.pid)
expect_ok kwasmctl --netns "$c" load /wasm/udp_drop_port.wasm --name c_drop
nsenter -t "$c" -n nettool flood 127.0.0.1:$port --udp >/dev/null 2>&1 &
flood=$!
check "C's program sees the flood" \
	wait_for "[ \"\$(nsenter -t $c -n cat /proc/kwasm | sed -n 's/^runs: //p')\" -gt 1000 ]" 30
del_netns c
wait $flood 2>/dev/null
check "C's program is freed with C under the flood" \
	wait_for "[ \"\$(status_field alloc_blocks):\$(status_field alloc_bytes)\" = $base_blocks:$base_bytes ]" 30
udp_passes $port

# Root of a user namespace of its own: no CAP_NET_ADMIN where it counts.
expect_fail_with EPERM unshare -U -r -n kwasmctl load /wasm/accept_all.wasm --name userns
check "nothing was loaded" [ "$(status_field programs)" = 1 ]

del_netns b
expect_ok kwasmctl unload init_prog
check_alloc_zero "at the end"
expect_ok rmmod kwasm
check "no leak reported" sh -c '! dmesg | grep -q "kwasm: leak"'
finish
