#!/bin/sh
# The original project's test, with its original-ABI programs: a TCP echo on
# 127.0.0.1:23557 connects under accept-all and times out under drop-port.
. /lib.sh

runs_as_original_abi() {
	check "orig_drop_port is loaded" loaded_is /wasm/orig_drop_port.wasm
	check "status says abi: original" [ "$(status_field abi)" = original ]
}

module_load || fail "module loads"
original_scenario /wasm/orig_accept_all.wasm /wasm/orig_drop_port.wasm runs_as_original_abi
finish
