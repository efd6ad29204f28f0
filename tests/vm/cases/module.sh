#!/bin/sh
# The module loads, creates /dev/kwasm (0600) and /proc/kwasm, and removes
# both when unloaded.
. /lib.sh

expect_ok modprobe kwasm
check "/dev/kwasm appears" wait_for '[ -c /dev/kwasm ]' 5
mode=$(stat -c %a /dev/kwasm 2>/dev/null)
check "/dev/kwasm has mode 0600 (is $mode)" [ "$mode" = 600 ]
check "/proc/kwasm exists" [ -r /proc/kwasm ]
check "kwasmctl status works with no program" kwasmctl status
expect_ok rmmod kwasm
check "/dev/kwasm is gone" wait_for '[ ! -e /dev/kwasm ]' 5
check "/proc/kwasm is gone" [ ! -e /proc/kwasm ]
expect_ok insmod /kwasm.ko
expect_ok rmmod kwasm
finish
