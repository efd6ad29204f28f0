#!/bin/sh
# Every kind of bad upload fails with the right errno and a reason, and the
# program that was running keeps running.
. /lib.sh

module_load || fail "module loads"
expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
load_prog /wasm/drop_port.wasm --name keeper
tcp_blocked 23557

wasm_header() { printf '\000asm\001\000\000\000'; }
: >/tmp/empty.wasm
head -c 4096 /dev/urandom >/tmp/random.bin
# Past kwasmctl's own checks (it reads files without the magic as text).
{ wasm_header; cat /tmp/random.bin; } >/tmp/garbage.wasm
head -c $(($(stat -c %s /wasm/accept_all.wasm) / 2)) /wasm/accept_all.wasm >/tmp/truncated.wasm
{ wasm_header; head -c $((5 << 20)) /dev/zero; } >/tmp/oversized.wasm

# kwasmctl refuses an empty file itself (usage error), the kernel the rest.
expect_status 2 kwasmctl load /tmp/empty.wasm
expect_fail_with EINVAL kwasmctl load /tmp/garbage.wasm
expect_fail_with EINVAL kwasmctl load /tmp/truncated.wasm
expect_fail_with EINVAL kwasmctl load /fixtures/float.wat
expect_fail_with EINVAL kwasmctl load /fixtures/no_filter.wat
expect_fail_with ENOENT kwasmctl load /fixtures/unknown_import.wat
expect_fail_with EFBIG kwasmctl load /tmp/oversized.wasm

# A bad kwasm.record section (an unknown version, the section twice, the
# section in an original-ABI program): EINVAL, with a reason naming the
# section. Without the section each is a program that accepts everything
# (a test-run, which leaves keeper in place); keeper stays and still drops.
for prog in record_v9 record_twice record_original_abi; do
	expect_fail_naming EINVAL "custom section kwasm.record" \
		kwasmctl load /fixtures/$prog.wat
	sed '/@custom "kwasm.record"/d' /fixtures/$prog.wat >/tmp/$prog-unmarked.wat
	expect_verdict accept --prog /tmp/$prog-unmarked.wat --proto tcp \
		--src 10.0.0.1:1 --dst 127.0.0.1:23557
done
check "keeper is still loaded after the bad kwasm.record sections" \
	[ "$(status_field program)" = keeper ]
expect_verdict drop --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:23557
tcp_blocked 23557

# Bad kwasm.maps sections (docs/ABI.md, "Maps (declarations)"): the errno
# and a reason naming the map, or the section; keeper stays. The same
# fixtures are checked on the host (core/tests/maps.rs). A good declaration
# passes a test-run.
expect_fail_naming EINVAL "map blocked: unknown kind 7" \
	kwasmctl load /fixtures/maps_bad_kind.wat
expect_fail_naming EINVAL "map counters: id 0 is map blocked's too" \
	kwasmctl load /fixtures/maps_same_id.wat
expect_fail_naming E2BIG "map flows: 2097152 entries; the limit is 1048576" \
	kwasmctl load /fixtures/maps_too_many_entries.wat
expect_fail_naming EINVAL "map counters: value format" \
	kwasmctl load /fixtures/maps_bad_format.wat
for prog in maps_bad_length maps_original_abi; do
	expect_fail_naming EINVAL "custom section kwasm.maps" \
		kwasmctl load /fixtures/$prog.wat
done
expect_verdict accept --prog /fixtures/maps_ok.wat --proto tcp \
	--src 10.0.0.1:1 --dst 127.0.0.1:23557
check "keeper is still loaded after the bad kwasm.maps sections" \
	[ "$(status_field program)" = keeper ]
check "keeper has no maps" [ "$(status_field maps)" = 0 ]
expect_verdict drop --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:23557

# Through write() the load happens at close: the reason goes to the kernel
# log and to last_load in /proc/kwasm; only an oversized write fails itself.
last_load_failed() {
	case $(status_field last_load) in
	"write: error $1: "*) pass "cat $2 >/dev/kwasm: $(status_field last_load)" ;;
	*) fail "cat $2 >/dev/kwasm: last_load is '$(status_field last_load)'" ;;
	esac
}
dmesg -c >/dev/null
cat /tmp/random.bin >/dev/kwasm
last_load_failed -22 /tmp/random.bin
expect_dmesg 'kwasm: load of write failed \(-22\): .+' "a failed write() logs its reason"
cat /tmp/truncated.wasm >/dev/kwasm
last_load_failed -22 /tmp/truncated.wasm
expect_fail_with EFBIG sh -c 'cat /tmp/oversized.wasm >/dev/kwasm'
last_load_failed -27 /tmp/oversized.wasm
cat /tmp/empty.wasm >/dev/kwasm
check "an empty write() loads nothing" [ "$(status_field program)" = keeper ]

check "status still names keeper" [ "$(status_field program)" = keeper ]
tcp_blocked 23557
finish
