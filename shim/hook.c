// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: a netfilter hook that hands every IPv4 packet to the
 * attached program and turns its verdict into NF_DROP or NF_ACCEPT.
 *
 * Rules (docs/ARCHITECTURE.md): no lock, no allocation, no sleeping. The
 * program is found under RCU; the per-CPU instance is kept to this CPU by
 * disabling bottom halves, so a process-context hook cannot be interrupted by
 * a softirq that runs the same instance.
 */
#include <linux/bottom_half.h>
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/netfilter_ipv4.h>
#include <linux/preempt.h>
#include <linux/skbuff.h>
#include <linux/smp.h>

#include "hook.h"
#include "kwasm_core.h"

/* Published and retired by attach.c (kwasm_attach(), kwasm_detach()). */
struct kwasm_attachment __rcu *kwasm_attached;

static const char * const hook_names[NF_INET_NUMHOOKS] = {
	[NF_INET_PRE_ROUTING] = "pre-routing",
	[NF_INET_LOCAL_IN] = "local-in",
	[NF_INET_FORWARD] = "forward",
	[NF_INET_LOCAL_OUT] = "local-out",
	[NF_INET_POST_ROUTING] = "post-routing",
};

const char *kwasm_hook_name(unsigned int hook)
{
	return hook < NF_INET_NUMHOOKS ? hook_names[hook] : "?";
}

/*
 * Run @prog on this CPU's instance with bottom halves disabled: the
 * instance cannot be re-entered and the task cannot migrate. A hook that
 * runs in a softirq, or a caller that disabled them (test-run), already
 * has that; only a process-context hook (local-out) pays for the toggle.
 */
void kwasm_run(struct kwasm_prog *prog, const struct kwasm_pkt *pkt,
	       struct kwasm_run_result *res)
{
	if (softirq_count()) {
		kwasm_core_prog_run(prog, smp_processor_id(), pkt, res);
		return;
	}
	local_bh_disable();
	kwasm_core_prog_run(prog, smp_processor_id(), pkt, res);
	local_bh_enable();
}

static unsigned int kwasm_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state)
{
	struct kwasm_attachment *att = priv;
	struct kwasm_run_result res;
	struct kwasm_pkt pkt = {
		.skb = skb,
		.len = skb->len - skb_network_offset(skb),
		.hook = state->hook,
		.ifindex_in = state->in ? state->in->ifindex : 0,
		.ifindex_out = state->out ? state->out->ifindex : 0,
		.mark = skb->mark,
	};

	/*
	 * During a replacement the old and the new program are both
	 * registered for a moment; only the published one decides.
	 * nf_hook() holds the RCU read lock, and @att lives until its
	 * hook is unregistered and a grace period has passed.
	 */
	if (rcu_access_pointer(kwasm_attached) != att)
		return NF_ACCEPT;

	kwasm_run(att->prog, &pkt, &res);
	return res.verdict == KWASM_DROP ? NF_DROP : NF_ACCEPT;
}

void kwasm_hook_init_ops(struct nf_hook_ops *ops, unsigned int hook,
			 int priority, void *priv)
{
	*ops = (struct nf_hook_ops) {
		.hook = kwasm_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = hook,
		.priority = priority,
		.priv = priv,
	};
}
