#!/bin/sh
# log_every_n writes its lines to the kernel log through kwasm.log.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool udp-echo-server 127.0.0.1:23559 --daemon
load_prog /wasm/log_every_n.wasm --name log_every_n
expect_ok nettool flood 127.0.0.1:23559 --udp --count 5000
expect_dmesg 'kwasm: log_every_n: #[0-9]+ udp 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+' \
	"log_every_n logs the flood to dmesg"
runs=$(status_field runs)
check "runs counted the flood (runs $runs)" [ "${runs:-0}" -ge 5000 ]
finish
