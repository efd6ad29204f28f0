// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * payload: reads every captured byte of the packet (up to 256, from the
 * IPv4 header on; 256 is the default snap length), hashes them with FNV-1a
 * and drops the packet when the hash is PAYLOAD_MAGIC, accepts it
 * otherwise. A benchmark of per-byte work: FNV-1a's serial dependency keeps
 * the compiler from skipping or vectorising the bytes away.
 * tests/bench/ebpf/payload.bpf.c computes the same in eBPF.
 */
#include "kwasm.h"

#define PAYLOAD_MAX	256
#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u
#ifndef PAYLOAD_MAGIC
#define PAYLOAD_MAGIC	0x4b57534du	/* "KWSM" */
#endif

static int payload(const struct kwasm_record *rec)
{
	uint32_t len = rec->cap_len < PAYLOAD_MAX ? rec->cap_len : PAYLOAD_MAX;
	uint32_t h = FNV_OFFSET;
	uint32_t i;

	for (i = 0; i < len; i++)
		h = (h ^ rec->pkt[i]) * FNV_PRIME;
	return h == PAYLOAD_MAGIC ? KWASM_DROP : KWASM_ACCEPT;
}

KWASM_FILTER(payload)
