/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Map locking services (locks.c). The core calls them through
 * include/kwasm_core.h (kwasm_locks_*, kwasm_lock_bh, kwasm_random_bytes,
 * kwasm_cpu_owned, kwasm_on_cpu); the shim itself uses none of them.
 */
#ifndef KWASM_LOCKS_H
#define KWASM_LOCKS_H

struct kwasm_locks;

#endif /* KWASM_LOCKS_H */
