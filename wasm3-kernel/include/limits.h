/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <limits.h> for wasm3.
 *
 * m3_math_utils.h tests "#if (INT_MIN != -INT_MAX)" to decide whether
 * i32.div_s(INT_MIN, -1) needs its overflow check. The kernel's INT_MIN and
 * INT_MAX are casts, which #if cannot evaluate (a build error); left
 * undefined they would read as 0 and drop the check, so that the CPU raised
 * a divide error instead of wasm3 trapping. Plain literals.
 */
#ifndef KWASM_M3_LIMITS_H
#define KWASM_M3_LIMITS_H

#undef INT_MIN
#undef INT_MAX
#undef UINT_MAX

#define CHAR_BIT	8
#define INT_MAX		2147483647
#define INT_MIN		(-INT_MAX - 1)
#define UINT_MAX	4294967295U

#endif /* KWASM_M3_LIMITS_H */
