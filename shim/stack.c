// SPDX-License-Identifier: GPL-2.0
/*
 * The native stack under a run: how much is left, and (for test-run) how
 * much a run used.
 *
 * wasm3 bounds a run's own depth (d_m3MaxNativeStack, counted from its
 * entry); the core refuses to enter it when less than its reserve is left
 * below the caller. That needs the base of the stack the hook runs on: the
 * task's stack in process context and ksoftirqd, or the CPU's IRQ stack
 * for softirqs. The IRQ stack's top is exported (pcpu_hot) from Linux 6.2
 * on; on older kernels a run on the IRQ stack is not measured and relies on
 * softirqs starting near the top of a fresh IRQ stack (docs/SAFETY.md).
 */
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/string.h>
#include <asm/current.h>
#include <asm/page.h>

#include "kwasm_core.h"
#include "kwasm_m3_config.h"
#include "stack.h"

/*
 * Native stack a run may use below its caller by default: wasm3's own
 * budget (d_m3MaxNativeStack, 6 KiB) plus what the deepest wasm frame, a
 * host call (printk included) and the core's frames add under it, as
 * measured by `make bench` (docs/SAFETY.md): 10 KiB, twice that under
 * KASAN (KWASM_STACK_SCALE).
 */
#define KWASM_STACK_RESERVE	(d_m3MaxNativeStack + 4 * 1024 * KWASM_STACK_SCALE)
/* Bytes left at the bottom of the task stack (STACK_END_MAGIC and more). */
#define KWASM_STACK_FLOOR	64
/* Bytes just below the caller's frame that painting leaves alone. */
#define KWASM_STACK_SLACK	256
#define KWASM_STACK_PAINT	0x6b

static unsigned int stack_reserve = KWASM_STACK_RESERVE;
module_param(stack_reserve, uint, 0644);
MODULE_PARM_DESC(stack_reserve,
		 "native stack bytes a run needs left, else it is refused (no_stack)");

static bool kwasm_on_stack(unsigned long sp, unsigned long base,
			   unsigned long size)
{
	return sp > base && sp - base < size;
}

static size_t kwasm_stack_left(void)
{
	unsigned long sp = current_stack_pointer;
	unsigned long base = (unsigned long)task_stack_page(current);

	if (kwasm_on_stack(sp, base, THREAD_SIZE))
		return sp - base;
#if defined(CONFIG_X86_64) && defined(KWASM_HAVE_PCPU_HOT)
	/* hardirq_stack_ptr is the top of the IRQ stack, minus one word. */
	base = (unsigned long)this_cpu_read(pcpu_hot.hardirq_stack_ptr) +
	       sizeof(long) - IRQ_STACK_SIZE;
	if (kwasm_on_stack(sp, base, IRQ_STACK_SIZE))
		return sp - base;
#endif
	return SIZE_MAX;
}

bool kwasm_stack_ok(void)
{
	return kwasm_stack_left() >= READ_ONCE(stack_reserve);
}

/*
 * Fill the unused part of the task stack below the caller with a pattern.
 * Process context only. Interrupts that arrive meanwhile may write into it:
 * that only makes kwasm_stack_used() larger, never smaller.
 */
void kwasm_stack_paint(void)
{
	unsigned long base = (unsigned long)task_stack_page(current);
	unsigned long sp = current_stack_pointer;
	unsigned long low = base + KWASM_STACK_FLOOR;

	if (kwasm_on_stack(sp, base, THREAD_SIZE) &&
	    sp - KWASM_STACK_SLACK > low)
		memset((void *)low, KWASM_STACK_PAINT,
		       sp - KWASM_STACK_SLACK - low);
}

/*
 * Bytes below the caller's frame written since kwasm_stack_paint(), called
 * from the same frame depth. 0 when not on the task stack.
 */
size_t kwasm_stack_used(void)
{
	unsigned long base = (unsigned long)task_stack_page(current);
	unsigned long sp = current_stack_pointer;
	const u8 *p = (const u8 *)(base + KWASM_STACK_FLOOR);

	if (!kwasm_on_stack(sp, base, THREAD_SIZE))
		return 0;
	while ((unsigned long)p < sp && *p == KWASM_STACK_PAINT)
		p++;
	return (unsigned long)p < sp ? sp - (unsigned long)p : 0;
}
