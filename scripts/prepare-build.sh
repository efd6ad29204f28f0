#!/usr/bin/env bash
# Lay out a Kbuild directory for one kernel: the top-level Kbuild and
# symlinks to the shim's, the compat layer's and wasm3's C files, so that
# objects for different kernels never share a directory and wasm3's
# sources are compiled where cargo unpacked them, unmodified.
#
#   scripts/prepare-build.sh <build dir> <wasm3 source dir>
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR WASM3_SRC}
wasm3=${2:?usage: $0 BUILD_DIR WASM3_SRC}
top=$(cd "$(dirname "$0")/.." && pwd)

[ -f "$wasm3/wasm3.h" ] || { echo "prepare-build: no wasm3 sources in '$wasm3'" >&2; exit 1; }

mkdir -p "$build"/{shim,core,wasm3,wasm3-kernel}
cp "$top/Kbuild" "$build/Kbuild"
link_all() { # <dest> <files...>
	local dest=$1 f
	shift
	find "$dest" -maxdepth 1 -type l -delete
	for f in "$@"; do
		[ -e "$f" ] && ln -sf "$f" "$dest/"
	done
	return 0
}
link_all "$build/shim" "$top"/shim/*.c
link_all "$build/wasm3-kernel" "$top"/wasm3-kernel/*.c
link_all "$build/wasm3" "$wasm3"/*.c
