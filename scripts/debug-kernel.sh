#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of the VM tests: Debian's packaged source of the 6.12
# kernel the other VM tests boot (fetched and unpacked by
# scripts/linux-source.sh), configured with `make tinyconfig` plus
# tests/vm/kernel/debug.config (what the VM needs, the code generation the
# module's Rust core expects, and lockdep, PROVE_RCU, DEBUG_ATOMIC_SLEEP,
# KASAN, kmemleak and debug objects), built once and cached per user.
#
#   scripts/debug-kernel.sh headers   -> prints the build tree (the KDIR)
#   scripts/debug-kernel.sh image     -> prints a directory holding
#                                        boot/vmlinux-<release> and lib/modules
#
# The cache lives outside the clone, in KWASM_KERNEL_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/kwasm/kernels), under a key made of the source
# package's version, the config fragment and the compiler, so that every
# clone on a machine shares one build and a change to any of them builds a
# new one. A cold build takes about 6 minutes on 2 cores (tests/README.md).
set -euo pipefail

what=${1:?usage: $0 headers|image}
top=$(cd "$(dirname "$0")/.." && pwd)
fragment=$top/tests/vm/kernel/debug.config
cache=${KWASM_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kwasm/kernels}
srcpkg=linux-source-6.12

die() { echo "debug-kernel: $*" >&2; exit 1; }
say() { echo "debug-kernel: $*" >&2; }

case $what in headers | image) ;; *) die "usage: $0 headers|image" ;; esac

# scripts/linux-source.sh fetches the source: its version names the build.
version=$("$top/scripts/linux-source.sh" version)
key=$( (echo "$srcpkg $version"; gcc --version | head -n1; cat "$fragment") |
	sha256sum | cut -c1-16)
dir=$cache/6.12-debug-$key

# Every fragment line must have survived olddefconfig: a renamed or
# unreachable option would otherwise silently drop a checker.
check_config() { # check_config <.config>
	local line opt want got bad=0
	while read -r line; do
		opt=${line%%=*} want=${line#*=}
		got=$(sed -n "s/^$opt=//p" "$1")
		if [ "$want" = n ]; then
			[ -z "$got" ] && continue
		fi
		[ "$got" = "$want" ] && continue
		say "$opt=$want is '${got:-not set}' after olddefconfig"
		bad=1
	done < <(grep -E '^CONFIG_' "$fragment")
	return $bad
}

# Built where it stays (the build tree records absolute paths); the version
# file, written last, marks a finished build.
build() {
	rm -rf "$dir"
	mkdir -p "$dir/build"
	say "building the 6.12 debug kernel ($srcpkg $version) in $dir"
	"$top/scripts/linux-source.sh" unpack "$version" "$dir/src"
	make -s -C "$dir/src" O="$dir/build" tinyconfig >/dev/null
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" \
		"$dir/build/.config" "$fragment" >"$dir/build/merge.log" 2>&1
	make -s -C "$dir/src" O="$dir/build" olddefconfig >/dev/null
	check_config "$dir/build/.config" || die "the config fragment did not apply"
	if ! make -C "$dir/src" O="$dir/build" -j"$(nproc)" >"$dir/build/build.log" 2>&1; then
		tail -n 30 "$dir/build/build.log" >&2
		die "the kernel build failed ($dir/build/build.log)"
	fi
	echo "$srcpkg $version" >"$dir/version"
	say "built $(cat "$dir/build/include/config/kernel.release")"
	prune
}

# Builds for an older source, fragment or compiler take gigabytes: remove
# them, unless one is being built right now.
prune() {
	local old
	for old in "$cache"/6.12-debug-*; do
		[ -d "$old" ] && [ "$old" != "$dir" ] || continue
		(flock -n 8 && rm -rf "$old") 8>"$old.lock" && rm -f "$old.lock" || true
	done
}

mkdir -p "$cache"
# Parallel VM runs may ask for the kernel at once: one builds.
exec 9>"$dir.lock"
flock 9
[ -f "$dir/version" ] || build
flock -u 9

release=$(cat "$dir/build/include/config/kernel.release")
if [ "$what" = headers ]; then
	echo "$dir/build"
else
	image=$dir/image
	if [ ! -e "$image/boot/vmlinux-$release" ]; then
		mkdir -p "$image/boot" "$image/lib/modules/$release"
		ln -sf "$dir/build/vmlinux" "$image/boot/vmlinux-$release"
		ln -sf "$dir/build/.config" "$image/boot/config-$release"
	fi
	echo "$image"
fi
