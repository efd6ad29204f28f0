#!/bin/sh
# The harness's own test on the debug kernel (tests/check.sh): the kernel's
# kmemleak sample module leaks on purpose, so the scan after the script
# (tests/vm/init.sh) must report it and run.sh must fail the run with 123.
. /lib.sh

expect_ok insmod /files/kmemleak-test.ko
expect_ok rmmod kmemleak_test
finish
