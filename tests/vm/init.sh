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

# kmemleak (the debug kernel) reports an object once it is older than 5 s
# (MSECS_MIN_AGE in mm/kmemleak.c) and was found unreferenced, with
# unchanged contents, by two scans in a row: the first only records its
# checksum. What the boot left unreferenced is not the test's: report it
# now and mark it seen, so that the scans after the test report only new
# leaks.
kmemleak=/sys/kernel/debug/kmemleak
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
kmemleak_scan() {
	echo scan >$kmemleak
	echo scan >$kmemleak
}
if [ -e $kmemleak ]; then
	kmemleak_scan
	echo clear >$kmemleak
fi

echo "guest: $(uname -r), $(nproc) cpus, running /test.sh"
cd /tmp && sh /test.sh
status=$?
# kmemleak's minimum age is fixed, not a condition to wait for: wait it out,
# so that what the test's last steps (an rmmod) leaked is seen, then scan.
# The kernel logs the count; the report goes to the console, which run.sh
# reads.
if [ -e $kmemleak ]; then
	sleep 6
	kmemleak_scan
	if [ -s $kmemleak ]; then
		echo "KWASM-KMEMLEAK: unreferenced objects after the test:"
		cat $kmemleak
	fi
fi
echo "KWASM-VM-DONE $(cat /token) status=$status"
poweroff -f
