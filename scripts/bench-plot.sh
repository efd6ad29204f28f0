#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# SVG plots of a saved `make bench` output (its "bench testrun" and "bench
# flood" lines, tests/vm/bench-guest.sh), drawn with gnuplot:
#
#   scripts/bench-plot.sh [build/bench/last.txt] [OUTDIR]
#
# OUTDIR (default: the output's directory) gets testrun.svg (ns per packet
# by program, kwasm next to eBPF, bars at the median, whiskers from min to
# max, log scale) and flood.svg (UDP flood packets/s by configuration, same whiskers).
set -euo pipefail

in=${1:-build/bench/last.txt}
[ -f "$in" ] || { echo "bench-plot: no $in (run make bench first)" >&2; exit 2; }
outdir=${2:-$(dirname "$in")}
command -v gnuplot >/dev/null || { echo "bench-plot: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 2; }
mkdir -p "$outdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# value <line> <key>: key=value of a bench line; NaN (a gap) when missing.
value() {
	local v
	v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p")
	echo "${v:-NaN}"
}
line() { # line <kind> <engine> <name>: that bench line, or nothing
	grep -E "^bench $1 $2 $3 " "$in" | tail -n 1 || true
}

title=$(sed -n 's/^run\.sh: \([^:]*\): guest exited.*/kernel \1/p' "$in" | tail -n 1)
title=${title:-kwasm bench}

rows=0
for prog in accept_all drop_port payload orig_drop_port; do
	k=$(line testrun kwasm "$prog") e=$(line testrun ebpf "$prog")
	[ -n "$k$e" ] || continue
	echo "$prog $(value "$k" median) $(value "$k" min) $(value "$k" max)" \
		"$(value "$e" median) $(value "$e" min) $(value "$e" max)"
	rows=$((rows + 1))
done >"$work/testrun.dat"

for config in "none no_module" "kwasm no_program" "kwasm accept_all" "kwasm drop_port" \
	"ebpf accept_all" "ebpf drop_port"; do
	l=$(line flood "${config% *}" "${config#* }")
	[ -n "$l" ] || continue
	case $config in
	"none no_module") label='no filter' ;;
	"kwasm no_program") label='kwasm, no program' ;;
	kwasm*) label="kwasm ${config#* }" ;;
	ebpf*) label="eBPF ${config#* }" ;;
	esac
	echo "\"$label\" $(value "$l" median) $(value "$l" min) $(value "$l" max)"
done >"$work/flood.dat"

[ "$rows" -gt 0 ] || [ -s "$work/flood.dat" ] ||
	{ echo "bench-plot: no bench lines in $in" >&2; exit 1; }

if [ "$rows" -gt 0 ]; then
	gnuplot <<-GP
	set terminal svg size 800,480 dynamic font "sans,12" noenhanced
	set output "$outdir/testrun.svg"
	set title "ns per test-run, median (min-max)\n$title, QEMU TCG"
	set ylabel "ns per run (log scale)"
	set style data histogram
	set style histogram errorbars gap 2 lw 1
	set style fill solid 0.8 border -1
	set key top left
	# kwasm's payload run is 10-100 times the others: a log scale.
	set logscale y
	set yrange [10:*]
	set grid ytics
	plot "$work/testrun.dat" using 2:3:4:xtic(1) title "kwasm", \
	     "" using 5:6:7 title "eBPF"
	GP
	echo "bench-plot: $outdir/testrun.svg"
fi
if [ -s "$work/flood.dat" ]; then
	gnuplot <<-GP
	set terminal svg size 800,480 dynamic font "sans,12" noenhanced
	set output "$outdir/flood.svg"
	set title "UDP flood, packets/s, median (min-max)\n$title, QEMU TCG"
	set ylabel "packets/s"
	set style data histogram
	set style histogram errorbars gap 1 lw 1
	set style fill solid 0.8 border -1
	set key off
	set yrange [0:*]
	set grid ytics
	set xtics rotate by -30
	plot "$work/flood.dat" using 2:3:4:xtic(1)
	GP
	echo "bench-plot: $outdir/flood.svg"
fi
