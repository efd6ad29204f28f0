#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boot a throw-away VM, load an example program, send traffic
# through it, and show what the program logged and what /proc/kwasm counted.
#
#   tests/demo.sh [--kernel 6.1|6.12] [--module build/<kernel>/kwasm.ko]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=6.12
module=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kver=$2 ;;
	--module) module=$2 ;;
	*) sed -n '7s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift 2
done
module=${module:-$top/build/$kver/kwasm.ko}
[ -f "$module" ] || { echo "demo: no $module: run 'make KVER=$kver' first" >&2; exit 2; }

exec "$top/tests/vm/run.sh" --kernel "$kver" --module "$module" \
	--script "$top/tests/vm/demo-guest.sh"
