#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-compare BASE=<revision>`: what this tree's module costs per
# packet next to the module of another revision, measured in one VM boot
# (the two modules loaded in turn, several rounds, medians and the ratio).
# Under QEMU TCG only the ratio means something.
#
#   tests/bench-compare.sh --base REV [--kernel 6.1|6.12]
#
# The base revision is checked out in a git worktree under .cache/ and its
# module built there (its own cargo target directory: a cold build).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=6.12
base=
while [ $# -gt 0 ]; do
	case $1 in
	--base) base=$2 ;;
	--kernel) kver=$2 ;;
	*) sed -n '10s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift 2
done
[ -n "$base" ] || { sed -n '10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
module=$top/build/$kver/kwasm.ko
[ -f "$module" ] || { echo "bench-compare: no $module: run 'make KVER=$kver' first" >&2; exit 2; }

rev=$(git -C "$top" rev-parse --short "$base^{commit}")
tree=$top/.cache/bench-base/$rev
if [ ! -d "$tree" ]; then
	mkdir -p "$(dirname "$tree")"
	git -C "$top" worktree add --detach "$tree" "$rev" >/dev/null
fi
# The base tree shares this tree's downloaded kernel headers.
mkdir -p "$tree/.cache"
[ -e "$tree/.cache/debian" ] || ln -s "$top/.cache/debian" "$tree/.cache/debian"
make -C "$tree" KVER="$kver" module >"$tree/build.log" 2>&1 ||
	{ tail -n 30 "$tree/build.log"; echo "bench-compare: the base module did not build" >&2; exit 1; }
cp "$tree/build/$kver/kwasm.ko" "$top/build/$kver/kwasm-base.ko"

echo "base: $rev ($(git -C "$top" log -1 --format=%s "$rev" | cut -c1-60))"
echo "new:  this tree ($(git -C "$top" describe --always --dirty))"
exec "$top/tests/vm/run.sh" --kernel "$kver" --module "$module" \
	--files "$top/build/$kver/kwasm-base.ko" \
	--script "$top/tests/vm/bench-compare-guest.sh" --timeout 900
