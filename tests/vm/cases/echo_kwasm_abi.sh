#!/bin/sh
# The original project's test with kwasm-ABI programs: a TCP echo on
# 127.0.0.1:23557 connects under accept-all and times out under drop-port.
. /lib.sh

dropped_counts_syns() {
	dropped=$(status_field dropped)
	check "dropped counter counts the SYNs (is $dropped)" [ "${dropped:-0}" -gt 0 ]
}

module_load || fail "module loads"
original_scenario /wasm/accept_all.wasm /wasm/drop_port.wasm dropped_counts_syns
finish
