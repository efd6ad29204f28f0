#!/usr/bin/env bash
# Print the directory of wasm3's C sources: wasm3/source inside the crates.io
# package wasm3x-sys pinned in Cargo.lock.
#
#   scripts/wasm3-src.sh
set -euo pipefail

package=wasm3x-sys-0.2.1
src=$("$(dirname "$0")/crate-dir.sh" "$package")/wasm3/source
if [ ! -f "$src/wasm3.h" ]; then
	echo "wasm3-src: no wasm3.h in $src ($package)" >&2
	exit 1
fi
echo "$src"
