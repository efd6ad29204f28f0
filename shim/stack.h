/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The native stack under a run (stack.c): kwasm_stack_ok() for the core
 * (include/kwasm_core.h), and for test-run how much a run used.
 */
#ifndef KWASM_STACK_H
#define KWASM_STACK_H

#include <linux/types.h>

void kwasm_stack_paint(void);
size_t kwasm_stack_used(void);

#endif /* KWASM_STACK_H */
