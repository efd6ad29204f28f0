#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzzes kwasm's load path in user space with cargo-fuzz (libFuzzer):
#
#   fuzz/run.sh [--seconds N] [--targets "load_bytes load_generated map_decls"] [--fresh]
#
# Each target runs N seconds (default 60); map_decls fuzzes the parser of
# the kwasm.maps section (core/src/maps/decl.rs) alone. The corpus is kept in
# fuzz/corpus/<target> and grows from run to run; --fresh starts from the
# seeds in a throw-away corpus instead (what `make check` does). load_bytes
# is seeded with the example programs (wasm/build/*.wasm, when built) and
# the VM fixtures (tests/vm/fixtures/*.wat, through wat2wasm). A crash, panic,
# leak or timeout leaves its input in fuzz/artifacts/<target>/ and fails.
# Prints libFuzzer's figures (executions, coverage) per target.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

seconds=60
targets="load_bytes load_generated map_decls"
fresh=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift ;;
	--targets) targets=$2; shift ;;
	--fresh) fresh=1 ;;
	*) sed -n '6,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

# The toolchain of the rest of the build: Debian's rustc-web. cargo-fuzz's
# flags need no nightly without a Rust sanitizer (-s none).
cargo=${CARGO:-/usr/bin/cargo}
export RUSTC=${RUSTC:-/usr/bin/rustc} RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null; then
	if [ -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
		export PATH=$PATH:$HOME/.cargo/bin
	else
		echo "fuzz: no cargo-fuzz (scripts/setup-debian.sh installs it)" >&2
		exit 2
	fi
fi

# wasm3 and the host services are C: clang compiles them with libFuzzer's
# coverage instrumentation, so the fuzzer is guided through wasm3 too, and
# with AddressSanitizer when clang's runtime is there (Debian:
# libclang-rt-14-dev); it also brings LeakSanitizer, which checks every
# allocation, the core's included. The Rust code gets coverage but no ASan:
# that needs a sanitizer runtime Debian's rustc does not ship.
export CC=clang CXX=clang++
cov="-fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp"
asan_rt=$(clang -print-file-name=libclang_rt.asan-x86_64.a)
if [ -f "$asan_rt" ]; then
	export CFLAGS="$cov -fsanitize=address -fno-omit-frame-pointer"
	export RUSTFLAGS="-Clinker=clang -Clink-arg=-fsanitize=address"
	sanitizer="ASan+LSan (C: wasm3, host services), LSan (all allocations)"
else
	export CFLAGS="$cov"
	export RUSTFLAGS="-Clinker=clang"
	sanitizer="none (no clang ASan runtime: apt-get install libclang-rt-14-dev)"
fi
# Debug assertions: arithmetic overflow in the core panics here.
fuzz=("$cargo" fuzz run --fuzz-dir fuzz -s none --debug-assertions)

out=$top/build/fuzz
seeds=$out/seeds
mkdir -p "$out" "$seeds"
rm -f "$seeds"/*
# --enable-annotations: fixtures may carry (@custom ...) sections, which
# Debian's wabt 1.0.32 accepts that way and leaves out of its output.
for f in tests/vm/fixtures/*.wat; do
	wat2wasm --enable-annotations -o "$seeds/$(basename "$f" .wat).wasm" "$f"
done
if compgen -G 'wasm/build/*.wasm' >/dev/null; then
	cp wasm/build/*.wasm "$seeds/"
else
	echo "fuzz: no wasm/build/*.wasm (make -C wasm): seeding with the fixtures only"
fi

echo "fuzz: sanitizer: $sanitizer; $seconds s per target"
status=0
for t in $targets; do
	if [ -n "$fresh" ]; then
		corpus=$out/corpus-$t
		rm -rf "$corpus"
	else
		corpus=fuzz/corpus/$t
	fi
	mkdir -p "$corpus" "fuzz/artifacts/$t"
	# wasm files mean nothing to load_generated (its input drives
	# wasm-smith) nor to map_decls (it builds map declarations from it).
	# load_generated: no growing input sizes from a few bytes up, which only
	# give wasm-smith enough for bodies of `unreachable`.
	extra=() lenctl=0
	[ "$t" != load_bytes ] || extra=("$seeds") lenctl=100
	# Inputs as large as the largest seed (libFuzzer's default is 4096).
	max_len=$(find "$corpus" "${extra[@]}" -type f -printf '%s\n' | sort -n | tail -n 1)
	max_len=$(( ${max_len:-0} > 4096 ? max_len : 4096 ))
	log=$out/$t.log
	# Programs' own output (kwasm.log, print_int) is dropped from the log.
	rc=0
	KWASM_FUZZ_STATS=1 "${fuzz[@]}" "$t" "$corpus" "${extra[@]}" -- \
		-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -max_len="$max_len" \
		-len_control="$lenctl" 2>&1 | grep -av '^kwasm: ' >"$log" || rc=${PIPESTATUS[0]}
	done_line=$(grep -a -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	echo "fuzz: $t: ${execs:-?} execs (${rate:-?}/s); ${done_line:-no final status line}"
	# The last tally of load outcomes (load_generated).
	{ grep -a '^kwasm-fuzz:' "$log" || true; } | awk '/ modules, /{b=""} {b=b $0 "\n"} END{printf "%s", b}' |
		sed 's/^kwasm-fuzz:/fuzz: '"$t"':/'
	if [ "$rc" -ne 0 ] || [ -z "$done_line" ]; then
		status=1
		echo "fuzz: $t FAILED (status $rc); full log: $log"
		grep -a -E -A40 'panicked|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|==ERROR|deadly signal|timeout' "$log" |
			head -n 60 | sed 's/^/    /' || true
		grep -a -E '^(artifact_prefix|Test unit written to|SUMMARY)' "$log" | sed 's/^/    /' || true
		echo "    reproduce: ${fuzz[*]} $t <artifact>  (with the environment of fuzz/run.sh)"
	fi
done
exit $status
