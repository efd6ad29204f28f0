#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The figures docs/SAFETY.md quotes, read from the logs of the last
# `make check` (build/vm-logs/<kernel>/<case>.log, build/fuzz/<target>.log).
#
#   scripts/safety-figures.sh [--kernels "6.1 6.12 ..."] (default: scripts/kernel.sh list)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernels=$("$top/scripts/kernel.sh" list)
[ "${1:-}" = --kernels ] && kernels=$2

# show <log> <extended regex>: the matching lines, without console noise.
show() {
	[ -f "$1" ] || { echo "    (no log: $1)"; return; }
	grep -aE "$2" "$1" | sed 's/\r$//; s/^ */    /'
}

for k in $kernels; do
	logs=$top/build/vm-logs/$k
	echo "## Linux $k ($(grep -aoE 'guest: [^,]*' "$logs/module.log" 2>/dev/null | head -n 1 | cut -c8-))"
	echo
	echo "cases (assertions passed/failed per VM boot):"
	for log in "$logs"/*.log; do
		printf '    %-16s %s\n' "$(basename "$log" .log)" \
			"$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)"
	done
	echo "checkers live in the booted kernel (checkers case):"
	show "$logs/checkers.log" '^kernel under test|^(PASS|FAIL): (lockdep is still|debug objects warned|KASAN is|kmemleak is|/sys/kernel/realtime|KFENCE|slub_debug)|^note: '
	echo "stack:"
	show "$logs/stack.log" '^figure: |no_stack counted'
	echo "fuel:"
	show "$logs/fuel.log" 'PASS: (a finite loop uses|log is rate-limited|every trap is out_of_fuel|out_of_fuel keeps growing)'
	echo "hostile uploads (kwasm-hostile corpus):"
	show "$logs/hostile.log" '^[0-9]+ passed, [0-9]+ failed$' | head -n 1
	echo "memory.grow in the packet path:"
	show "$logs/memory_grow.log" 'PASS: .*(grow|pages|bytes)'
	echo "concurrency:"
	show "$logs/concurrency.log" '^(baseline|loader 1|[0-9]+ reloads during|live objects of all)|PASS: (100 reloads|10 insmod|TCP echoes|no TCP echo|live kmalloc|live objects of all|alloc_blocks 0, alloc_bytes 0: zero after unload)'
	echo "spec tests in the kernel:"
	# The first total is the suite's; later ones are the case's own checks.
	show "$logs/spec.log" '^ *total: |^spec: ' | head -n 2
	echo
done

echo "## Fuzzing (host, the make check step)"
for log in "$top"/build/fuzz/*.log; do
	[ -f "$log" ] || continue
	printf '    %-16s %s; %s\n' "$(basename "$log" .log)" \
		"$(grep -aE '^Done [0-9]+ runs' "$log" | tail -n 1)" \
		"$(grep -aoE 'cov: [0-9]+' "$log" | tail -n 1)"
done
