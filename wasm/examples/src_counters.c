// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * src_counters: counts packets and bytes (IPv4 total length) per source
 * address in the hash map "by_src", and accepts every packet. Read with
 *
 *   kwasmctl map dump by_src
 *
 * Each counter is one map_add: an atomic add to a u64 shared by all CPUs; a
 * new source is inserted with zeroed counters first. When the map is full
 * (SOURCES sources, 4096 unless built with -DSOURCES=N) new sources are not
 * counted; the map's "full" figure says how often that happened.
 */
#include "kwasm.h"

#ifndef SOURCES
#define SOURCES 4096
#endif

struct counters {
	uint64_t packets;
	uint64_t bytes;
};

KWASM_MAP_HASH(by_src, uint32_t, 4, struct counters, 16, SOURCES, "ipv4",
	       "packets:u64,bytes:u64")

static int src_counters(const struct kwasm_record *rec)
{
	uint32_t saddr = rec->saddr;

	by_src_add(&saddr, offsetof(struct counters, packets), 1);
	by_src_add(&saddr, offsetof(struct counters, bytes), rec->pkt_len);
	return KWASM_ACCEPT;
}

KWASM_FILTER(src_counters)
