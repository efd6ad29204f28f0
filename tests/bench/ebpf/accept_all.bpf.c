// SPDX-License-Identifier: GPL-2.0
/* accept_all: the cost of running a netfilter program at all. */
#include "nf.h"

SEC("netfilter")
int accept_all(struct bpf_nf_ctx *ctx)
{
	return NF_ACCEPT;
}

char _license[] SEC("license") = "GPL";
