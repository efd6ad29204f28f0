#!/bin/sh
# Maps at their limits (tests/vm/fixtures/maps_limits.wat, maps_fuel.wat):
# the largest key (64 bytes) and value (4096 bytes) round trip through
# kwasmctl; a full hash map refuses with ENOSPC from user space and from
# the program, and counts it; an events ring nobody reads drops records
# under a flood while memory stays flat; a program that inserts until its
# fuel runs out traps out_of_fuel and leaves its map whole; unload and
# rmmod with full maps bring the allocation counters back to zero.
. /lib.sh

module_load || fail "module loads"
port=23564
expect_ok nettool udp-echo-server 127.0.0.1:$port --daemon
load_prog /fixtures/maps_limits.wat --name limits

rep() { # rep <text> <n>: text n times
	_i=0
	_s=
	while [ $_i -lt "$2" ]; do _s=$_s$1; _i=$((_i + 1)); done
	printf '%s' "$_s"
}
key1=$(rep ab 64)
value=$(rep cd 4096)
expect_ok kwasmctl map update big "hex:$key1" "hex:$value"
kwasmctl map lookup big "hex:$key1" --json >/tmp/big.json
check "a 4096-byte value round trips under a 64-byte key" grep -q "$value" /tmp/big.json
check "the whole value, no more" sh -c \
	"[ \$(grep -o 'cd[cd]*' /tmp/big.json | awk '{ print length }' | sort -n | tail -1) -eq 8192 ]"

# Fill it (4 entries): the fifth key is refused and counted.
for k in 01 02 03; do
	expect_ok kwasmctl map update big "hex:$(rep $k 64)" "hex:$value"
done
expect_fail_naming ENOSPC "full" kwasmctl map update big "hex:$(rep 04 64)" "hex:$value"
check "/proc/kwasm: big has 4 entries, 1 refused" \
	grep -q '^map.big: hash key=64 value=4096 max=4 entries=4 .*full=1' /proc/kwasm

# The program's own update is refused too: it records -28 (ENOSPC).
udp_passes $port
check "the program's update got ENOSPC" sh -c \
	'[ "$(kwasmctl map lookup last 0)" = -28 ]'
check "the full figure counts the program's refusals too" \
	grep -q '^map.big: .*full=[2-9]' /proc/kwasm
# A delete makes room: the program's next update succeeds.
expect_ok kwasmctl map delete big "hex:$key1"
udp_passes $port
check "after a delete the program's update succeeds" sh -c \
	'[ "$(kwasmctl map lookup last 0)" = 0 ]'

# The events ring (4096 bytes) with no reader: a flood fills it, then every
# record is dropped and counted; memory does not grow.
mem_before=$(status_field alloc_bytes)
expect_ok nettool flood 127.0.0.1:$port --udp --seconds 2
line=$(grep '^events:' /proc/kwasm)
written=$(echo "$line" | sed -n 's/.*written=\([0-9]*\).*/\1/p')
dropped=$(echo "$line" | sed -n 's/.*dropped=\([0-9]*\).*/\1/p')
check "the unread ring filled: $line" [ "$written" -le 42 ]
check "and dropped the rest ($dropped)" [ "$dropped" -gt 100 ]
check "allocation unchanged by the flood ($mem_before, $(status_field alloc_bytes))" \
	[ "$(status_field alloc_bytes)" = "$mem_before" ]

# Every map operation in a loop until out of fuel: a trap, the maps whole
# and readable.
# One test-run of the attached program (no traffic meanwhile: one instance
# runs at a time, so its read-backs cannot meet another's writes).
load_prog /fixtures/maps_fuel.wat --name limits --fresh-maps
check "a test-run ends out of fuel" sh -c \
	'kwasmctl test-run --proto udp --src 10.0.0.1:53 --dst 10.0.0.2:5353 --json | grep -q "out_of_fuel"'
check "the program ran out of fuel" counter_above trap.out_of_fuel 0
check "and never read back a wrong value (no other trap)" \
	[ "$(status_field trap.unreachable)" = 0 ]
entries=$(sed -n 's/^map.many: .* entries=\([0-9]*\) .*/\1/p' /proc/kwasm)
check "the hash map kept the even keys ($entries)" [ "${entries:-0}" -gt 50 ]
dumped=$(kwasmctl map dump many | wc -l)
check "a dump lists them all ($dumped, at least $entries)" [ "$dumped" -ge "$entries" ]
check "key 2 holds 3 (inserted as 2, added 1)" sh -c '[ "$(kwasmctl map lookup many 2)" = 3 ]'
expect_fail_naming ENOENT "no such key" kwasmctl map lookup many 1
check "the per-CPU counter sums the iterations" sh -c \
	'kwasmctl map lookup pc 0 | grep -q "sum=[1-9]"'
check "the unread ring dropped events" grep -q '^events: .*dropped=[1-9]' /proc/kwasm

# Unload and rmmod with full maps.
expect_ok kwasmctl unload
check_alloc_zero "after unload with full maps"
expect_ok rmmod kwasm
finish
