#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything `make check` runs: host tests, the static tools and example
# programs, a short fuzz run of the load path (FUZZ_CHECK_SECONDS per target,
# default 30), then every VM test case on each kernel, one VM per case: Debian's
# 6.1, 6.12 and 6.12-rt, and the debug 6.12 built here (scripts/kernel.sh).
#
#   tests/check.sh [--kernels "6.1 6.12 ..."] [--cases REGEX] [--no-host] [--jobs N]
#
# --cases selects cases whose name (file name without .sh) matches the
# extended regex; "bench-smoke" names the bench harness's smoke run
# (tests/bench.sh --smoke, one more VM, on 6.12 only). --jobs sets how many
# VMs run at once (default 2). Console logs go to
# build/vm-logs/<kernel>/<case>.log. Prints a summary line per kernel, ends
# with "N passed, N failed" and exits non-zero if anything failed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

kernels=$(scripts/kernel.sh list)
cases_re=.
host=1
jobs=2
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--cases) cases_re=$2; shift ;;
	--no-host) host= ;;
	--jobs) jobs=$2; shift ;;
	*) sed -n '9,17s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

export RUSTC=/usr/bin/rustc
# Doctests are compiled by rustdoc against crates RUSTC built: the same
# toolchain, whatever else is on PATH (e.g. a rustup one).
export RUSTDOC=/usr/bin/rustdoc
# Warnings of the core's and the module's build are errors here (Makefile).
export KWASM_STRICT=1
cargo=/usr/bin/cargo
target=x86_64-unknown-linux-gnu
passed=0
failed=0
failures=()

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

result() { # result <PASS|FAIL> <what> <seconds> [detail]
	printf '%-4s %-32s %7.1fs%s\n' "$1" "$2" "$3" "${4:+  $4}"
	if [ "$1" = PASS ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$2")
	fi
}

# step <name> <cmd...>: a build or host step; its output is shown on failure.
step() {
	local name=$1 start out
	shift
	start=$(now)
	if out=$("$@" 2>&1); then
		result PASS "$name" "$(since "$start")"
	else
		result FAIL "$name" "$(since "$start")"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/    /'
		return 1
	fi
}

skipped=0
skip() { # skip <what> <why>
	printf '%-4s %-32s %8s  %s\n' SKIP "$1" - "$2"
	skipped=$((skipped + 1))
}

# One line per kernel: its VM cases, and whether it could be tested at all.
kernel_lines=()
summary() {
	local line
	for line in "${kernel_lines[@]}"; do echo "$line"; done
	[ ${#failures[@]} -eq 0 ] || (IFS=,; echo "failed:${failures[*]/#/ }")
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}

# rustfmt and clippy come with rustup's toolchain, not with Debian's
# rustc-web; lint with them where they exist, and say so where not.
lint_rust() { # lint_rust <name> <cargo subcommand...>
	local name=$1 rustup_cargo=$HOME/.cargo/bin/cargo
	shift
	if [ -x "$rustup_cargo" ] && "$rustup_cargo" "$1" --version >/dev/null 2>&1; then
		step "$name" env -u RUSTC CARGO_TARGET_DIR="$top/target/lint" "$rustup_cargo" "$@" || true
	else
		skip "$name" "no cargo $1 (rustup component) on this machine"
	fi
}

tools_ok=1
# The same list of guest tools as the VMs get (Makefile: vm-tools).
step "build: guest tools (static), examples" \
	make vm-tools CARGO="$cargo" RUSTC="$RUSTC" || tools_ok=

if [ -n "$host" ]; then
	# The host tests that run the built examples need them: a missing one
	# fails instead of being skipped.
	step "host: cargo test" env KWASM_REQUIRE_EXAMPLES=1 "$cargo" test --workspace || true
	# The Rust SDK is its own workspace (it builds for wasm32).
	step "host: cargo test (Rust SDK)" env CARGO_TARGET_DIR="$top/target/sdk" \
		"$cargo" test --manifest-path wasm/sdk/rust/Cargo.toml || true
	lint_rust "lint: rustfmt" fmt --all --check
	lint_rust "lint: clippy" clippy --workspace --all-targets -- -D warnings
	step "lint: checkpatch (C)" scripts/checkpatch.sh || true
	step "lint: core layers (Rust)" scripts/check-layers.sh || true
fi

# fuzz_step: fuzz/run.sh from its seeds; its figures are shown either way.
fuzz_step() {
	local name="fuzz: load path (${FUZZ_CHECK_SECONDS:-30} s/target)" start out status=0
	start=$(now)
	out=$(fuzz/run.sh --fresh --seconds "${FUZZ_CHECK_SECONDS:-30}" 2>&1) || status=$?
	case $status in
	0) result PASS "$name" "$(since "$start")" ;;
	2) skip "$name" "$(printf '%s\n' "$out" | tail -n 1)"; return ;;
	*) result FAIL "$name" "$(since "$start")" ;;
	esac
	if [ "$status" -eq 0 ]; then
		printf '%s\n' "$out" | grep '^fuzz: ' | sed 's/^/    /'
	else
		printf '%s\n' "$out" | tail -n 80 | sed 's/^/    /'
	fi
}
[ -z "$host" ] || fuzz_step
if [ -z "$tools_ok" ]; then
	echo "check: the tools or examples did not build, skipping the VM tests"
	summary
	exit 1
fi

cases=()
for f in tests/vm/cases/*.sh; do
	name=$(basename "$f" .sh)
	if echo "$name" | grep -Eq -- "$cases_re"; then cases+=("$name"); fi
done
bench_smoke=
if echo bench-smoke | grep -Eq -- "$cases_re"; then bench_smoke=1; fi
[ ${#cases[@]} -gt 0 ] || [ -n "$bench_smoke" ] ||
	{ echo "check: no case matches '$cases_re'" >&2; exit 2; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# run_case <kernel> <case>: one VM boot; leaves "<status> <seconds>" behind.
run_case() {
	local k=$1 name=$2 start status=0
	start=$(now)
	tests/vm/run.sh --kernel "$k" --module "build/$k/kwasm.ko" \
		--script "tests/vm/cases/$name.sh" --quiet \
		--log "build/vm-logs/$k/$name.log" >"$results/$k-$name.out" 2>&1 || status=$?
	echo "$status $(since "$start")" >"$results/$k-$name.status"
}

# report <kernel> <case>: one PASS/FAIL line, with the runner's story on failure.
report() {
	local k=$1 name=$2 status seconds what
	read -r status seconds <"$results/$k-$name.status"
	case $status in
	0) result PASS "$k $name" "$seconds"; return ;;
	123) what="kernel reported a problem" ;;
	124) what="guest did not finish" ;;
	125) what="runner error" ;;
	*) what="test failed (status $status)" ;;
	esac
	result FAIL "$k $name" "$seconds" "$what: build/vm-logs/$k/$name.log"
	grep -E '^(FAIL|run\.sh)|^    ' "$results/$k-$name.out" | head -n 30 | sed 's/^/    /'
	if [ -s "build/vm-logs/$k/$name.log" ]; then
		echo "    --- guest console (last 80 lines) ---"
		tail -n 80 "build/vm-logs/$k/$name.log" | sed 's/^/    | /'
	fi
}

# Cases run $jobs at a time; each is reported as soon as it ends.
declare -A running=() # pid -> case
reap() {
	local pid
	wait -n -p pid "${!running[@]}" || true
	report "$k" "${running[$pid]}"
	unset "running[$pid]"
}

# A staged install puts the module and kwasmctl where they belong.
staged_install() { # staged_install <kernel>
	local stage status=0
	stage=$(mktemp -d)
	make install KVER="$1" DESTDIR="$stage" &&
		find "$stage/lib/modules" -name 'kwasm.ko*' | grep -q . &&
		test -x "$stage/usr/local/bin/kwasmctl" || status=1
	rm -rf "$stage"
	return $status
}

# On a kernel with kmemleak, the harness must catch a leak: the kernel's own
# leaking sample module (samples/kmemleak), built against it, has to make
# run.sh fail with "kernel reported a problem" (123) and kmemleak's report.
kmemleak_selftest() { # kmemleak_selftest <kernel>
	local k=$1 kdir dir log status=0
	kdir=$(scripts/kernel.sh headers "$k")
	dir=$top/build/$k-selftest
	log=build/vm-logs/$k/selftest-kmemleak.log
	mkdir -p "$dir"
	cp "$kdir/source/samples/kmemleak/kmemleak-test.c" "$dir/"
	echo 'obj-m := kmemleak-test.o' >"$dir/Kbuild"
	make -C "$kdir" M="$dir" modules || return 1
	tests/vm/run.sh --kernel "$k" --module "build/$k/kwasm.ko" \
		--script tests/vm/selftest/kmemleak.sh --files "$dir/kmemleak-test.ko" \
		--quiet --log "$log" || status=$?
	echo "run.sh exited with $status"
	[ "$status" = 123 ] && grep -E 'kmemleak: [0-9]+ new suspected memory leaks' "$log"
}

for k in $kernels; do
	if ! step "kernel: $k (fetch or build)" scripts/kernel.sh image "$k" ||
		! step "build: kwasm.ko for $k" make KVER="$k"; then
		kernel_lines+=("kernel $k: not tested (see above)")
		continue
	fi
	step "check: shim dependencies ($k)" scripts/check-shim-deps.sh "build/$k" || true
	step "install: staged (DESTDIR) for $k" staged_install "$k" || true
	mkdir -p "build/vm-logs/$k"
	if grep -qsx 'CONFIG_DEBUG_KMEMLEAK=y' "$(scripts/kernel.sh headers "$k")/.config"; then
		step "check: kmemleak catches a leak ($k)" kmemleak_selftest "$k" || true
	fi
	kernel_passed=$passed kernel_failed=$failed
	for name in "${cases[@]}"; do
		while [ ${#running[@]} -ge "$jobs" ]; do reap; done
		run_case "$k" "$name" &
		running[$!]=$name
	done
	while [ ${#running[@]} -gt 0 ]; do reap; done
	# The bench harness, so that it cannot rot: a short run that must
	# print every figure with kwasm and eBPF (tests/bench.sh --smoke).
	if [ "$k" = 6.12 ] && [ -n "$bench_smoke" ]; then
		if step "build: eBPF bench programs (make ebpf)" make ebpf; then
			step "bench: harness smoke ($k)" tests/bench.sh --kernel "$k" --smoke || true
		fi
	fi
	kernel_lines+=("kernel $k: $((passed - kernel_passed)) cases passed, $((failed - kernel_failed)) failed")
done

summary
