#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/bench-cpus.sh: what loading a program costs with
# this VM's number of CPUs. Every possible CPU gets its own instance, so
# load time and memory grow with the CPU count; this prints how much.
#
# One line per program, e.g.
#   bench cpus 16 drop_port load_ms=41.0 instances=16 memory=1114112 heap=...
# load_ms: wall time of one load, from `time` over $loads loads of the same
# program (each replacing the previous one; busybox's time has 10 ms
# resolution). memory: linear memory of all instances; heap: wasm3's heap
# besides linear memory (code pages, runtime, module); both bytes, from
# /proc/kwasm after the last load.
. /lib.sh

loads=10
cpus=$(grep -c '^processor' /proc/cpuinfo)
module_load || exit 1

for prog in accept_all drop_port log_every_n rust_drop_port; do
	kwasmctl load "/wasm/$prog.wasm" --name bench >/dev/null || exit 1
	# shellcheck disable=SC2016
	time -p sh -c 'i=0; while [ $i -lt "$1" ]; do
		kwasmctl load "$2" --name bench >/dev/null || exit 1; i=$((i + 1)); done' \
		- "$loads" "/wasm/$prog.wasm" 2>/tmp/time || exit 1
	total=$(awk '/^real/ { print $2 }' /tmp/time)
	ms=$(awk -v t="$total" -v n="$loads" 'BEGIN { printf "%.1f", t * 1000 / n }')
	echo "bench cpus $cpus $prog load_ms=$ms" \
		"instances=$(status_field instances)" \
		"memory=$(status_field memory)" \
		"heap=$(status_field heap)" \
		"size=$(stat -c %s "/wasm/$prog.wasm")"
done
kwasmctl unload >/dev/null
rmmod kwasm
