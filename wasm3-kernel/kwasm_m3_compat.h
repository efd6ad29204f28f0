/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel port of wasm3 offers the rest of the module.
 */
#ifndef KWASM_M3_COMPAT_H
#define KWASM_M3_COMPAT_H

/*
 * Live wasm3 heap blocks and the bytes they hold (headers not counted). Both
 * are back to zero once every environment, runtime and module is freed.
 */
void kwasm_m3_mem_stats(long *blocks, long *bytes);

#endif /* KWASM_M3_COMPAT_H */
