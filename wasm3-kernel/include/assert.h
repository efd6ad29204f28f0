/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <assert.h> for wasm3. wasm3 itself uses d_m3Assert(), compiled out unless
 * DEBUG; an assert() that fires is a wasm3 bug: warn, never take the
 * machine down.
 */
#ifndef KWASM_M3_ASSERT_H
#define KWASM_M3_ASSERT_H

#define assert(cond)	WARN_ON_ONCE(!(cond))

#endif /* KWASM_M3_ASSERT_H */
