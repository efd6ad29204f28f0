#!/usr/bin/env bash
# Refuse kernel objects with code the kernel cannot run: SSE/AVX
# instructions (the kernel does not save user FPU state around our code) and
# GOT relocations (the module loader does not resolve them).
#
#   scripts/check-object.sh file.o|file.ko
set -euo pipefail

obj=${1:?usage: $0 OBJECT}
bad=0

sse=$(objdump -d --no-show-raw-insn "$obj" | grep -E '%[xyz]mm[0-9]' | head -n 5 || true)
if [ -n "$sse" ]; then
	echo "check-object: $obj uses SSE/AVX registers:" >&2
	echo "$sse" >&2
	bad=1
fi

got=$(readelf -rW "$obj" | grep -E 'GOT' | head -n 5 || true)
if [ -n "$got" ]; then
	echo "check-object: $obj has GOT relocations:" >&2
	echo "$got" >&2
	bad=1
fi
exit $bad
