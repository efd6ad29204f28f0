#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's linux-source-6.12 (the source of the 6.12 kernel the VM tests
# boot): the one place that fetches it. Downloaded with apt-get download,
# never installed.
#
#   scripts/linux-source.sh   -> prints a tree holding the parts user-space
#                                builds take from it: tools/ (libbpf and the
#                                uapi headers it installs, tools/include) and
#                                scripts/ (bpf_doc.py, which libbpf's build
#                                runs, and checkpatch.pl); unpacked once per
#                                source package version and cached per user
#   scripts/linux-source.sh version
#                             -> prints the version apt would fetch
#   scripts/linux-source.sh unpack VERSION DIR
#                             -> unpacks that version's whole tree into DIR
#                                (which must not exist), uncached: for
#                                scripts/debug-kernel.sh, which builds in it
#
# The cache is KWASM_KERNEL_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/kwasm/kernels),
# the one the debug kernel uses.
set -euo pipefail

cache=${KWASM_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kwasm/kernels}
srcpkg=linux-source-6.12

die() { echo "linux-source: $*" >&2; exit 1; }
usage() { die "usage: $0 [version | unpack VERSION DIR]"; }

candidate() {
	local version
	version=$(apt-cache policy "$srcpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$version" ] && [ "$version" != "(none)" ] ||
		die "no candidate for $srcpkg (run 'apt-get update' first?)"
	echo "$version"
}

# unpack VERSION DEST [PATTERN...]: the tree of $srcpkg=VERSION, only its
# members matching the patterns if any are given, as DEST. The package is
# downloaded next to DEST (it is large) and removed afterwards.
unpack() {
	local version=$1 dest=$2 work=$2.fetch deb
	shift 2
	[ ! -e "$dest" ] || die "$dest exists"
	rm -rf "$work"
	mkdir -p "$work/deb"
	echo "linux-source: fetching $srcpkg $version into $dest" >&2
	(cd "$work/deb" && apt-get download "$srcpkg=$version" >/dev/null 2>"$work/err") ||
		die "apt-get download $srcpkg=$version failed: $(cat "$work/err")"
	deb=$(find "$work/deb" -name '*.deb' | head -n1)
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$work" --wildcards "$@"
	mv "$work"/linux-source-* "$dest"
	rm -rf "$work"
}

case ${1:-} in
version)
	[ $# -eq 1 ] || usage
	candidate
	exit 0
	;;
unpack)
	[ $# -eq 3 ] || usage
	unpack "$2" "$3"
	exit 0
	;;
'') ;;
*) usage ;;
esac

version=$(candidate)
dir=$cache/linux-source-$version

# The version file, written last, marks a finished unpacking.
fetch() {
	rm -rf "$dir"
	mkdir -p "$dir"
	unpack "$version" "$dir/src" '*/tools/*' '*/scripts/*'
	echo "$srcpkg $version" >"$dir/version"
}

mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
[ -f "$dir/version" ] || fetch
flock -u 9
echo "$dir/src"
