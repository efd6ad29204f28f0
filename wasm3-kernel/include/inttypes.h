/* SPDX-License-Identifier: GPL-2.0 */
/* <inttypes.h> for wasm3: conversions for the kernel's intN_t types. */
#ifndef KWASM_M3_INTTYPES_H
#define KWASM_M3_INTTYPES_H

#include <stdint.h>

#define PRIi32		"d"
#define PRIu32		"u"
#define PRIi64		"lld"
#define PRIu64		"llu"
#define PRIx64		"llx"

#endif /* KWASM_M3_INTTYPES_H */
