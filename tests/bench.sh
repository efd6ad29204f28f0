#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot one VM and print what programs cost, kwasm next to an
# eBPF netfilter program doing the same check (tests/bench/ebpf): ns per
# test-run and UDP flood rates, medians over rounds, delivered against
# offered packet rate, and the cost of each map operation and event write
# per call next to an empty program (tests/vm/bench-guest.sh). Figures
# only; under QEMU TCG compare rows, not absolute values.
#
#   tests/bench.sh [--kernel 6.1|6.12] [--rounds R] [--runs N] [--seconds S] [--no-cpus] [--smoke]
#
# R rounds (default 7) of N test-runs per program (default 20000) and S
# seconds of flood per configuration (default 2), then a sweep of paced
# floods at offered rates from 1/8 to 1.41 times the no-filter flood. The
# output also goes to build/bench/last.txt (scripts/bench-plot.sh draws it).
# Then load time and memory per program at 2, 16 and 64 vCPUs
# (tests/bench-cpus.sh, one boot each), unless --no-cpus. --smoke: 2 rounds
# of 200 runs, 1 s floods, a sweep of 2 rates of 1 s, CPU counts 2 and 4,
# into build/bench/smoke.txt, then checks that every line the plots need is
# there with numbers (make check runs it).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=6.12
rounds=7 runs=20000 seconds=2 smoke="" no_cpus=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kver=$2 ;;
	--rounds) rounds=$2 ;;
	--runs) runs=$2 ;;
	--seconds) seconds=$2 ;;
	--smoke) smoke=1 rounds=2 runs=200 seconds=1; shift; continue ;;
	--no-cpus) no_cpus=1; shift; continue ;;
	*) sed -n '11s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	[ $# -ge 2 ] || { sed -n '11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
	shift 2
done
for n in "$rounds" "$runs" "$seconds"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: '$n' is not a positive number" >&2; exit 2; }
done
module=$top/build/$kver/kwasm.ko
[ -f "$module" ] || { echo "bench: no $module: run 'make KVER=$kver' first" >&2; exit 2; }

out=$top/build/bench/last.txt
[ -z "$smoke" ] || out=$top/build/bench/smoke.txt
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'runs=%s\nrounds=%s\nseconds=%s\n' "$runs" "$rounds" "$seconds" >"$work/bench.conf"
# The smoke's sweep: 2 offered rates (percent of the no-filter flood), 1 s.
[ -z "$smoke" ] || printf 'rates="50 150"\nrate_seconds=1\n' >>"$work/bench.conf"

status=0
"$top/tests/vm/run.sh" --kernel "$kver" --module "$module" \
	--script "$top/tests/vm/bench-guest.sh" --files "$work/bench.conf" \
	--timeout 1800 2>&1 | tee "$out" || status=$?
[ "$status" -eq 0 ] || exit "$status"
# Load time and memory by CPU count: one more boot per count.
cpus="2 16 64"
[ -z "$smoke" ] || cpus="2 4"
[ -z "$no_cpus" ] || cpus=
if [ -n "$cpus" ]; then
	echo
	"$top/tests/bench-cpus.sh" --kernel "$kver" --cpus "$cpus" 2>&1 | tee -a "$out" || status=$?
	[ "$status" -eq 0 ] || exit "$status"
fi
echo "bench: output in $out"
[ -n "$smoke" ] || exit 0

# The smoke run's lines: every row the plots draw, with numbers, and eBPF's
# unless the kernel cannot have them.
num='[0-9]+'
want=()
ebpf=1
grep -q '^eBPF: not available on' "$out" && ebpf=
for prog in no_call accept_all drop_port drop_port_v1 payload orig_drop_port; do
	want+=("bench testrun kwasm $prog median=$num min=$num max=$num rounds=2 runs=$runs")
done
for config in "none no_module" "kwasm no_program" "kwasm accept_all" "kwasm drop_port"; do
	want+=("bench flood $config median=$num min=$num max=$num rounds=2 seconds=$seconds")
	want+=("bench ratio flood $config vs_no_filter=$num\\.$num")
done
# The map operations (tests/vm/fixtures/bench_map_*.wat): every program,
# every call, nothing dropped from the ring with room.
for prog in none lookup_array lookup_percpu lookup_hash update_array update_hash add_array \
	add_percpu add_hash delete_update event16 event64 full_none full_event16 full_event64; do
	want+=("bench maps run $prog median=$num min=$num max=$num rounds=2 runs=$runs fuel=$num")
done
for op in lookup_array lookup_percpu lookup_hash update_array update_hash add_array add_percpu \
	add_hash delete_update delete_hash event16 event64 full_event16 full_event64; do
	want+=("bench maps call $op median=-?$num min=-?$num max=-?$num rounds=2 runs=$runs fuel=$num")
done
want+=("bench maps ring room written=$num dropped=0")
want+=("bench maps ring full written=$num dropped=$num")
want+=("bench maps operator ns=$num fuel=$num ns_per_unit=$num\\.$num")
# The sweep: a line per configuration and offered rate, 2 rates each.
rate_line="offered=$num sent=$num delivered=$num seconds=1"
rate_configs=("none no_module" "kwasm accept_all" "kwasm drop_port")
if [ -n "$ebpf" ]; then
	for prog in accept_all drop_port payload; do
		want+=("bench testrun ebpf $prog median=$num min=$num max=$num rounds=2 runs=$runs")
	done
	for prog in accept_all drop_port drop_port_v1 payload orig_drop_port; do
		want+=("bench ratio testrun $prog kwasm/ebpf=$num\\.$num")
	done
	for prog in accept_all drop_port; do
		want+=("bench flood ebpf $prog median=$num min=$num max=$num rounds=2 seconds=$seconds")
		want+=("bench ratio flood ebpf $prog vs_no_filter=$num\\.$num")
		rate_configs+=("ebpf $prog")
	done
fi
for n in $cpus; do
	for prog in accept_all drop_port log_every_n rust_drop_port; do
		want+=("bench cpus $n $prog load_ms=$num\\.$num instances=$n memory=$num heap=$num size=$num")
	done
done
missing=0
for line in "${want[@]}"; do
	grep -Eq "^$line\$" "$out" || { echo "bench: smoke: no line /^$line\$/" >&2; missing=1; }
done
for config in "${rate_configs[@]}"; do
	line="bench rate $config $rate_line"
	n=$(grep -Ec "^$line\$" "$out" || true)
	[ "$n" -eq 2 ] || { echo "bench: smoke: $n lines /^$line\$/, not 2" >&2; missing=1; }
done
[ "$missing" -eq 0 ] || exit 1
echo "bench: smoke: all $((${#want[@]} + 2 * ${#rate_configs[@]})) expected lines present"
