#!/bin/sh
# Verdicts on crafted packets through kwasmctl test-run, for a given program
# and for the loaded one.
. /lib.sh

module_load || fail "module loads"
drop=/wasm/drop_port.wasm
udp=/wasm/udp_drop_port.wasm

expect_verdict drop --prog $drop --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
expect_verdict accept --prog $drop --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:80
expect_verdict accept --prog $drop --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:23557
expect_verdict accept --prog $drop --proto icmp --src 10.0.0.1 --dst 127.0.0.1
expect_verdict drop --prog $udp --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:23558
expect_verdict accept --prog $udp --proto udp --src 10.0.0.1:40000 --dst 127.0.0.1:23559
expect_verdict accept --prog $udp --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23558
expect_verdict accept --prog /wasm/accept_all.wasm --proto icmp --src 10.0.0.1 --dst 127.0.0.1
expect_verdict drop --prog /wasm/orig_drop_port.wasm --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:23557
expect_verdict accept --prog /wasm/orig_drop_port.wasm --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:80

# Without --prog the loaded program runs; repeat runs it many times.
load_prog $drop
expect_verdict drop --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:23557 --repeat 1000
expect_verdict accept --proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:443
check "--json prints a verdict" sh -c \
	'kwasmctl test-run --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:23557 --json | grep -q "\"verdict\":\"drop\""'
# A reader that goes away (grep -q, head) ends kwasmctl quietly, no panic.
kwasmctl test-run --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:23557 \
	--repeat 1000 2>/tmp/pipe.err | true
check "a closed output pipe ends kwasmctl without a panic" \
	sh -c '! grep -q panicked /tmp/pipe.err'
finish
