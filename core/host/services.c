// SPDX-License-Identifier: GPL-2.0
/*
 * Host implementation of the kernel services of include/kwasm_core.h, for
 * `cargo test`. The CPU layout is fixed: ids 0..3 with 2 absent, so the
 * core meets non-contiguous possible CPUs as it may in the kernel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kwasm_core.h"

#define HOST_NR_CPU_IDS		4
#define HOST_ABSENT_CPU		2
#define HOST_EFAULT		14

/* The last line a program printed on this thread, for the tests to check. */
static _Thread_local char last_prog_log[KWASM_ERR_LEN];

const char *kwasm_host_last_prog_log(void);

const char *kwasm_host_last_prog_log(void)
{
	return last_prog_log;
}

void *kwasm_alloc(size_t size)
{
	return malloc(size);
}

void *kwasm_zalloc(size_t size)
{
	return calloc(1, size);
}

void *kwasm_alloc_core(size_t size, bool zero)
{
	return zero ? calloc(1, size) : malloc(size);
}

void kwasm_free(void *ptr)
{
	free(ptr);
}

/* The host's wasm3 uses libc's malloc directly: nothing is counted. */
u64 kwasm_heap_bytes(void)
{
	return 0;
}

void kwasm_log(int level, const char *msg, size_t len)
{
	fprintf(stderr, "kwasm: <%d> %.*s\n", level, (int)len, msg);
}

void kwasm_log_prog(const char *prog, const char *msg, size_t len)
{
	snprintf(last_prog_log, sizeof(last_prog_log), "%s: %.*s", prog,
		 (int)len, msg);
	fprintf(stderr, "kwasm: %s\n", last_prog_log);
}

void kwasm_log_trap(const char *prog, const char *msg, size_t len)
{
	kwasm_log_prog(prog, msg, len);
}

u64 kwasm_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

/* The host's thread stacks are large; a test can say otherwise. */
static _Thread_local bool kwasm_host_stack_low;

void kwasm_host_set_stack_low(bool low);

void kwasm_host_set_stack_low(bool low)
{
	kwasm_host_stack_low = low;
}

bool kwasm_stack_ok(void)
{
	return !kwasm_host_stack_low;
}

u32 kwasm_cpu_id(void)
{
	return 0;
}

u32 kwasm_nr_cpu_ids(void)
{
	return HOST_NR_CPU_IDS;
}

bool kwasm_cpu_possible(u32 cpu)
{
	return cpu < HOST_NR_CPU_IDS && cpu != HOST_ABSENT_CPU;
}

int kwasm_pkt_copy(const struct kwasm_pkt *pkt, u32 off, void *dst, u32 len)
{
	if (!pkt->data || (u64)off + len > pkt->len)
		return -HOST_EFAULT;
	memcpy(dst, pkt->data + off, len);
	return 0;
}
