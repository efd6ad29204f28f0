#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# SVG plots of a saved `make bench` output (its "bench testrun", "bench
# flood" and "bench rate" lines, tests/vm/bench-guest.sh), drawn with gnuplot:
#
#   scripts/bench-plot.sh [build/bench/last.txt] [OUTDIR]
#
# OUTDIR (default: the output's directory) gets testrun.svg (ns per packet
# by program, kwasm next to eBPF, bars at the median, whiskers from min to
# max, log scale; each kwasm program next to the eBPF program doing the same
# check), flood.svg (UDP flood packets/s by configuration, same whiskers),
# rate.svg (packets/s delivered to the echo server against the offered rate
# of paced floods, a line per configuration, with delivered = offered for
# reference) and cpus.svg (load time and memory per program against the CPU
# count, from the "bench cpus" lines of tests/bench-cpus.sh).
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
for prog in accept_all drop_port drop_port_v1 payload orig_drop_port; do
	case $prog in
	drop_port_v1 | orig_drop_port) twin=drop_port ;;
	*) twin=$prog ;;
	esac
	k=$(line testrun kwasm "$prog") e=$(line testrun ebpf "$twin")
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

# "bench cpus N PROG load_ms=.. instances=.. memory=.. heap=..": one data
# block per program (gnuplot's index), rows by CPU count.
progs=$(awk '/^bench cpus / { print $4 }' "$in" | awk '!seen[$0]++')
for prog in $progs; do
	echo "# $prog"
	grep -E "^bench cpus [0-9]+ $prog " "$in" | while read -r l; do
		n=$(awk '{ print $3 }' <<<"$l")
		echo "$n $(value "$l" load_ms) $(value "$l" heap) $(value "$l" memory)"
	done | sort -n
	printf '\n\n'
done >"$work/cpus.dat"

# "bench rate ENGINE CONFIG offered=.. sent=.. delivered=..": one data
# block per configuration, rows by offered rate.
rate_plots=() i=0
for config in "none no_module" "kwasm accept_all" "kwasm drop_port" \
	"ebpf accept_all" "ebpf drop_port"; do
	grep -qE "^bench rate $config " "$in" || continue
	case $config in
	"none no_module") label='no filter' ;;
	kwasm*) label="kwasm ${config#* }" ;;
	ebpf*) label="eBPF ${config#* }" ;;
	esac
	grep -E "^bench rate $config " "$in" | while read -r l; do
		echo "$(value "$l" offered) $(value "$l" delivered)"
	done | sort -n >>"$work/rate.dat"
	printf '\n\n' >>"$work/rate.dat"
	rate_plots+=("\"$work/rate.dat\" index $i using 1:2 with linespoints title \"$label\"")
	i=$((i + 1))
done

[ "$rows" -gt 0 ] || [ -s "$work/flood.dat" ] || [ -n "$progs" ] || [ "$i" -gt 0 ] ||
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
if [ "${#rate_plots[@]}" -gt 0 ]; then
	gnuplot <<-GP
	set terminal svg size 800,480 dynamic font "sans,12" noenhanced
	set output "$outdir/rate.svg"
	set title "UDP packets/s delivered to the echo server against the offered rate\n$title, QEMU TCG"
	set xlabel "offered packets/s"
	set ylabel "delivered packets/s"
	set xrange [0:*]
	set yrange [0:*]
	set grid
	set key top left
	plot $(IFS=,; echo "${rate_plots[*]}"), \
	     x with lines dashtype 2 lc rgb "gray" title "delivered = offered"
	GP
	echo "bench-plot: $outdir/rate.svg"
fi
if [ -n "$progs" ]; then
	plots=() i=0
	for prog in $progs; do
		plots+=("\"$work/cpus.dat\" index $i using 1:2 with linespoints title \"$prog\"")
		i=$((i + 1))
	done
	mem_plots=() i=0
	for prog in $progs; do
		mem_plots+=("\"$work/cpus.dat\" index $i using 1:((\$3 + \$4) / 1048576) with linespoints title \"$prog\"")
		i=$((i + 1))
	done
	gnuplot <<-GP
	set terminal svg size 900,420 dynamic font "sans,12" noenhanced
	set output "$outdir/cpus.svg"
	set multiplot layout 1,2 title "Loading a program by CPU count (one instance per CPU)\n$title, QEMU TCG"
	set xlabel "CPUs"
	set grid
	set key top left
	set ylabel "ms per load"
	plot $(IFS=,; echo "${plots[*]}")
	set ylabel "MiB (linear memory + wasm3 heap)"
	plot $(IFS=,; echo "${mem_plots[*]}")
	unset multiplot
	GP
	echo "bench-plot: $outdir/cpus.svg"
fi
