#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-breakdown`: where the time of one run goes. This tree's
# module is built once more with tests/bench/breakdown.patch, which adds
# cut points (a module parameter the guest sets): each kwasm row of the
# table stops every run at a later point of the per-packet path, so the
# difference between two rows is what that stretch costs. Measured in one
# VM boot next to the eBPF programs; under QEMU TCG only differences and
# ratios from that boot mean something.
#
#   tests/bench-breakdown.sh [--kernel 6.12] [--append "kernel parameters"]
#
# --append boots the guest kernel with those parameters as well, e.g.
# spectre_v2=off to see the path without retpolines (which the guest
# kernel uses on QEMU's TCG CPU; CPUs with enhanced IBRS do without).
#
# The instrumented tree is a git worktree of HEAD under .cache/ with the
# patch applied (uncommitted changes are not in it). The plain module of
# this tree runs in the same boot: under TCG, where code lands changes
# timings, so the instrumented module's own full run is not the plain one's.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=6.12
append=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kver=$2 ;;
	--append) append=$2 ;;
	*) sed -n '12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift 2
done

rev=$(git -C "$top" rev-parse --short HEAD)
tree=$top/.cache/bench-breakdown
if [ -d "$tree" ]; then
	git -C "$tree" checkout -q --detach --force "$rev"
	git -C "$tree" clean -qfd
else
	mkdir -p "$(dirname "$tree")"
	git -C "$top" worktree add --detach "$tree" "$rev" >/dev/null
fi
git -C "$tree" apply "$top/tests/bench/breakdown.patch" ||
	{ echo "bench-breakdown: tests/bench/breakdown.patch does not apply to $rev: update it" >&2; exit 1; }
# The instrumented tree shares this tree's downloaded kernel headers.
mkdir -p "$tree/.cache"
[ -e "$tree/.cache/debian" ] || ln -s "$top/.cache/debian" "$tree/.cache/debian"
make -C "$tree" KVER="$kver" module >"$tree/build.log" 2>&1 ||
	{ tail -n 30 "$tree/build.log"; echo "bench-breakdown: the instrumented module did not build" >&2; exit 1; }

echo "instrumented: $rev ($(git -C "$top" log -1 --format=%s "$rev" | cut -c1-60))"
module=$top/build/$kver/kwasm.ko
[ -f "$module" ] || { echo "bench-breakdown: no $module: run 'make KVER=$kver' first" >&2; exit 2; }
exec "$top/tests/vm/run.sh" --kernel "$kver" --module "$module" \
	--files "$tree/build/$kver/kwasm.ko" \
	--script "$top/tests/vm/bench-breakdown-guest.sh" --timeout 900 \
	${append:+--append "$append"}
