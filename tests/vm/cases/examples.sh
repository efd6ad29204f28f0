#!/bin/sh
# The examples no other case runs: rust_drop_port (Rust SDK: drops TCP and
# UDP to port 23557 and logs the drops), drop_icmp (WebAssembly text:
# drops ICMP), the latter both as built and loaded from its source, and
# drop_port built for both packet record versions.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
expect_ok nettool tcp-echo-server 127.0.0.1:23559 --daemon
expect_ok nettool udp-echo-server 127.0.0.1:23557 --daemon
expect_ok nettool udp-echo-server 127.0.0.1:23559 --daemon

ping_passes() {
	expect_ok ping -c 1 -W 1 127.0.0.1
}

ping_blocked() {
	if _out=$(ping -c 1 -W 1 127.0.0.1 2>&1); then
		fail "ping 127.0.0.1 is blocked, but:"
		printf '%s\n' "$_out" | sed 's/^/    /'
	else
		pass "ping 127.0.0.1 is blocked"
	fi
}

# rust_drop_port: verdicts, then real traffic and its log lines.
rust=/wasm/rust_drop_port.wasm
dmesg -c >/dev/null
expect_verdict drop --prog $rust --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
expect_verdict drop --prog $rust --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
expect_verdict accept --prog $rust --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23559
expect_verdict accept --prog $rust --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:80
expect_verdict accept --prog $rust --proto icmp --src 10.0.0.1 --dst 127.0.0.1
# A test run of a given program logs under the name "test-run".
expect_dmesg 'kwasm: test-run: drop #1: tcp 10\.0\.0\.1:40000 -> 127\.0\.0\.1:23557' \
	"rust_drop_port logs its first drop"

load_prog $rust --name rust_drop_port
tcp_blocked 23557
expect_dmesg 'kwasm: rust_drop_port: drop #1: tcp 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:23557' \
	"rust_drop_port logs the first real drop"
udp_blocked 23557
tcp_passes 23559
udp_passes 23559
ping_passes
dropped=$(status_field dropped)
check "dropped counter counts the drops (is $dropped)" [ "${dropped:-0}" -gt 1 ]
expect_ok kwasmctl unload
tcp_passes 23557
udp_passes 23557

# drop_port reads the parsed ports of record version 2; drop_port_v1 parses
# the header itself from a version-1 record. Same verdicts, also for a later
# fragment (no ports) and a header the snap length cuts short (version 2
# still has the ports the kernel parsed; version 1 cannot see them).
for prog in /wasm/drop_port.wasm /wasm/drop_port_v1.wasm; do
	expect_verdict drop --prog $prog --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
	expect_verdict accept --prog $prog --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23559
	expect_verdict accept --prog $prog --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
	expect_verdict accept --prog $prog --proto icmp --src 10.0.0.1 --dst 127.0.0.1
done
expect_verdict drop --prog /wasm/drop_port.wasm --snaplen 20 --proto tcp \
	--src 10.0.0.1:40000 --dst 127.0.0.1:23557
expect_verdict accept --prog /wasm/drop_port_v1.wasm --snaplen 20 --proto tcp \
	--src 10.0.0.1:40000 --dst 127.0.0.1:23557
load_prog /wasm/drop_port.wasm
tcp_blocked 23557
tcp_passes 23559
expect_ok kwasmctl unload

# drop_icmp, built by wat2wasm and straight from its text.
ping_passes
for prog in /wasm/drop_icmp.wasm /wasm/drop_icmp.wat; do
	expect_verdict drop --prog $prog --proto icmp --src 10.0.0.1 --dst 127.0.0.1
	expect_verdict accept --prog $prog --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
	expect_verdict accept --prog $prog --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:23557

	load_prog $prog --name drop_icmp
	check "status names drop_icmp" [ "$(status_field program)" = drop_icmp ]
	ping_blocked
	tcp_passes 23557
	udp_passes 23557
	dropped=$(status_field dropped)
	check "dropped counter counts the echo request (is $dropped)" [ "${dropped:-0}" -gt 0 ]
	expect_ok kwasmctl unload
	ping_passes
done
finish
