/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the bench's netfilter programs share: verdicts, the program context
 * and the kfuncs that read the packet. Built against the 6.12 uapi headers
 * (tools/include/uapi of linux-source-6.12) and that tree's libbpf headers,
 * without vmlinux.h.
 */
#ifndef KWASM_BENCH_NF_H
#define KWASM_BENCH_NF_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* include/uapi/linux/netfilter.h; not pulled in for two constants. */
#define NF_DROP		0
#define NF_ACCEPT	1

#define IPPROTO_TCP_	6

struct nf_hook_state;
struct sk_buff;

/*
 * The context of BPF_PROG_TYPE_NETFILTER programs. It is the kernel's
 * (include/net/netfilter/nf_bpf_link.h), not uapi, and only vmlinux.h would
 * declare it: two pointers, which the verifier checks by offset.
 */
struct bpf_nf_ctx {
	const struct nf_hook_state *state;
	struct sk_buff *skb;
};

/* kfuncs (net/core/filter.c, kernel/bpf/helpers.c): no direct packet access. */
extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags,
			       struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset,
			      void *buffer__opt, __u32 buffer__szk) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *ptr) __ksym;

/* The packet, from its IPv4 header on (skb->data at the netfilter hooks). */
static __always_inline int nf_packet(struct bpf_nf_ctx *ctx,
				     struct bpf_dynptr *ptr)
{
	return bpf_dynptr_from_skb((struct __sk_buff *)ctx->skb, 0, ptr);
}

#endif /* KWASM_BENCH_NF_H */
