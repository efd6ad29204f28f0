#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM (built by tests/vm/run.sh): set up a minimal system,
# run /test.sh, print the marker run.sh waits for, and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# Show every kernel message on the console from now on, so that run.sh sees
# warnings interleaved with the test's output.
echo 7 >/proc/sys/kernel/printk
ip link set lo up

# kmemleak (the debug kernel): what the boot left unreferenced is not the
# test's; mark it seen, so that the scan after the test reports only new
# leaks.
kmemleak=/sys/kernel/debug/kmemleak
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
if [ -e $kmemleak ]; then
	echo scan >$kmemleak
	echo clear >$kmemleak
fi

echo "guest: $(uname -r), $(nproc) cpus, running /test.sh"
cd /tmp && sh /test.sh
status=$?
# kmemleak reports only objects older than its fixed minimum age (5 s,
# MSECS_MIN_AGE in mm/kmemleak.c): wait that out, so that what the test's
# last steps (an rmmod) leaked is seen, then scan. The kernel logs the
# count; the report goes to the console, which run.sh reads.
if [ -e $kmemleak ]; then
	sleep 6
	echo scan >$kmemleak
	if [ -s $kmemleak ]; then
		echo "KWASM-KMEMLEAK: unreferenced objects after the test:"
		cat $kmemleak
	fi
fi
echo "KWASM-VM-DONE $(cat /token) status=$status"
poweroff -f
