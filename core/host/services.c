// SPDX-License-Identifier: GPL-2.0
/*
 * Host implementation of the kernel services of include/kwasm_core.h, for
 * `cargo test`. The CPU layout is fixed: ids 0..3 with 2 absent, so the
 * core meets non-contiguous possible CPUs as it may in the kernel.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kwasm_core.h"

#define HOST_NR_CPU_IDS		4
#define HOST_ABSENT_CPU		2
#define HOST_EFAULT		14
#define HOST_EBUSY		16
#define HOST_EINVAL		22

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

/*
 * Map locks: pthread mutexes. The host has no bottom halves and no hard
 * IRQs, so a lock is never refused but for an index past the end.
 */
struct kwasm_locks {
	u32 count;
	pthread_mutex_t lock[];
};

struct kwasm_locks *kwasm_locks_new(u32 count)
{
	struct kwasm_locks *locks;
	u32 i;

	locks = calloc(1, sizeof(*locks) + (size_t)count * sizeof(pthread_mutex_t));
	if (!locks)
		return NULL;
	locks->count = count;
	for (i = 0; i < count; i++)
		pthread_mutex_init(&locks->lock[i], NULL);
	return locks;
}

void kwasm_locks_free(struct kwasm_locks *locks)
{
	u32 i;

	if (!locks)
		return;
	for (i = 0; i < locks->count; i++)
		pthread_mutex_destroy(&locks->lock[i]);
	free(locks);
}

bool kwasm_lock_bh(struct kwasm_locks *locks, u32 i)
{
	if (i >= locks->count)
		return false;
	pthread_mutex_lock(&locks->lock[i]);
	return true;
}

void kwasm_unlock_bh(struct kwasm_locks *locks, u32 i)
{
	if (i < locks->count)
		pthread_mutex_unlock(&locks->lock[i]);
}

static _Atomic u64 random_counter;

void kwasm_random_bytes(void *buf, size_t len)
{
	u64 x = (u64)time(NULL) ^ ((u64)(uintptr_t)buf << 17) ^
		++random_counter * 0x9e3779b97f4a7c15u;
	u8 *p = buf;
	size_t i;

	/* splitmix64: enough for tests, which only need keys to differ. */
	for (i = 0; i < len; i++) {
		u64 z;

		if (i % 8 == 0) {
			x += 0x9e3779b97f4a7c15u;
			z = x;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
			x ^= z ^ (z >> 31);
		}
		p[i] = (u8)(x >> (8 * (i % 8)));
	}
}

/*
 * Per-CPU slots. A test thread plays "a program on CPU c" between
 * kwasm_host_enter_cpu(c) and kwasm_host_leave_cpu(), which hold CPU c's
 * mutex as local_bh_disable() holds the CPU in the kernel; kwasm_on_cpu()
 * takes the same mutex, so exactly one writer per CPU slot at a time.
 */
static pthread_mutex_t host_cpu_lock[HOST_NR_CPU_IDS] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};
static _Thread_local int host_cpu = -1;

void kwasm_host_enter_cpu(u32 cpu);
void kwasm_host_leave_cpu(void);

void kwasm_host_enter_cpu(u32 cpu)
{
	if (cpu >= HOST_NR_CPU_IDS || host_cpu >= 0)
		abort();
	pthread_mutex_lock(&host_cpu_lock[cpu]);
	host_cpu = (int)cpu;
}

void kwasm_host_leave_cpu(void)
{
	if (host_cpu < 0)
		abort();
	pthread_mutex_unlock(&host_cpu_lock[host_cpu]);
	host_cpu = -1;
}

bool kwasm_cpu_owned(u32 cpu)
{
	return host_cpu >= 0 && (u32)host_cpu == cpu;
}

int kwasm_on_cpu(u32 cpu, void (*fn)(void *arg), void *arg)
{
	/* A "program" may not wait: the kernel's -EBUSY in BH-off context. */
	if (host_cpu >= 0)
		return -HOST_EBUSY;
	if (!kwasm_cpu_possible(cpu))
		return -HOST_EINVAL;
	pthread_mutex_lock(&host_cpu_lock[cpu]);
	fn(arg);
	pthread_mutex_unlock(&host_cpu_lock[cpu]);
	return 0;
}

/*
 * The events waker: the host has no readers to wake; it counts kicks, for
 * the tests to see that a producer kicks only a waiting reader.
 */
struct kwasm_waker {
	_Atomic u64 kicks;
};

u64 kwasm_host_waker_kicks(const struct kwasm_waker *waker);

u64 kwasm_host_waker_kicks(const struct kwasm_waker *waker)
{
	return waker->kicks;
}

struct kwasm_waker *kwasm_waker_new(void)
{
	return calloc(1, sizeof(struct kwasm_waker));
}

void kwasm_waker_kick(struct kwasm_waker *waker)
{
	waker->kicks++;
}

void kwasm_waker_free(struct kwasm_waker *waker)
{
	free(waker);
}
