#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The parts of Debian's linux-source-6.12 (the source of the 6.12 kernel the
# VM tests boot) that user-space builds take from it: tools/ (libbpf and the
# uapi headers it installs, tools/include) and scripts/ (bpf_doc.py, which
# libbpf's build runs, and checkpatch.pl). Downloaded with apt-get download,
# as scripts/debug-kernel.sh does, never installed; unpacked once per source
# package version and cached per user.
#
#   scripts/linux-source.sh   -> prints the unpacked tree
#
# The cache is KWASM_KERNEL_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/kwasm/kernels),
# the one the debug kernel uses.
set -euo pipefail

cache=${KWASM_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kwasm/kernels}
srcpkg=linux-source-6.12

die() { echo "linux-source: $*" >&2; exit 1; }

version=$(apt-cache policy "$srcpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$version" ] && [ "$version" != "(none)" ] ||
	die "no candidate for $srcpkg (run 'apt-get update' first?)"
dir=$cache/linux-source-$version

# The version file, written last, marks a finished unpacking.
fetch() {
	local deb
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	echo "linux-source: fetching $srcpkg $version into $dir" >&2
	(cd "$dir/deb" && apt-get download "$srcpkg=$version" >/dev/null 2>"$dir/err") ||
		die "apt-get download $srcpkg=$version failed: $(cat "$dir/err")"
	deb=$(find "$dir/deb" -name '*.deb' | head -n1)
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$dir" --wildcards '*/tools/*' '*/scripts/*'
	rm -rf "$dir/deb" "$dir/err"
	mv "$dir"/linux-source-* "$dir/src"
	echo "$srcpkg $version" >"$dir/version"
}

mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
[ -f "$dir/version" ] || fetch
flock -u 9
echo "$dir/src"
