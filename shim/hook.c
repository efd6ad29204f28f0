// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: netfilter hooks that hand every IPv4 or IPv6 packet to
 * the program attached there and turn its verdict into NF_DROP or
 * NF_ACCEPT; and the optional count of the time programs run
 * (stats_enabled).
 *
 * Rules (docs/ARCHITECTURE.md): no lock, no allocation, no sleeping. The
 * program is the hook's own (its priv); the per-CPU instance is kept to this
 * CPU by disabling bottom halves, so a process-context hook cannot be
 * interrupted by a softirq that runs the same instance.
 */
#include <linux/bottom_half.h>
#include <linux/jump_label.h>
#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/skbuff.h>
#include <linux/smp.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>

#include "hook.h"
#include "kwasm_core.h"

/*
 * stats_enabled: count each program's run time and runs, like the
 * kernel.bpf_stats_enabled sysctl. A static key, so the hooks pay nothing
 * for it while it is off.
 */
static DEFINE_STATIC_KEY_FALSE(kwasm_stats_key);

static int kwasm_stats_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret;

	ret = kstrtobool(val, &on);
	if (ret)
		return ret;
	if (on)
		static_branch_enable(&kwasm_stats_key);
	else
		static_branch_disable(&kwasm_stats_key);
	return 0;
}

static int kwasm_stats_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n",
			  static_branch_unlikely(&kwasm_stats_key) ? 1 : 0);
}

static const struct kernel_param_ops kwasm_stats_ops = {
	.set = kwasm_stats_set,
	.get = kwasm_stats_get,
};
module_param_cb(stats_enabled, &kwasm_stats_ops, NULL, 0644);
MODULE_PARM_DESC(stats_enabled,
		 "1: count each program's run time and runs (kwasmctl show)");

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

const char *kwasm_family_name(u32 family)
{
	switch (family) {
	case KWASM_FAMILY_IPV4:
		return "ipv4";
	case KWASM_FAMILY_IPV6:
		return "ipv6";
	case KWASM_FAMILY_INET:
		return "inet";
	default:
		return "?";
	}
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

/* kwasm_run(), its time and the run counted on this CPU. */
static void kwasm_run_timed(struct kwasm_attachment *att,
			    const struct kwasm_pkt *pkt,
			    struct kwasm_run_result *res)
{
	u64 start = ktime_get_ns();

	kwasm_run(att->prog, pkt, res);
	this_cpu_add(att->run_time->ns, ktime_get_ns() - start);
	this_cpu_inc(att->run_time->count);
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
	 * registered for a moment; only the one its slot publishes
	 * decides. nf_hook() holds the RCU read lock, and @att and its
	 * slot live until its hooks are unregistered and a grace period
	 * has passed.
	 */
	if (rcu_access_pointer(att->slot->cur) != att)
		return NF_ACCEPT;

	if (static_branch_unlikely(&kwasm_stats_key))
		kwasm_run_timed(att, &pkt, &res);
	else
		kwasm_run(att->prog, &pkt, &res);
	return res.verdict == KWASM_DROP ? NF_DROP : NF_ACCEPT;
}

static void kwasm_init_op(struct nf_hook_ops *ops, u8 pf,
			  const struct kwasm_prog_opts *opts, void *priv)
{
	*ops = (struct nf_hook_ops) {
		.hook = kwasm_hook,
		.pf = pf,
		.hooknum = opts->hook,
		.priority = opts->priority,
		.priv = priv,
	};
}

void kwasm_hook_init_ops(struct kwasm_attachment *att,
			 const struct kwasm_prog_opts *opts)
{
	att->nops = 0;
	if (opts->family != KWASM_FAMILY_IPV6)
		kwasm_init_op(&att->ops[att->nops++], NFPROTO_IPV4, opts, att);
	if (opts->family != KWASM_FAMILY_IPV4)
		kwasm_init_op(&att->ops[att->nops++], NFPROTO_IPV6, opts, att);
}
