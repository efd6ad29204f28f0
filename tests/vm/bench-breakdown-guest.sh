#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/bench-breakdown.sh: ns per test-run of
# accept_all and drop_port with the instrumented module (/files/kwasm.ko)
# stopping each run at one cut point after another (its module parameter
# bench_cut, tests/bench/breakdown.patch), then with the plain module of
# the same tree, next to the eBPF programs doing the same check, in this
# one boot. Figures, not pass/fail.
. /lib.sh

runs=${KWASM_BENCH_RUNS:-20000}
rounds=${KWASM_BENCH_ROUNDS:-7}
tcp_args="--proto tcp --src 10.0.0.1:40000 --dst 127.0.0.1:80"
progs="accept_all drop_port"
# cut number, name: where each run stops (0: it runs to the end).
cuts="1:harness 2:ffi 3:instance 4:stack_check 5:no_wasm3 0:full"
instrumented=/files/kwasm.ko
plain=$(modinfo -n kwasm) || exit 1
param=/sys/module/kwasm/parameters/bench_cut

# insert <module>: insert it, wait for its device, and run every program
# once untimed: under TCG the first runs of fresh module code pay for its
# translation (about 60 ns per run over 20000 runs), which would land on
# whichever row came first.
insert() {
	insmod "$1" || exit 1
	wait_for '[ -c /dev/kwasm ]' 5 || exit 1
	for prog in $progs; do
		# shellcheck disable=SC2086
		kwasmctl test-run --prog "/wasm/$prog.wasm" $tcp_args \
			--repeat "$runs" >/dev/null || exit 1
	done
}

ns() { sed -n 's/^ns\/run: //p'; }

# sample <engine> <row> <prog> <ns>
sample() { echo "sample $round $1 $2 $3 $4" >>/tmp/samples; }

for round in $(seq "$rounds"); do
	insert "$instrumented"
	[ -w "$param" ] || { echo "bench-breakdown: $instrumented has no bench_cut" >&2; exit 1; }
	for cut in $cuts; do
		echo "${cut%%:*}" >"$param"
		for prog in $progs; do
			# shellcheck disable=SC2086
			sample kwasm "${cut#*:}" "$prog" "$(kwasmctl test-run \
				--prog "/wasm/$prog.wasm" $tcp_args --repeat "$runs" | ns)"
		done
	done
	rmmod kwasm || exit 1
	insert "$plain"
	for prog in $progs; do
		# shellcheck disable=SC2086
		sample kwasm plain "$prog" "$(kwasmctl test-run \
			--prog "/wasm/$prog.wasm" $tcp_args --repeat "$runs" | ns)"
	done
	rmmod kwasm || exit 1
	if command -v bpfbench >/dev/null && [ -f /bpf/accept_all.bpf.o ]; then
		for prog in $progs; do
			# shellcheck disable=SC2086
			sample ebpf full "$prog" "$(bpfbench test-run \
				"/bpf/$prog.bpf.o" $tcp_args --repeat "$runs" | ns)"
		done
	fi
done

# cell <engine> <cut> <prog>: "median (min-max)" of the rounds.
cell() {
	grep " $1 $2 $3 " /tmp/samples | awk '{ print $6 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%d (%d-%d)\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

echo "spectre_v2: $(cat /sys/devices/system/cpu/vulnerabilities/spectre_v2)"
echo "### ns per test-run, median (min-max) of $rounds rounds of $runs runs; each kwasm row stops the run at a later point"
printf '%-12s %-40s %-18s %-18s\n' cut "the run stops" accept_all drop_port
for cut in $cuts 0:plain; do
	name=${cut#*:}
	case $name in
	harness) what="before calling the core (test-run loop)" ;;
	ffi) what="in the core, no program (FFI, result)" ;;
	instance) what="after taking this CPU's instance" ;;
	stack_check) what="after the native stack check" ;;
	no_wasm3) what="where wasm3 would be entered" ;;
	full) what="nowhere: the program runs" ;;
	plain) what="the plain module (no cut points)" ;;
	esac
	a=$(cell kwasm "$name" accept_all)
	d=$(cell kwasm "$name" drop_port)
	printf '%-12s %-40s %-18s %-18s\n' "$name" "$what" "$a" "$d"
	echo "bench breakdown kwasm $name accept_all=${a%% *} drop_port=${d%% *}" >>/tmp/lines
done
if grep -q " ebpf " /tmp/samples; then
	a=$(cell ebpf full accept_all)
	d=$(cell ebpf full drop_port)
	printf '%-12s %-40s %-18s %-18s\n' ebpf "the eBPF program, BPF_PROG_TEST_RUN" "$a" "$d"
	echo "bench breakdown ebpf full accept_all=${a%% *} drop_port=${d%% *}" >>/tmp/lines
fi
cat /tmp/lines
