#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/bench-compare.sh: ns per test-run of each example
# with the base revision's module (/files/kwasm-base.ko) and this tree's,
# alternating, in this one boot. Figures, not pass/fail.
. /lib.sh

runs=${KWASM_BENCH_RUNS:-20000}
rounds=${KWASM_BENCH_ROUNDS:-3}
progs="accept_all drop_port udp_drop_port log_every_n orig_drop_port rust_drop_port drop_icmp"

# ns <prog>: ns per run of one TCP packet through the module loaded now.
ns() {
	kwasmctl test-run --prog "/wasm/$1.wasm" --proto tcp \
		--src 10.0.0.1:40000 --dst 127.0.0.1:80 --repeat "$runs" |
		sed -n 's/^ns\/run: //p'
}

base_module=/files/kwasm-base.ko
new_module=$(modinfo -n kwasm)
for round in $(seq "$rounds"); do
	for which in base new; do
		if [ "$which" = base ]; then
			insmod "$base_module" || exit 1
		else
			insmod "$new_module" || exit 1
		fi
		wait_for '[ -c /dev/kwasm ]' 5 || exit 1
		for prog in $progs; do
			echo "sample $round $which $prog $(ns "$prog")" | tee -a /tmp/samples
		done
		rmmod kwasm || exit 1
	done
done

# The median of the rounds, and the ratio new/base.
echo "### test-run: ns per run of one TCP packet ($runs runs, median of $rounds rounds)"
printf '%-20s %10s %10s %8s\n' program base new new/base
for prog in $progs; do
	b=$(grep " base $prog " /tmp/samples | awk '{print $5}' | sort -n | sed -n "$(((rounds + 1) / 2))p")
	n=$(grep " new $prog " /tmp/samples | awk '{print $5}' | sort -n | sed -n "$(((rounds + 1) / 2))p")
	printf '%-20s %10s %10s %8s\n' "$prog" "$b" "$n" \
		"$(awk -v b="$b" -v n="$n" 'BEGIN { if (b > 0) printf "%.2f", n / b }')"
done
