#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The shim's files depend on each other in one direction only. From the
# objects of a module build: file A uses file B when A.o has an undefined
# symbol that B.o defines. Fails when
#   - the uses form a circle (A uses B uses ... uses A),
#   - A uses B but A.c does not include "B.h" (each dependency is visible
#     at the top of the file that has it),
#   - the shim's own "x.h" includes form a circle.
# Prints each file with the files it uses, lowest first.
#
#   scripts/check-shim-deps.sh <build dir>      e.g. build/6.12
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR (e.g. build/6.12)}
top=$(cd "$(dirname "$0")/.." && pwd)
shim=$top/shim

[ -f "$build/kwasm.mod" ] || { echo "check-shim-deps: no $build/kwasm.mod: build the module first" >&2; exit 2; }
# The objects linked into kwasm.ko (stale ones of renamed files are not).
mapfile -t objs < <(tr -s ' \t' '\n\n' <"$build/kwasm.mod" | grep '/shim/[^/]*\.o$')
[ ${#objs[@]} -gt 0 ] || { echo "check-shim-deps: no shim objects in $build/kwasm.mod" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# defs: "<symbol> <file>" for every global symbol a shim object defines.
for o in "${objs[@]}"; do
	f=$(basename "$o" .o)
	nm --defined-only -g "$o" | awk -v f="$f" 'NF == 3 { print $3, f }'
done | sort -k1,1 >"$tmp/defs"
# uses: "<symbol> <file>" for every undefined symbol of a shim object.
for o in "${objs[@]}"; do
	f=$(basename "$o" .o)
	nm -u "$o" | awk -v f="$f" '{ print $NF, f }'
done | sort -k1,1 >"$tmp/uses"
# edges: "<user> <definer> <symbol>", one file using another.
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3, $1 }' |
	sort -u >"$tmp/edges"

# tsort names the files of a circle on stderr and fails: leaves them in
# $tmp/circle.
circle() { # circle <what> <pairs file>
	if ! tsort "$2" 2>"$tmp/tsort" >/dev/null; then
		sed -n 's/^tsort: //p' "$tmp/tsort" | grep -v 'input contains a loop' >"$tmp/circle"
		echo "check-shim-deps: $1 form a circle: $(tr '\n' ' ' <"$tmp/circle")" >&2
		return 1
	fi
}

# tsort wants "<before> <after>": the used file comes first.
awk '{ print $2, $1 }' "$tmp/edges" | sort -u >"$tmp/pairs"
for o in "${objs[@]}"; do
	f=$(basename "$o" .o)
	echo "$f $f"
done >>"$tmp/pairs"
if ! circle "the shim files' uses of each other" "$tmp/pairs"; then
	# The uses between the files of the circle, with their symbols.
	awk 'NR == FNR { in_circle[$1] = 1; next }
	     ($1 in in_circle) && ($2 in in_circle) { print "    " $1 ".c uses " $3 " of " $2 ".c" }' \
		"$tmp/circle" "$tmp/edges" >&2
	bad=1
fi

# Each use shows as an include of the used file's header.
while read -r user used sym; do
	if ! grep -q "^#include \"$used\.h\"" "$shim/$user.c"; then
		echo "check-shim-deps: $user.c uses $sym of $used.c but does not include \"$used.h\"" >&2
		bad=1
	fi
done <"$tmp/edges"

# The shim's headers and the files including them.
for src in "$shim"/*.[ch]; do
	f=$(basename "${src%.[ch]}")
	echo "$f $f"
	sed -n 's/^#include "\([^"/]*\)\.h"$/\1/p' "$src" | while read -r h; do
		if [ -f "$shim/$h.h" ] && [ "$h" != "$f" ]; then echo "$h $f"; fi
	done
done | sort -u >"$tmp/includes"
circle "the shim's includes of its own headers" "$tmp/includes" || bad=1

[ $bad -eq 0 ] || exit 1
# The order: each file after the files it uses.
tsort "$tmp/pairs" | while read -r f; do
	printf '%-10s %s\n' "$f" "$(awk -v f="$f" '$1 == f { print $2 }' "$tmp/edges" | sort -u | tr '\n' ' ')"
done
echo "check-shim-deps: ${#objs[@]} files, $(cut -d' ' -f1,2 "$tmp/edges" | sort -u | wc -l) uses, no circle"
