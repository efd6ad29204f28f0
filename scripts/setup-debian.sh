#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what kwasm's build, examples and VM tests use on Debian 12
# (bookworm), as root. Safe to run again; needs no terminal.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# What each package is for:
#   rustc-web cargo-web rust-web-src  Rust with std sources (-Zbuild-std, tools)
#   ca-certificates                   cargo fetches crates.io over https
#   gcc make libc6-dev bc libelf1     kernel module build (Kbuild, objtool)
#   clang lld wabt                    wasm32 examples (clang, wasm-ld, wat2wasm)
#   libclang-dev                      bindgen in build.rs
#   qemu-system-x86 busybox-static    the test VMs and their userland
#   cpio kmod xz-utils zstd           initramfs, depmod/modinfo, vmlinux extraction
#   perl                              checkpatch.pl
#   libclang-rt-14-dev                ASan/LSan runtime for `make fuzz` (clang only recommends it)
#   libelf-dev zlib1g-dev             static libelf.a and libz.a for bpfbench (`make bench`, libbpf)
#   gnuplot-nox                       scripts/bench-plot.sh (SVG plots of `make bench` output)
packages=(
	rustc-web cargo-web rust-web-src ca-certificates
	gcc make libc6-dev bc libelf1
	clang lld wabt libclang-dev
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd
	perl libclang-rt-14-dev
	# the eBPF side of the bench, and its plots (tests/bench/ebpf, scripts/bench-plot.sh)
	libelf-dev zlib1g-dev gnuplot-nox
	# the debug kernel (scripts/debug-kernel.sh)
	flex bison libelf-dev libssl-dev dwarves
)

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-debian: run as root (sudo $0)" >&2
	exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" </dev/null >/dev/null
echo "setup-debian: installed ${packages[*]}"

# cargo-fuzz for `make fuzz` and the fuzz step of `make check`, built with
# Debian's cargo (a cold build takes ~100 s of CPU) into /usr/local/bin.
cargo_fuzz_version=0.13.2
if [ "$(cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
	RUSTC=/usr/bin/rustc /usr/bin/cargo install --quiet --locked --root /usr/local \
		cargo-fuzz --version "$cargo_fuzz_version" </dev/null
	echo "setup-debian: installed cargo-fuzz $cargo_fuzz_version"
fi
