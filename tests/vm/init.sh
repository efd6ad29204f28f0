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

echo "guest: $(uname -r), $(nproc) cpus, running /test.sh"
cd /tmp && sh /test.sh
status=$?
echo "KWASM-VM-DONE $(cat /token) status=$status"
poweroff -f
