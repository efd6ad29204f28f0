/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KWASM_IOC_INVOKE_LOAD and KWASM_IOC_INVOKE (invoke.c): a module
 * instantiated for one open file, its functions called by name.
 */
#ifndef KWASM_INVOKE_H
#define KWASM_INVOKE_H

#include <linux/compiler_types.h>
#include <linux/mutex.h>

#include "kwasm_core.h"

/* An open file's place for one invoke instance. */
struct kwasm_invoke_slot {
	struct mutex lock;	/* serialises loads and calls on the instance */
	struct kwasm_invoker *inv;	/* NULL until a module is loaded */
};

void kwasm_invoke_slot_init(struct kwasm_invoke_slot *slot);
void kwasm_invoke_slot_release(struct kwasm_invoke_slot *slot);
long kwasm_invoke_load_ioctl(struct kwasm_invoke_slot *slot,
			     void __user *arg);
long kwasm_invoke_ioctl(struct kwasm_invoke_slot *slot, void __user *arg);

#endif /* KWASM_INVOKE_H */
