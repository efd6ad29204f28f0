#!/usr/bin/env bash
# Fetch one of Debian's packaged kernels (headers or image) into a private
# cache, without installing anything system-wide, and print its directory.
#
#   scripts/debian-kernel.sh headers 6.1    -> prints the KDIR to build against
#   scripts/debian-kernel.sh image 6.12     -> prints a directory holding
#                                              vmlinuz, config and lib/modules
#   scripts/debian-kernel.sh image 6.12-rt  -> the same of the PREEMPT_RT flavour
#
# Versioned package names change with every Debian security update, so they
# are resolved through the meta-packages each time the cache is cold.
# KWASM_CACHE (default: <repo>/.cache) holds the result between runs.
set -euo pipefail

what=${1:?usage: $0 headers|image 6.1|6.12|6.12-rt}
kver=${2:?usage: $0 headers|image 6.1|6.12|6.12-rt}
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KWASM_CACHE:-$top/.cache}/debian

case "$kver" in
6.1) suffix=amd64 ;;
6.12) suffix=6.12-amd64 ;;
6.12-rt) suffix=6.12-rt-amd64 ;;
*) echo "unknown Debian kernel '$kver' (use 6.1, 6.12 or 6.12-rt)" >&2; exit 2 ;;
esac

die() { echo "debian-kernel: $*" >&2; exit 1; }

# First Depends: of a package whose name matches a pattern.
dep_of() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \([^<][^ ]*\)$/\1/p' | grep -E "$2" | head -n1
}

resolve() {
	local meta=linux-$what-$suffix pkg
	pkg=$(dep_of "$meta" "^linux-$what-[0-9]") ||
		true
	[ -n "$pkg" ] || die "cannot resolve $meta (run 'apt-get update' first?)"
	echo "$pkg"
	if [ "$what" = headers ]; then
		dep_of "$pkg" '^linux-headers-.*-common' || true
		dep_of "$pkg" '^linux-kbuild-' || true
	fi
}

fetch() {
	local dir=$1 tmp pkgs
	pkgs=$(resolve)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	# shellcheck disable=SC2086
	(cd "$tmp" && apt-get download $pkgs >/dev/null 2>"$tmp/err") ||
		die "apt-get download $pkgs failed: $(cat "$tmp/err")"
	rm -rf "$dir.new"
	mkdir -p "$dir.new/root"
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$dir.new/root"
	done
	echo "$pkgs" >"$dir.new/packages"
	rm -rf "$dir"
	mv "$dir.new" "$dir"
}

dir=$cache/$what-$kver
mkdir -p "$cache"
# Parallel test VMs may ask for the same kernel at once: one fetches.
exec 9>"$dir.lock"
flock 9
[ -f "$dir/packages" ] || fetch "$dir" >&2
flock -u 9
root=$dir/root

if [ "$what" = headers ]; then
	hdr=$(find "$root/usr/src" -maxdepth 1 -name "linux-headers-*-amd64" | head -n1)
	[ -n "$hdr" ] || die "no headers tree in $root/usr/src"
	# The arch tree's Makefile includes the -common tree by absolute
	# /usr/src path: point it at our private copy instead.
	sed -i "s#^include /usr/src/#include $root/usr/src/#" "$hdr/Makefile"
	echo "$hdr"
else
	[ -n "$(find "$root/boot" -name 'vmlinuz-*' 2>/dev/null)" ] ||
		die "no vmlinuz in $(cat "$dir/packages")"
	echo "$root"
fi
