// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * blocklist: drops packets whose IPv4 source address is in the hash map
 * "blocked", accepts the rest. The map starts empty; user space fills it
 * while traffic flows:
 *
 *   kwasmctl map update blocked 127.0.0.2 1
 *   kwasmctl map delete blocked 127.0.0.2
 *
 * One map lookup per packet; the value is not used (any value blocks).
 */
#include "kwasm.h"

KWASM_MAP_HASH(blocked, uint32_t, 4, uint8_t, 1, 1024, "ipv4", "u8")

static int blocklist(const struct kwasm_record *rec)
{
	uint32_t saddr = rec->saddr;
	uint8_t listed;

	if (blocked_lookup(&saddr, &listed) == 0)
		return KWASM_DROP;
	return KWASM_ACCEPT;
}

KWASM_FILTER(blocklist)
