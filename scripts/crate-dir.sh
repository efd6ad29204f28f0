#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print where cargo unpacked a crates.io package pinned in Cargo.lock
# (cargo fetches it if needed). For the packages kwasm takes files from but
# never compiles: wasm3's C sources, the WebAssembly spec tests.
#
#   scripts/crate-dir.sh <name>-<version>
set -euo pipefail

[ $# -eq 1 ] || { sed -n '7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
package=$1
top=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-/usr/bin/cargo}

manifest=$("$cargo" metadata --format-version 1 --manifest-path "$top/Cargo.toml" |
	grep -o "\"manifest_path\":\"[^\"]*/$package/Cargo.toml\"" | head -n 1 |
	sed -e 's/^"manifest_path":"//' -e 's/"$//') || true
if [ -z "$manifest" ]; then
	echo "crate-dir: $package not found by cargo metadata (is it in Cargo.lock?)" >&2
	exit 1
fi
echo "${manifest%/Cargo.toml}"
