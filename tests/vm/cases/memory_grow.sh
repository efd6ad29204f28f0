#!/bin/sh
# memory.grow on the packet path (atomic allocation, never sleeps): a
# program grows its memory one page per packet under a UDP flood until
# grow returns -1 in every instance. Atomic allocations are kmalloc() only,
# so the packet path stops near 4 MiB per instance (63 pages), below the
# 256-page limit a load may ask for. Writes into each new page read back,
# nothing traps, and the kernel reports no warning (run.sh fails the case on
# any WARNING or sleep-in-atomic splat).
. /lib.sh

module_load || fail "module loads"
load_prog /fixtures/grow_per_packet.wat --name grow
instances=$(status_field instances)
dmesg -c >/dev/null
full() { [ "$(dmesg | grep -c 'kwasm: grow: grow failed')" -ge "$instances" ]; }
for _ in 1 2 3 4 5 6 7 8 9 10; do
	full && break
	nettool flood 127.0.0.1:23559 --udp --count 500 >/dev/null 2>&1
done
check "grow returned -1 in all $instances instances" full
check "memory grew past the first page of each (memory $(status_field memory))" \
	[ "$(status_field memory)" -gt $((instances * 65536)) ]
check "no run trapped (traps $(status_field traps))" [ "$(status_field traps)" = 0 ]
expect_dmesg 'kwasm: grow: grow failed' "memory.grow returned -1 at the limit"
check "heap is reported ($(status_field heap) bytes)" [ "$(status_field heap)" -gt 0 ]
expect_verdict accept --proto udp --src 127.0.0.1:1000 --dst 127.0.0.1:53
finish
