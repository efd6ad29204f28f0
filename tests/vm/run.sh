#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a throw-away QEMU VM on one of Debian's packaged kernels, run a guest
# script in a busybox initramfs, and report how it went.
#
#   tests/vm/run.sh --kernel NAME --module build/NAME/kwasm.ko \
#       --script tests/vm/cases/module.sh [--files "f1 f2"] [--cpus 2] \
#       [--mem MiB] [--timeout s] [--log console.log] [--kwasmctl path] \
#       [--nettool path] [--append "kernel parameters"] [--quiet]
#
# NAME is one of scripts/kernel.sh's: 6.1, 6.12, 6.12-rt, 6.12-debug.
#
# Exit status: the guest script's status (0..122) when the kernel stayed
# healthy, otherwise
#   123  the kernel reported a problem (oops, BUG, WARNING, KFENCE, slub,
#        and on the debug kernel lockdep, KASAN, kmemleak, RCU, atomic sleep)
#   124  the guest never finished (timeout, hang, panic)
#   125  the runner itself failed (usage, missing file, build step)
#
# The guest gets busybox, /init (tests/vm/init.sh), the script as /test.sh,
# tests/vm/lib.sh as /lib.sh, the module as /kwasm.ko and for modprobe,
# kwasmctl, nettool and kwasm-spectest in /usr/bin, wasm/build/*.wasm and
# the example sources wasm/examples/*.wat in /wasm, tests/vm/fixtures in
# /fixtures, when built the eBPF bench tool as /usr/bin/bpfbench and its
# programs build/ebpf/*.bpf.o in /bpf (tests/bench/ebpf), and the --files
# in /files, with the files a script names on
# "# vm-files: <paths or globs relative to the repository>" lines. An entry
# "@script" there runs that repository script, which must print a directory:
# every file in it goes to /files (e.g. "@scripts/wasm-testsuite.sh").
# A script's "# vm-modules: <module names>" lines add those modules of the
# guest kernel's own package (e.g. veth), and the modules they depend on,
# decompressed, for modprobe.
#
# The guest console streams to stdout (unless --quiet) and is always kept in
# the --log file (a temporary one, kept only on failure, when not given). KWASM_VM_ACCEL=kvm tries
# KVM instead of TCG; nested KVM is unreliable, so TCG is the default.
set -euo pipefail

readonly E_KERNEL=123 E_HANG=124 E_RUNNER=125

top=$(cd "$(dirname "$0")/../.." && pwd)
vmdir=$top/tests/vm
cache=${KWASM_CACHE:-$top/.cache}/vm

die() {
	echo "run.sh: $*" >&2
	exit $E_RUNNER
}

usage() {
	sed -n '7,12s/^# \{0,1\}//p' "$0" >&2
	exit $E_RUNNER
}

kver='' module='' script='' files='' log='' quiet='' append=''
cpus=2 mem='' timeout=''
kwasmctl=$top/target/x86_64-unknown-linux-gnu/release/kwasmctl
nettool=$top/target/x86_64-unknown-linux-gnu/release/nettool
hostile=$top/target/x86_64-unknown-linux-gnu/release/kwasm-hostile
spectest=$top/target/x86_64-unknown-linux-gnu/release/kwasm-spectest

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || case $1 in --quiet | -h | --help) ;; *) usage ;; esac
	case $1 in
	--kernel) kver=$2 ;;
	--module) module=$2 ;;
	--script) script=$2 ;;
	--files) files=$2 ;;
	--cpus) cpus=$2 ;;
	--mem) mem=$2 ;;
	--timeout) timeout=$2 ;;
	--log) log=$2 ;;
	--kwasmctl) kwasmctl=$2 ;;
	--nettool) nettool=$2 ;;
	--append) append=$2 ;;
	--quiet) quiet=1; shift; continue ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown option '$1'" >&2; usage ;;
	esac
	shift 2
done

[ -n "$kver" ] && [ -n "$module" ] && [ -n "$script" ] || usage
# KASAN's shadow and kmemleak's metadata need memory, and every access is
# checked: the debug kernel gets more of both.
case $kver in
*-debug) mem=${mem:-1024} timeout=${timeout:-900} ;;
*) mem=${mem:-512} timeout=${timeout:-300} ;;
esac
for f in "$module" "$script"; do
	[ -f "$f" ] || die "no such file: $f"
done

# A console log nobody asked for is kept only when the run fails.
temp_log=''
[ -n "$log" ] || temp_log=$(mktemp "${TMPDIR:-/tmp}/kwasm-console.XXXXXX")
log=${log:-$temp_log}
work=$(mktemp -d "${TMPDIR:-/tmp}/kwasm-vm.XXXXXX")
# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
	local status=$?
	rm -rf "$work"
	[ "$status" != 0 ] || [ -z "$temp_log" ] || rm -f "$temp_log"
}
trap cleanup EXIT

image=$("$top/scripts/kernel.sh" image "$kver") ||
	die "cannot fetch the Debian $kver kernel image"
bzimage=$(find "$image/boot" -name 'vmlinuz-*' | head -n1)
vmlinux=$(find "$image/boot" -name 'vmlinux-*' | head -n1)
release=$(basename "$(find "$image/lib/modules" -mindepth 1 -maxdepth 1 | head -n1)")
mkdir -p "$cache"

# The uncompressed vmlinux boots through its PVH entry point, skipping the
# bzImage decompressor, which is slow under TCG. Find the payload by its
# compression magic, decompress it (the trailing bzImage bytes make the
# decompressor complain: ignore that, check the result instead), and cache it.
extract_vmlinux() {
	local out=$1 magic tool off tmp
	tmp=$(mktemp "$out.XXXXXX")
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd'; do
		tool=${magic%%:*}
		off=$(LC_ALL=C grep -obUaP "${magic#*:}" "$bzimage" | head -n1 | cut -d: -f1)
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$bzimage" | "$tool" -dcq >"$tmp" 2>/dev/null || true
		# XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point QEMU needs.
		if readelf -n "$tmp" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; then
			mv "$tmp" "$out"
			return 0
		fi
	done
	rm -f "$tmp"
	return 1
}

# A kernel built here (6.12-debug) comes as a vmlinux already.
kernel=${vmlinux:-$cache/vmlinux-$release}
if [ ! -f "$kernel" ] && ! extract_vmlinux "$kernel"; then
	echo "run.sh: no PVH vmlinux in $bzimage, booting the bzImage" >&2
	kernel=$bzimage
fi

# The initramfs is two concatenated cpio archives: busybox with its applet
# links (cached), then everything specific to this run.
busybox=$(command -v busybox) || die "busybox (busybox-static) is not installed"
! readelf -l "$busybox" | grep -q 'INTERP' || die "$busybox is not static"
base=$cache/busybox-$(sha256sum "$busybox" | cut -c1-16).cpio
if [ ! -f "$base" ]; then
	root=$work/base
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp "$busybox" "$root/bin/busybox"
	for applet in $("$busybox" --list-full); do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
	tmp=$(mktemp "$base.XXXXXX")
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp"
	mv "$tmp" "$base"
fi

root=$work/root
mkdir -p "$root"/{proc,sys,dev,tmp,run,files,fixtures,wasm,bpf,lib/modules/"$release"/extra}
install -m 0755 "$vmdir/init.sh" "$root/init"
install -m 0644 "$vmdir/lib.sh" "$root/lib.sh"
install -m 0755 "$script" "$root/test.sh"
install -m 0644 "$module" "$root/kwasm.ko"
ln "$root/kwasm.ko" "$root/lib/modules/$release/extra/kwasm.ko"

# add_kernel_module <name>: the module of the guest kernel's package (its
# file may end .ko, .ko.xz or .ko.zst; '-' and '_' are one), decompressed
# under the same path, and what it depends on (modinfo's "depends");
# nothing when the kernel has it built in.
add_kernel_module() {
	local name=${1//-/_} file rel dep
	# A kernel without modules of its own (the debug kernel) has no kernel/.
	file=$(find "$image/lib/modules/$release/kernel" -type f \
		\( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) 2>/dev/null | head -n1 || true)
	if [ -z "$file" ]; then
		# Built in (the debug kernel has veth so): nothing to add.
		grep -qs "/$name\.ko" "$image/lib/modules/$release/modules.builtin" ||
			grep -qsx "CONFIG_${name^^}=y" "$image/boot/config-$release" ||
			die "vm-modules of $script: no module $1 in the $release package, nor built in"
		return 0
	fi
	rel=${file#"$image/lib/modules/$release/"}
	rel=${rel%.xz}
	rel=${rel%.zst}
	[ ! -f "$root/lib/modules/$release/$rel" ] || return 0
	mkdir -p "$(dirname "$root/lib/modules/$release/$rel")"
	case $file in
	*.xz) xz -dc "$file" >"$root/lib/modules/$release/$rel" ;;
	*.zst) zstd -dcq "$file" >"$root/lib/modules/$release/$rel" ;;
	*) cp "$file" "$root/lib/modules/$release/$rel" ;;
	esac || die "vm-modules of $script: cannot decompress $file"
	for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
		add_kernel_module "$dep"
	done
}
for name in $(sed -n 's/^# vm-modules: *//p' "$script"); do
	add_kernel_module "$name"
done
depmod -b "$root" "$release" 2>"$work/depmod.err" ||
	die "depmod failed: $(cat "$work/depmod.err")"
vermagic=$(modinfo -F vermagic "$module" | cut -d' ' -f1)
[ "$vermagic" = "$release" ] ||
	echo "run.sh: warning: $module is built for '$vermagic', the kernel is '$release'" >&2

mkdir -p "$root/usr/bin"
shopt -s nullglob
for tool in "$kwasmctl" "$nettool" "$hostile" "$spectest"; do
	if [ -f "$tool" ]; then
		install -m 0755 "$tool" "$root/usr/bin/$(basename "$tool")"
	else
		echo "run.sh: warning: $tool not built, the guest will lack it" >&2
	fi
done
for prog in "$top"/wasm/build/*.wasm "$top"/wasm/examples/*.wat; do
	cp "$prog" "$root/wasm/"
done
for fixture in "$vmdir"/fixtures/*.wat; do
	cp "$fixture" "$root/fixtures/"
done
# The eBPF side of the bench, when built (make ebpf); nothing else uses it.
if [ -f "$top/build/ebpf/bpfbench" ]; then
	install -m 0755 "$top/build/ebpf/bpfbench" "$root/usr/bin/bpfbench"
	for obj in "$top"/build/ebpf/*.bpf.o; do
		cp "$obj" "$root/bpf/"
	done
fi
# A script's vm-files patterns count from the repository, whatever the
# working directory; each must match something.
set -f
patterns=$(sed -n 's/^# vm-files: *//p' "$script")
for pattern in $patterns; do
	set +f
	case $pattern in
	@*)
		dir=$("$top/${pattern#@}") || die "vm-files of $script: ${pattern#@} failed"
		matched=$(compgen -G "$dir/*" || true)
		;;
	*) matched=$(compgen -G "$top/$pattern" || true) ;;
	esac
	[ -n "$matched" ] || die "vm-files of $script: nothing matches $pattern"
	files+=" $matched"
	set -f
done
set +f
for f in $files; do
	[ -f "$f" ] || die "no such file: $f"
	cp "$f" "$root/files/"
done

# A marker the guest script cannot print by accident.
token=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
echo "$token" >"$root/token"
# The name of the kernel the harness means to boot, and its config
# (tests/vm/cases/checkers.sh).
echo "$kver" >"$root/kernel"
config=$(find "$image/boot" -name 'config-*' | head -n1)
[ -z "$config" ] || cp "$config" "$root/kernel.config"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/run.cpio"
cat "$base" "$work/run.cpio" >"$work/initramfs.cpio"

# TCG runs both vCPUs on one host thread (thread=single). With one thread per
# vCPU, a CPU can keep executing a stale translation of kernel text another
# CPU has just patched (a static key flipping as netfilter hooks come and go,
# text_poke_bp()), and dies on the leftover int3: a QEMU artefact seen under
# reload and rmmod stress, never on hardware. The guest still has 2 CPUs
# whose code interleaves; the suite runs two VMs at once on 2 host cores.
accel=${KWASM_VM_ACCEL:-tcg}
case $accel in
tcg) cpu=max accel=tcg,thread=single ;;
kvm) cpu=host ;;
*) die "KWASM_VM_ACCEL must be tcg or kvm" ;;
esac

# panic_on_warn and oops=panic stop the guest at the first kernel problem
# (-no-reboot turns the panic into a QEMU exit); slub_debug and KFENCE catch
# memory corruption. The guest raises the console log level once booted.
cmdline="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 slub_debug=FZPU"
cmdline+=" kfence.sample_interval=10 quiet${append:+ $append}"

# boot: one run of the VM, its console in $log.
boot() {
	set +e
	timeout -k 5 "$timeout" qemu-system-x86_64 \
		-M q35 -accel "$accel" -cpu "$cpu" -smp "$cpus" -m "$mem" \
		-no-reboot -nographic -monitor none -serial stdio -nic none \
		-kernel "$kernel" -initrd "$work/initramfs.cpio" -append "$cmdline" \
		</dev/null 2>&1 | tr -d '\r' |
		if [ -n "$quiet" ]; then cat >"$log"; else tee "$log"; fi
	qemu_status=${PIPESTATUS[0]}
	set -e
}

# Under TCG the stock kernel rarely oopses while it boots, before /init runs
# (seen once in some hundreds of boots: an int3 left by static-key patching
# on the other CPU). Nothing of kwasm is loaded then, so such a boot says
# nothing about the test: boot again, at most twice, and say so. A problem
# once /init has started (its "guest:" line) is always the test's.
start=$(date +%s.%N)
for attempt in 1 2 3; do
	boot
	grep -q 'guest: .* running /test.sh$' "$log" && break
	[ "$attempt" -lt 3 ] || break
	mv "$log" "$log.boot$attempt"
	echo "run.sh: the guest kernel failed before /init (console: $log.boot$attempt); booting again" >&2
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

show_console() {
	[ -n "$quiet" ] || return 0
	echo "--- guest console (last 60 lines of $log) ---"
	tail -n 60 "$log"
	echo "---"
}

# Kernel reports of trouble, wherever they appear in the console. Most
# checkers' reports start with BUG: or WARNING: (KASAN, lockdep, "sleeping
# function called from invalid context", "suspicious RCU usage", ODEBUG);
# they are also named, in case a kernel words a header differently.
bugs='(BUG:|BUG [a-z]|Oops|WARNING:|KFENCE:|Call Trace:|general protection fault'
bugs+='|Kernel panic|UBSAN:|INFO: task .* blocked|rcu: .* stall|KASAN:'
bugs+='|possible circular locking|inconsistent lock state|possible recursive locking'
bugs+='|suspicious RCU usage|sleeping function called from invalid context'
bugs+='|ODEBUG:|kmemleak: [0-9]+ new suspected memory leaks|KWASM-KMEMLEAK)'
if grep -Eq "$bugs" "$log"; then
	show_console
	echo "run.sh: the $release kernel reported a problem:" >&2
	grep -E "$bugs" "$log" | head -n 5 | sed 's/^/    /' >&2
	echo "run.sh: console log: $log" >&2
	exit $E_KERNEL
fi

marker=$(sed -n "s/^KWASM-VM-DONE $token status=\([0-9]*\)$/\1/p" "$log")
if [ -z "$marker" ]; then
	show_console
	if [ "$qemu_status" = 124 ]; then
		echo "run.sh: the guest timed out after ${timeout}s" >&2
	else
		echo "run.sh: the guest stopped without finishing (qemu status $qemu_status)" >&2
	fi
	echo "run.sh: console log: $log" >&2
	exit $E_HANG
fi

printf 'run.sh: %s: guest exited with status %s after %.1fs\n' \
	"$release" "$marker" "$elapsed" >&2
if [ "$marker" != 0 ]; then
	show_console
	echo "run.sh: console log: $log" >&2
fi
[ "$marker" -lt $E_KERNEL ] || marker=1
exit "$marker"
