// SPDX-License-Identifier: GPL-2.0
/*
 * The C heap wasm3 sees: malloc(), calloc(), realloc() and free() on top of
 * the shim's kwasm_alloc() (which picks sleeping or atomic allocation by
 * context: wasm3 allocates while loading a program and, for memory.grow,
 * while running one), with a count of live blocks and bytes.
 *
 * realloc() is not told the old size, so each block starts with a header
 * holding it.
 */
#include <linux/atomic.h>
#include <linux/overflow.h>
#include <linux/string.h>

#include "kwasm_core.h"
#include "kwasm_m3_compat.h"
#include "kwasm_m3_libc.h"

/* Keeps the payload at malloc()'s alignment (that of max_align_t). */
struct kwasm_m3_block {
	size_t size;
} __aligned(16);

static atomic_long_t kwasm_m3_blocks = ATOMIC_LONG_INIT(0);
static atomic_long_t kwasm_m3_bytes = ATOMIC_LONG_INIT(0);

static void *kwasm_m3_alloc(size_t size, bool zero)
{
	struct kwasm_m3_block *blk;
	size_t total;

	if (check_add_overflow(size, sizeof(*blk), &total))
		return NULL;
	blk = zero ? kwasm_zalloc(total) : kwasm_alloc(total);
	if (!blk)
		return NULL;
	blk->size = size;
	atomic_long_inc(&kwasm_m3_blocks);
	atomic_long_add(size, &kwasm_m3_bytes);
	return blk + 1;
}

void *kwasm_m3_malloc(size_t size)
{
	return kwasm_m3_alloc(size, false);
}

void *kwasm_m3_calloc(size_t nmemb, size_t size)
{
	size_t bytes;

	if (check_mul_overflow(nmemb, size, &bytes))
		return NULL;
	return kwasm_m3_alloc(bytes, true);
}

void kwasm_m3_free(void *ptr)
{
	struct kwasm_m3_block *blk;

	if (!ptr)
		return;
	blk = (struct kwasm_m3_block *)ptr - 1;
	atomic_long_dec(&kwasm_m3_blocks);
	atomic_long_sub(blk->size, &kwasm_m3_bytes);
	kwasm_free(blk);
}

void *kwasm_m3_realloc(void *ptr, size_t size)
{
	struct kwasm_m3_block *blk;
	void *new;

	if (!ptr)
		return kwasm_m3_malloc(size);
	blk = (struct kwasm_m3_block *)ptr - 1;
	new = kwasm_m3_malloc(size);
	if (!new)
		return NULL;
	memcpy(new, ptr, min(size, blk->size));
	kwasm_m3_free(ptr);
	return new;
}

void kwasm_m3_mem_stats(long *blocks, long *bytes)
{
	*blocks = atomic_long_read(&kwasm_m3_blocks);
	*bytes = atomic_long_read(&kwasm_m3_bytes);
}
