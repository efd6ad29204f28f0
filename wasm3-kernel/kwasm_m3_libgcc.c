// SPDX-License-Identifier: GPL-2.0
/*
 * libgcc helpers that gcc calls from wasm3's code and the kernel does not
 * provide. i64.popcnt is __builtin_popcountll(), a call to __popcountdi2()
 * when the compiler may not assume POPCNT.
 */
#include <linux/bitops.h>

#include "kwasm_m3_libc.h"

int __popcountdi2(long x)
{
	return hweight64(x);
}
