/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel services (services.c): those the core calls are declared in
 * include/kwasm_core.h; these are for the shim.
 */
#ifndef KWASM_SERVICES_H
#define KWASM_SERVICES_H

/*
 * Live blocks and bytes (headers not counted) of every allocation made
 * through kwasm_alloc()/kwasm_zalloc()/kwasm_alloc_core(): the core's and
 * wasm3's. Both are zero when no program exists (none attached, no
 * test-run).
 */
void kwasm_alloc_stats(long *blocks, long *bytes);

#endif /* KWASM_SERVICES_H */
