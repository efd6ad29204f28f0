#!/bin/sh
# Hostile uploads (tests/hostile): truncated examples, malformed LEB128s,
# modules over each load limit, bad data segments, bad exports, trapping
# and endless start functions, failed and garbage write()s. Each fails with
# its errno and a reason naming the problem, and the program loaded before
# is still loaded and filtering. The endless start function needs the fuel
# limit: without it the load never returns and this case times out.
. /lib.sh

module_load || fail "module loads"
if kwasm-hostile corpus /wasm; then
	pass "hostile corpus"
else
	fail "hostile corpus"
fi
finish
