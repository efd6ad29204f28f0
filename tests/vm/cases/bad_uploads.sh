#!/bin/sh
# Every kind of bad upload fails with the right errno and a reason, and the
# program that was running keeps running.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
load_prog /wasm/drop_port.wasm --name keeper
tcp_blocked 23557

: >/tmp/empty.wasm
head -c 4096 /dev/urandom >/tmp/garbage.wasm
head -c $(($(stat -c %s /wasm/accept_all.wasm) / 2)) /wasm/accept_all.wasm >/tmp/truncated.wasm
# A valid header followed by 5 MiB of padding: larger than KWASM_MAX_PROG_SIZE.
{ printf '\000asm\001\000\000\000'; head -c $((5 << 20)) /dev/zero; } >/tmp/oversized.wasm

expect_fail_with EINVAL kwasmctl load /tmp/empty.wasm
expect_fail_with EINVAL kwasmctl load /tmp/garbage.wasm
expect_fail_with EINVAL kwasmctl load /tmp/truncated.wasm
expect_fail_with EINVAL kwasmctl load /fixtures/float.wat
expect_fail_with EINVAL kwasmctl load /fixtures/no_filter.wat
expect_fail_with ENOENT kwasmctl load /fixtures/unknown_import.wat
expect_fail_with EFBIG kwasmctl load /tmp/oversized.wasm

# The same through write(): the reason goes to the kernel log.
dmesg -c >/dev/null
expect_fail_with EINVAL sh -c 'cat /tmp/garbage.wasm >/dev/kwasm'
expect_dmesg 'kwasm' "a failed write() logs its reason"
expect_fail_with EFBIG sh -c 'cat /tmp/oversized.wasm >/dev/kwasm'

check "status still names keeper" [ "$(status_field name)" = keeper ]
tcp_blocked 23557
finish
