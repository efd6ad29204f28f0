/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <stdint.h> for wasm3: the intN_t types are the kernel's <linux/types.h>.
 * The limits wasm3 uses, as plain literals (the kernel's are casts).
 */
#ifndef KWASM_M3_STDINT_H
#define KWASM_M3_STDINT_H

#define INT32_MIN	(-INT32_MAX - 1)
#define INT32_MAX	2147483647
#define UINT32_MAX	4294967295U
#define INT64_MIN	(-INT64_MAX - 1)
#define INT64_MAX	9223372036854775807LL
#define UINT64_MAX	18446744073709551615ULL

#endif /* KWASM_M3_STDINT_H */
