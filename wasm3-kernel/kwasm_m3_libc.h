/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included ahead of every wasm3 source file (see wasm3.mk).
 *
 * wasm3 is written for hosted C. The stub headers in include/ give it the
 * parts of libc it uses, built from kernel facilities. Every kernel header
 * they rely on is included here, before any line of wasm3: wasm3's
 * m3_config_platforms.h defines the macros `not`, `and` and `or`, which must
 * not be in force while kernel headers are parsed. The stub headers include
 * no kernel header themselves.
 *
 * It also declares what the port implements itself, for wasm3 (through the
 * stub headers' macros) and for the files implementing it.
 */
#ifndef KWASM_M3_LIBC_H
#define KWASM_M3_LIBC_H

#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/limits.h>
#include <linux/stdarg.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>

/* kwasm_m3_alloc.c: malloc() and friends (see include/stdlib.h). */
void *kwasm_m3_malloc(size_t size);
void *kwasm_m3_calloc(size_t nmemb, size_t size);
void *kwasm_m3_realloc(void *ptr, size_t size);
void kwasm_m3_free(void *ptr);

/* kwasm_m3_libgcc.c: what gcc calls for __builtin_popcountll() without POPCNT. */
int __popcountdi2(long x);

#endif /* KWASM_M3_LIBC_H */
