#!/bin/sh
# Programs load with a plain write: cat prog.wasm > /dev/kwasm.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon

check "cat accept_all.wasm > /dev/kwasm" sh -c 'cat /wasm/accept_all.wasm >/dev/kwasm'
check "status names the program \"write\"" [ "$(status_field program)" = write ]
check "last_load says ok" [ "$(status_field last_load)" = "write: ok" ]
tcp_passes 23557
check "cat drop_port.wasm > /dev/kwasm" sh -c 'cat /wasm/drop_port.wasm >/dev/kwasm'
tcp_blocked 23557
check "sha256 in status matches the file" \
	[ "$(status_field sha256)" = "$(sha256sum /wasm/drop_port.wasm | cut -d' ' -f1)" ]

# Writes accumulate until close: 7-byte writes make one program.
check "dd bs=7 accept_all.wasm > /dev/kwasm" \
	dd if=/wasm/accept_all.wasm of=/dev/kwasm bs=7 2>/dev/null
check "sha256 after 7-byte writes matches accept_all" \
	[ "$(status_field sha256)" = "$(sha256sum /wasm/accept_all.wasm | cut -d' ' -f1)" ]
tcp_passes 23557
finish
