#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Rust core's layers point one way (docs/ARCHITECTURE.md, "Layers"):
# a module may use its own layer and those below it, never one above.
# Every `crate::` and `super::` path in core/src is checked; lib.rs (the crate root,
# which only declares and re-exports) is not. Prints each offending line
# and exits 1; prints one summary line otherwise.
set -euo pipefail

cd "$(dirname "$0")/../core/src"

# Lowest first. A module path is matched by its longest listed prefix.
layers=(
	"abi"
	"util"
	"ffi::sys"
	"ffi::services ffi::kernel"
	"engine"
	"maps"
	"filter"
	"invoke"
	"ffi::exports ffi"
)

rank_of() { # rank_of <module path like engine::wasm3>: its layer's index
	local path=$1 best=-1 best_len=0 i prefix
	for i in "${!layers[@]}"; do
		for prefix in ${layers[$i]}; do
			if [[ $path == "$prefix" || $path == "$prefix::"* ]] &&
				[ ${#prefix} -gt $best_len ]; then
				best=$i
				best_len=${#prefix}
			fi
		done
	done
	echo "$best"
}

bad=0
checked=0
while IFS= read -r file; do
	[ "$file" = lib.rs ] && continue
	module=${file%.rs}
	module=${module%/mod}
	module=${module//\//::}
	own=$(rank_of "$module")
	if [ "$own" -lt 0 ]; then
		echo "check-layers: core/src/$file is in no layer; add it to $0" >&2
		bad=1
		continue
	fi
	# super:: is the parent of this module (of the directory, for mod.rs).
	parent=${module%::*}
	[ "$parent" = "$module" ] && parent=
	[ "${file##*/}" = mod.rs ] && parent=${module%::*} && [ "$parent" = "$module" ] && parent=
	while IFS=: read -r line used; do
		case $used in
		crate::*) used=${used#crate::} ;;
		super::*) used=${parent:+$parent::}${used#super::} ;;
		esac
		rank=$(rank_of "$used")
		checked=$((checked + 1))
		if [ "$rank" -lt 0 ]; then
			echo "core/src/$file:$line: crate::$used is in no layer" >&2
			bad=1
		elif [ "$rank" -gt "$own" ]; then
			echo "core/src/$file:$line: $module (${layers[$own]%% *}) uses crate::$used (${layers[$rank]%% *}), a higher layer" >&2
			bad=1
		fi
	done < <(grep -no '\(crate\|super\)::[a-z_][a-z0-9_]*\(::[a-z_][a-z0-9_]*\)\?' "$file")
done < <(find . -name '*.rs' | sed 's|^\./||' | sort)

if [ "$bad" -ne 0 ]; then
	echo "check-layers: a lower layer uses a higher one (see above)" >&2
	exit 1
fi
echo "check-layers: $checked crate:: and super:: paths in core/src, all to the same or a lower layer"
