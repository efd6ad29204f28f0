// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel services the Rust core calls (declared in include/kwasm_core.h):
 * allocation and its figures, logging, time, CPU ids and packet bytes.
 * Every allocation the core and wasm3 make goes through kwasm_alloc() and
 * is counted here.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "kwasm_core.h"
#include "kwasm_m3_compat.h"
#include "services.h"

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
 * Every block handed out here starts with a header holding its size, so that
 * kwasm_free() takes off exactly what kwasm_alloc() counted: the module-wide
 * figures in /proc/kwasm and the leak check at module exit are exact, not
 * rounded up to slab sizes as ksize() would make them. 16 bytes keep the
 * payload at the alignment kvmalloc() gave the block.
 */
struct kwasm_alloc_hdr {
	size_t size;
} __aligned(16);

static atomic_long_t kwasm_alloc_blocks = ATOMIC_LONG_INIT(0);
static atomic_long_t kwasm_alloc_bytes = ATOMIC_LONG_INIT(0);

/*
 * Atomic allocations (memory.grow in the packet path) are served by
 * kmalloc() alone. Sizes come from programs: a failure is an error for
 * them, not a kernel warning.
 */
static void *kwasm_alloc_gfp(size_t size, gfp_t extra, bool nofail)
{
	bool may_sleep = kwasm_may_sleep();
	gfp_t gfp = may_sleep ? GFP_KERNEL : GFP_ATOMIC;
	struct kwasm_alloc_hdr *hdr;
	size_t total;

	if (check_add_overflow(size, sizeof(*hdr), &total))
		return NULL;
	if (nofail && may_sleep)
		gfp |= __GFP_NOFAIL;
	hdr = kvmalloc(total, gfp | __GFP_NOWARN | extra);
	if (!hdr)
		return NULL;
	hdr->size = size;
	atomic_long_inc(&kwasm_alloc_blocks);
	atomic_long_add(size, &kwasm_alloc_bytes);
	return hdr + 1;
}

void *kwasm_alloc(size_t size)
{
	return kwasm_alloc_gfp(size, 0, false);
}

void *kwasm_zalloc(size_t size)
{
	return kwasm_alloc_gfp(size, __GFP_ZERO, false);
}

/*
 * The Rust core cannot recover from a failed allocation (it would abort,
 * an oops). Its allocations happen while loading, in process context, and
 * are bounded by the load limits (a few times the module's size): there
 * they wait for memory instead of failing, even when a fatal signal is
 * pending.
 */
void *kwasm_alloc_core(size_t size, bool zero)
{
	return kwasm_alloc_gfp(size, zero ? __GFP_ZERO : 0, true);
}

void kwasm_free(void *ptr)
{
	struct kwasm_alloc_hdr *hdr;

	if (!ptr)
		return;
	hdr = (struct kwasm_alloc_hdr *)ptr - 1;
	atomic_long_dec(&kwasm_alloc_blocks);
	atomic_long_sub(hdr->size, &kwasm_alloc_bytes);
	kvfree(hdr);
}

void kwasm_alloc_stats(long *blocks, long *bytes)
{
	*blocks = atomic_long_read(&kwasm_alloc_blocks);
	*bytes = atomic_long_read(&kwasm_alloc_bytes);
}

/* wasm3's part of them (kwasm_m3_alloc.c). */
u64 kwasm_heap_bytes(void)
{
	long blocks, bytes;

	kwasm_m3_mem_stats(&blocks, &bytes);
	return bytes > 0 ? bytes : 0;
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

/* Its own rate limit: a trapping program cannot silence its own output. */
void kwasm_log_trap(const char *prog, const char *msg, size_t len)
{
	pr_warn_ratelimited("kwasm: %s: %.*s\n", prog, (int)len, msg);
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
