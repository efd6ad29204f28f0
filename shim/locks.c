// SPDX-License-Identifier: GPL-2.0
/*
 * Map locking services the Rust core calls (declared in
 * include/kwasm_core.h): lock stripes, random bytes for hash keys, and the
 * per-CPU writer rule of per-CPU maps. Mechanisms only: which stripe guards
 * what is the core's business (docs/ARCHITECTURE.md, "Maps: who touches
 * what from which context").
 */
#include <linux/bottom_half.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/preempt.h>
#include <linux/random.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "kwasm_core.h"
#include "locks.h"
#include "services.h"

struct kwasm_locks {
	u32 count;
	spinlock_t lock[];
};

/*
 * All stripes are initialised at this one site: one lockdep class. No code
 * path holds two stripes at once.
 */
struct kwasm_locks *kwasm_locks_new(u32 count)
{
	struct kwasm_locks *locks;
	u32 i;

	locks = kwasm_zalloc(struct_size(locks, lock, count));
	if (!locks)
		return NULL;
	locks->count = count;
	for (i = 0; i < count; i++)
		spin_lock_init(&locks->lock[i]);
	return locks;
}

void kwasm_locks_free(struct kwasm_locks *locks)
{
	kwasm_free(locks);
}

/*
 * A hook run in hard-IRQ context (or with IRQs off) could have interrupted
 * a holder of this very stripe on its CPU: refuse rather than deadlock.
 */
bool kwasm_lock_bh(struct kwasm_locks *locks, u32 i)
{
	if (i >= locks->count || in_nmi() || in_hardirq() || irqs_disabled())
		return false;
	spin_lock_bh(&locks->lock[i]);
	return true;
}

void kwasm_unlock_bh(struct kwasm_locks *locks, u32 i)
{
	if (i < locks->count)
		spin_unlock_bh(&locks->lock[i]);
}

void kwasm_random_bytes(void *buf, size_t len)
{
	get_random_bytes(buf, len);
}

/*
 * With bottom halves off the task cannot leave the CPU, and no softirq and
 * no other BH-off section runs on it (on PREEMPT_RT: the CPU's BH lock is
 * held), so a run of a program is its CPU's only writer.
 */
bool kwasm_cpu_owned(u32 cpu)
{
	return softirq_count() && !in_hardirq() && !in_nmi() &&
	       cpu == raw_smp_processor_id();
}

struct kwasm_on_cpu_call {
	void (*fn)(void *arg);
	void *arg;
};

static int kwasm_on_cpu_bh(void *data)
{
	struct kwasm_on_cpu_call *call = data;

	local_bh_disable();
	call->fn(call->arg);
	local_bh_enable();
	return 0;
}

/* Serialises writers of offline CPUs' slots, which no program writes. */
static DEFINE_MUTEX(kwasm_offline_lock);

int kwasm_on_cpu(u32 cpu, void (*fn)(void *arg), void *arg)
{
	struct kwasm_on_cpu_call call = { .fn = fn, .arg = arg };
	int ret;

	if (in_interrupt() || irqs_disabled())
		return -EBUSY;
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return -EINVAL;
	might_sleep();
	cpus_read_lock();
	if (cpu_online(cpu)) {
		ret = smp_call_on_cpu(cpu, kwasm_on_cpu_bh, &call, false);
	} else {
		mutex_lock(&kwasm_offline_lock);
		ret = kwasm_on_cpu_bh(&call);
		mutex_unlock(&kwasm_offline_lock);
	}
	cpus_read_unlock();
	return ret;
}
