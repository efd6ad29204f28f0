// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel services the Rust core calls (declared in include/kwasm_core.h):
 * allocation, logging, time, CPU ids and packet bytes.
 */
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "kwasm.h"

/*
 * May an allocation here sleep? Only in the load path. Every run of a
 * program happens with bottom halves disabled (kwasm_run()), which
 * in_interrupt() sees even on kernels without CONFIG_PREEMPT_COUNT; with it,
 * preemptible() also catches any other atomic section. With preemptible RCU
 * a read-side section does not show in preempt_count, so it is checked on
 * its own.
 */
static bool kwasm_may_sleep(void)
{
	if (in_interrupt() || irqs_disabled() || rcu_preempt_depth())
		return false;
	return !IS_ENABLED(CONFIG_PREEMPT_COUNT) || preemptible();
}

/*
 * Atomic allocations (memory.grow in the packet path) are served by
 * kmalloc() alone. Sizes come from programs: a failure is an error for
 * them, not a kernel warning.
 */
static void *kwasm_alloc_gfp(size_t size, gfp_t extra)
{
	gfp_t gfp = kwasm_may_sleep() ? GFP_KERNEL : GFP_ATOMIC;

	return kvmalloc(size, gfp | __GFP_NOWARN | extra);
}

void *kwasm_alloc(size_t size)
{
	return kwasm_alloc_gfp(size, 0);
}

void *kwasm_zalloc(size_t size)
{
	return kwasm_alloc_gfp(size, __GFP_ZERO);
}

void kwasm_free(void *ptr)
{
	kvfree(ptr);
}

void kwasm_log(int level, const char *msg, size_t len)
{
	if (level <= LOGLEVEL_ERR)
		pr_err("kwasm: %.*s\n", (int)len, msg);
	else
		pr_info("kwasm: %.*s\n", (int)len, msg);
}

void kwasm_log_prog(const char *prog, const char *msg, size_t len)
{
	pr_info_ratelimited("kwasm: %s: %.*s\n", prog, (int)len, msg);
}

u64 kwasm_time_ns(void)
{
	return ktime_get_ns();
}

u32 kwasm_cpu_id(void)
{
	return raw_smp_processor_id();
}

u32 kwasm_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

bool kwasm_cpu_possible(u32 cpu)
{
	return cpu < nr_cpu_ids && cpu_possible(cpu);
}

int kwasm_pkt_copy(const struct kwasm_pkt *pkt, u32 off, void *dst, u32 len)
{
	const struct sk_buff *skb = pkt->skb;

	if ((u64)off + len > pkt->len)
		return -EFAULT;
	if (!skb) {
		memcpy(dst, pkt->data + off, len);
		return 0;
	}
	return skb_copy_bits(skb, skb_network_offset(skb) + off, dst, len);
}
