// SPDX-License-Identifier: GPL-2.0
/*
 * payload: reads every byte of the packet up to 256 (from the IPv4 header
 * on, kwasm's default snap length), hashes them with FNV-1a and drops the
 * packet when the hash is PAYLOAD_MAGIC. FNV-1a's serial dependency keeps
 * the compiler from skipping or vectorising the bytes away; the same
 * computation as wasm/examples/payload.c.
 */
#include "nf.h"

#define PAYLOAD_MAX	256
#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u
#ifndef PAYLOAD_MAGIC
#define PAYLOAD_MAGIC	0x4b57534du	/* "KWSM" */
#endif

SEC("netfilter")
int payload(struct bpf_nf_ctx *ctx)
{
	__u8 buf[PAYLOAD_MAX];
	struct bpf_dynptr ptr;
	__u32 h = FNV_OFFSET;
	__u64 len, i;

	if (nf_packet(ctx, &ptr))
		return NF_ACCEPT;
	/* 64 bits: the verifier bounds the register clang passes on. */
	len = bpf_dynptr_size(&ptr);
	if (len > PAYLOAD_MAX)
		len = PAYLOAD_MAX;
	if (bpf_dynptr_read(buf, len, &ptr, 0, 0))
		return NF_ACCEPT;
	for (i = 0; i < len && i < PAYLOAD_MAX; i++)
		h = (h ^ buf[i]) * FNV_PRIME;
	return h == PAYLOAD_MAGIC ? NF_DROP : NF_ACCEPT;
}

char _license[] SEC("license") = "GPL";
