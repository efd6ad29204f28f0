#!/bin/sh
# 20 loads of one name, alternating two programs, while a flood runs
# through the hook: each replaces the last; each program's counters add up.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool udp-echo-server 127.0.0.1:23558 --daemon
nettool flood 127.0.0.1:23558 --udp >/tmp/flood.out 2>&1 &
flood=$!

loads=0
i=0
while [ $i -lt 20 ]; do
	if [ $((i % 2)) -eq 0 ]; then prog=accept_all; else prog=udp_drop_port; fi
	kwasmctl load /wasm/$prog.wasm --name reload && loads=$((loads + 1))
	i=$((i + 1))
done
check "20 loads under traffic succeeded ($loads)" [ $loads -eq 20 ]
check "one program is loaded ($(status_field programs))" [ "$(status_field programs)" = 1 ]
check "it is the last one loaded" \
	[ "$(status_field sha256)" = "$(sha256sum /wasm/udp_drop_port.wasm | cut -d' ' -f1)" ]
check "the last program sees the flood" wait_for "counter_above runs 100" 5
kill $flood
wait $flood
check "the counters settle once the flood stopped" status_settled /tmp/status 10
runs=$(status_field runs /tmp/status)
accepted=$(status_field accepted /tmp/status)
dropped=$(status_field dropped /tmp/status)
check "counters add up: runs $runs = accepted $accepted + dropped $dropped" \
	[ "$runs" -eq $((accepted + dropped)) ]
check "udp_drop_port dropped the flood ($dropped)" [ "$dropped" -gt 0 ]
check "no traps ($(status_field traps))" [ "$(status_field traps)" = 0 ]
check "no invalid verdicts ($(status_field invalid))" [ "$(status_field invalid)" = 0 ]
udp_blocked 23558
expect_ok kwasmctl unload
udp_passes 23558
expect_ok rmmod kwasm
finish
