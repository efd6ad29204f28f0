#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot a VM and print what programs cost: ns per test-run of
# each example, and UDP flood rates with no module, no program and a few
# programs. Figures only; under QEMU TCG compare rows, not absolute values.
#
#   tests/bench.sh [--kernel 6.1|6.12]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=6.12
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kver=$2 ;;
	*) sed -n '8s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift 2
done
module=$top/build/$kver/kwasm.ko
[ -f "$module" ] || { echo "bench: no $module: run 'make KVER=$kver' first" >&2; exit 2; }

exec "$top/tests/vm/run.sh" --kernel "$kver" --module "$module" \
	--script "$top/tests/vm/bench-guest.sh" --timeout 600
