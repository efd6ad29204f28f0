/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <stdlib.h> for wasm3: heap (declared in kwasm_m3_libc.h), number parsing,
 * abort.
 */
#ifndef KWASM_M3_STDLIB_H
#define KWASM_M3_STDLIB_H

#define malloc(size)		kwasm_m3_malloc(size)
#define calloc(nmemb, size)	kwasm_m3_calloc(nmemb, size)
#define realloc(ptr, size)	kwasm_m3_realloc(ptr, size)
#define free(ptr)		kwasm_m3_free(ptr)

/*
 * Only m3_CallArgv() parses numbers: whole strings, without an end pointer.
 * kwasm never calls it. What does not parse reads as 0.
 */
static inline unsigned long long
kwasm_m3_strtoull(const char *s, unsigned int base)
{
	unsigned long long val;

	return kstrtoull(s, base, &val) ? 0 : val;
}

#define strtoul(s, end, base)	((unsigned long)kwasm_m3_strtoull(s, base))
#define strtoull(s, end, base)	kwasm_m3_strtoull(s, base)

/*
 * Only m3_Abort() calls abort(), and nothing in wasm3 calls m3_Abort(). If
 * that changes, report it and let the caller carry on rather than crash.
 */
#define abort()			WARN_ONCE(1, "wasm3: abort()\n")

#endif /* KWASM_M3_STDLIB_H */
