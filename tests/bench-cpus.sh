#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What loading a program costs as the CPU count grows: one VM boot per
# count, each printing load time, instances and memory per program
# (tests/vm/bench-cpus-guest.sh), then the cost of each extra CPU. Part of
# `make bench`; figures, not pass/fail. Under QEMU TCG the load times are
# emulated and only their growth with the CPU count means something.
#
#   tests/bench-cpus.sh [--kernel 6.12] [--cpus "2 16 64"]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=6.12
counts="2 16 64"
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kver=$2 ;;
	--cpus) counts=$2 ;;
	*) sed -n '10s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift 2
done
module=$top/build/$kver/kwasm.ko
[ -f "$module" ] || { echo "bench-cpus: no $module: run 'make KVER=$kver' first" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "### load time and memory per program by CPU count (10 loads each)"
for n in $counts; do
	# Each vCPU is a host thread under TCG; more memory for 64 instances of
	# each program and the kernel's per-CPU areas.
	"$top/tests/vm/run.sh" --kernel "$kver" --module "$module" \
		--cpus "$n" --mem $((512 + 8 * n)) --timeout 900 --quiet \
		--script "$top/tests/vm/bench-cpus-guest.sh" --log "$out.log" >/dev/null ||
		{ echo "bench-cpus: the $n-CPU VM failed (log: $out.log)" >&2; exit 1; }
	grep -a '^bench cpus ' "$out.log" | tr -d '\r' | tee -a "$out"
done

# Per extra CPU: the slope between the smallest and the largest count.
echo
echo "### per extra CPU (from the smallest to the largest count)"
printf '%-16s %12s %14s %14s\n' program "load ms/cpu" "heap B/cpu" "memory B/cpu"
awk '
{ n = $3; p = $4
  for (i = 5; i <= NF; i++) { split($i, kv, "="); v[p, n, kv[1]] = kv[2] }
  if (!(p in lo) || n < lo[p]) lo[p] = n
  if (!(p in hi) || n > hi[p]) hi[p] = n
  if (!(p in seen)) { seen[p] = 1; order[++np] = p } }
END {
  for (i = 1; i <= np; i++) {
    p = order[i]; d = hi[p] - lo[p]
    if (d == 0) continue
    printf "%-16s %12.2f %14d %14d\n", p,
      (v[p, hi[p], "load_ms"] - v[p, lo[p], "load_ms"]) / d,
      (v[p, hi[p], "heap"] - v[p, lo[p], "heap"]) / d,
      (v[p, hi[p], "memory"] - v[p, lo[p], "memory"]) / d
  }
}' "$out"
