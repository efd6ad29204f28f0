#!/usr/bin/env bash
# Print the directory of wasm3's C sources: wasm3/source inside the crates.io
# package wasm3x-sys pinned in Cargo.lock (cargo fetches it if needed).
#
#   scripts/wasm3-src.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-/usr/bin/cargo}
package=wasm3x-sys-0.2.1

manifest=$("$cargo" metadata --format-version 1 --manifest-path "$top/Cargo.toml" |
	grep -o "\"manifest_path\":\"[^\"]*/$package/Cargo.toml\"" | head -n 1 |
	sed -e 's/^"manifest_path":"//' -e 's/"$//') || true
src=${manifest%/Cargo.toml}/wasm3/source
if [ -z "$manifest" ] || [ ! -f "$src/wasm3.h" ]; then
	echo "wasm3-src: $package not found by cargo metadata (is it in Cargo.lock?)" >&2
	exit 1
fi
echo "$src"
