#!/bin/sh
# /dev/kwasm is 0600 and every operation needs CAP_NET_ADMIN: uid 65534
# cannot open it (EACCES), nor with mode 0666 (EPERM), and a descriptor
# root opened gets EPERM from LOAD, UNLOAD, TEST_RUN and write() once its
# process has dropped to uid 65534; the loaded program is untouched. The
# sized requests (map, program, events) refuse a short size with EINVAL
# and a non-zero tail or a size over 4096 with E2BIG.
. /lib.sh

module_load || fail "module loads"
check "/dev/kwasm is a character device of uid 0, mode 600" \
	[ "$(stat -c '%F %u %a' /dev/kwasm)" = "character special file 0 600" ]
if kwasm-hostile permissions; then
	pass "permission checks"
else
	fail "permission checks"
fi
check "/dev/kwasm is back to 0600" [ "$(stat -c %a /dev/kwasm)" = 600 ]
# The size rules of the requests that start with their size (map, program
# and events requests), with no program loaded.
check "no program is loaded" [ "$(status_field programs)" = 0 ]
if kwasm-hostile requests; then
	pass "sized requests: short EINVAL, non-zero tail and over 4096 E2BIG"
else
	fail "sized requests"
fi
finish
