#!/bin/sh
# The checkers each kernel of the matrix promises (scripts/kernel.sh) are
# live in the kernel that booted, and the module's life cycle runs under
# them: lockdep, PROVE_RCU, atomic-sleep checks, KASAN, kmemleak and debug
# objects on the debug kernel; PREEMPT_RT on the RT kernel; slub_debug and
# (where built in) KFENCE on Debian's stock kernels. Every case is watched the same way
# (tests/vm/run.sh); this one proves the watching is not vacuous, e.g.
# lockdep still on at the end means no report switched it off.
. /lib.sh

name=$(cat /kernel)
config_has() { zcat /proc/config.gz | grep -qx "CONFIG_$1=y"; }
debug_locks() { sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats; }
kfence_on() { grep -q '^enabled: 1' /sys/kernel/debug/kfence/stats; }
built_with() { grep -qx "CONFIG_$1=y" /kernel.config; }

# A load, traffic it drops and passes, a test-run, an unload and rmmod.
life_cycle() {
	module_load || fail "module loads"
	expect_ok nettool tcp-echo-server 127.0.0.1:23557 --daemon
	load_prog /wasm/drop_port.wasm
	tcp_blocked 23557
	expect_verdict drop --proto tcp --src 10.0.0.1:1 --dst 127.0.0.1:23557
	expect_ok kwasmctl unload
	tcp_passes 23557
	expect_ok rmmod kwasm
}

echo "kernel under test: $name ($(uname -r))"
case $name in
*-debug)
	for opt in PROVE_LOCKING PROVE_RCU DEBUG_ATOMIC_SLEEP KASAN KASAN_GENERIC \
		KASAN_VMALLOC DEBUG_KMEMLEAK DEBUG_OBJECTS; do
		check "the kernel runs with CONFIG_$opt" config_has "$opt"
	done
	check "lockdep is on (debug_locks: 1)" [ "$(debug_locks)" = 1 ]
	check "KASAN is initialized" sh -c 'dmesg | grep -q "KernelAddressSanitizer initialized"'
	check "kmemleak is on" [ -r /sys/kernel/debug/kmemleak ]
	check "debug objects are on" [ -r /sys/kernel/debug/debug_objects/stats ]
	life_cycle
	check "lockdep is still on after the module ran (debug_locks: 1)" [ "$(debug_locks)" = 1 ]
	check "debug objects warned of nothing" \
		grep -qE '^warnings *: *0$' /sys/kernel/debug/debug_objects/stats
	;;
*-rt)
	check "/sys/kernel/realtime is 1" [ "$(cat /sys/kernel/realtime)" = 1 ]
	check "uname -v says PREEMPT_RT" sh -c 'uname -v | grep -q PREEMPT_RT'
	life_cycle
	;;
*)
	# Debian builds 6.12 with KFENCE, 6.1 without.
	if built_with KFENCE; then
		check "KFENCE is on" kfence_on
	else
		echo "note: this kernel is built without KFENCE (CONFIG_KFENCE is not set)"
	fi
	check "slub_debug sanity checks are on" \
		[ "$(cat /sys/kernel/slab/kmalloc-64/sanity_checks)" = 1 ]
	life_cycle
	;;
esac
finish
