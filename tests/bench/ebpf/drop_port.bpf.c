// SPDX-License-Identifier: GPL-2.0
/*
 * drop_port: drops TCP packets to destination port 23557, accepts the rest;
 * the check wasm/examples/drop_port.c makes (through kwasm_ip4_parse):
 * an IPv4 header, TCP, the first fragment, its destination port.
 */
#include "nf.h"

#ifndef PORT
#define PORT 23557
#endif

struct ip4 {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
};

struct ports {
	__be16 source;
	__be16 dest;
};

SEC("netfilter")
int drop_port(struct bpf_nf_ctx *ctx)
{
	struct ip4 ip_buf, *ip;
	struct ports ports_buf, *ports;
	struct bpf_dynptr ptr;
	__u32 ihl;

	if (nf_packet(ctx, &ptr))
		return NF_ACCEPT;
	ip = bpf_dynptr_slice(&ptr, 0, &ip_buf, sizeof(ip_buf));
	/* A short or non-IPv4 header cannot match: let it through. */
	if (!ip || ip->ver_ihl >> 4 != 4 || (ip->ver_ihl & 0xf) < 5)
		return NF_ACCEPT;
	if (ip->protocol != IPPROTO_TCP_ || (bpf_ntohs(ip->frag_off) & 0x1fff))
		return NF_ACCEPT;
	ihl = (ip->ver_ihl & 0xf) * 4;
	ports = bpf_dynptr_slice(&ptr, ihl, &ports_buf, sizeof(ports_buf));
	if (ports && ports->dest == bpf_htons(PORT))
		return NF_DROP;
	return NF_ACCEPT;
}

char _license[] SEC("license") = "GPL";
