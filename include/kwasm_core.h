/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one interface between the C shim and the Rust core.
 *
 * Both sides use this header: the shim includes it, the core's build.rs
 * runs bindgen on it. Functions named kwasm_core_* are implemented by the
 * core (Rust); every other function here is a kernel service implemented by
 * the shim (C) and called by the core. It is also compiled for the host, where
 * core/host/services.c provides the services to `cargo test`.
 */
#ifndef KWASM_CORE_H
#define KWASM_CORE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
#endif

/*
 * The ABI's facts (verdicts KWASM_DROP/KWASM_ACCEPT, outcomes, trap kinds,
 * limits, name and message lengths) are those of the uapi header.
 */
#include "uapi/kwasm.h"

/*
 * A packet handed to the core. Exactly one of skb and data is set: skb for
 * real traffic (bytes read through kwasm_pkt_copy()), data for test-run.
 * Offsets count from the first byte of the IPv4 or IPv6 header.
 */
struct kwasm_pkt {
	const void *skb;	/* struct sk_buff *, or NULL */
	const u8 *data;		/* flat packet bytes, or NULL */
	u32 len;		/* packet length from the IP header on */
	u32 hook;		/* NF_INET_* hook number */
	u32 ifindex_in;		/* 0 when none */
	u32 ifindex_out;	/* 0 when none */
	u32 mark;		/* skb->mark */
};

/*
 * A program's options, checked: kwasm_core_load_opts() makes them from a
 * load request, filling in the defaults of what the request left unset.
 */
struct kwasm_prog_opts {
	char name[KWASM_NAME_LEN];	/* NUL-terminated */
	u32 hook;		/* NF_INET_* hook number */
	s32 priority;		/* netfilter priority */
	u32 snaplen;		/* packet bytes copied into the record */
	u32 default_verdict;	/* KWASM_DROP or KWASM_ACCEPT */
	u64 fuel;		/* budget of each call, 1..KWASM_MAX_FUEL */
	u32 fresh_maps;		/* KWASM_LOAD_FRESH_MAPS: adopt no maps */
	u32 family;		/* KWASM_FAMILY_*: what the hooks are for */
	u32 id;			/* the program's id, set by the shim: events */
	u32 pad;
};

/* How one run ended. */
struct kwasm_run_result {
	u32 verdict;		/* KWASM_DROP or KWASM_ACCEPT, always valid */
	u32 outcome;		/* KWASM_OUTCOME_* */
	u32 trap;		/* KWASM_TRAP_* when outcome is TRAP, else 0 */
	u32 pad;
	s64 retval;		/* raw return value when the program returned */
	u64 fuel_used;		/* fuel the run consumed, at most the budget */
};

/* Counters of one program, summed over CPUs. */
struct kwasm_stats {
	u64 runs;
	u64 accepted;
	u64 dropped;
	u64 invalid;		/* returned a value other than 0 or 1 */
	u64 traps;		/* all trap kinds */
	u64 skipped;		/* not run: original ABI and not TCP/UDP */
	u64 busy;		/* re-entry refused */
	u64 trap_kind[KWASM_TRAP_COUNT];
};

/* Static facts about a loaded program. */
struct kwasm_prog_info {
	char name[KWASM_NAME_LEN];
	u32 size;		/* bytes of the .wasm module */
	u32 snaplen;
	u32 default_verdict;
	u32 abi;		/* KWASM_ABI_* */
	u32 instances;		/* one per possible CPU */
	u32 maps;		/* maps declared (kwasm.maps) */
	u64 memory_bytes;	/* linear memory summed over instances */
	u64 heap_bytes;		/* wasm3's other heap (code, stacks, module) */
	u8 sha256[32];
	u64 fuel;		/* budget of each call */
	u64 map_memory;		/* bytes the declared maps take, all kinds */
	u32 record_version;	/* KWASM_RECORD_V*; 0 for the original ABI */
	u32 pad;
};

struct kwasm_prog;	/* opaque, owned by the core */

/* ---- implemented by the core (Rust) ---- */

/*
 * The one check of a program's options: @req's flags, hook, priority,
 * snaplen, default verdict, fuel and name (its other fields are ignored).
 * Fills @opts, with defaults for what @req leaves unset, and returns 0; or
 * returns -EINVAL and a NUL-terminated reason in @err, @opts untouched.
 */
int kwasm_core_load_opts(const struct kwasm_load *req,
			 struct kwasm_prog_opts *opts, char *err,
			 size_t err_len);

/*
 * Validate, link, compile eagerly and instantiate @wasm once per possible CPU.
 * Process context; may sleep. On failure returns a negative errno, writes a
 * NUL-terminated reason to @err and leaves *@out untouched.
 */
int kwasm_core_prog_new(const u8 *wasm, size_t len,
			const struct kwasm_prog_opts *opts,
			struct kwasm_prog **out, char *err, size_t err_len);

/*
 * Before @new replaces @old (NULL: nothing to replace): @new takes over each
 * of @old's maps it declares with the same name and shape, unless it was
 * loaded with fresh_maps. Process context, under the attach lock, before
 * @new is published. Returns 0, or -EEXIST and a reason naming the map
 * whose shape differs, @new unchanged.
 */
int kwasm_core_prog_adopt(struct kwasm_prog *new, const struct kwasm_prog *old,
			  char *err, size_t err_len);

/* Free a program no packet can reach any more. Process context. */
void kwasm_core_prog_free(struct kwasm_prog *prog);

/*
 * Run @prog on @pkt with the instance of @cpu. The caller keeps that instance
 * to itself for the duration (bottom halves disabled, pinned to @cpu).
 * Never sleeps, never allocates, never fails: @res always holds a verdict.
 */
void kwasm_core_prog_run(struct kwasm_prog *prog, u32 cpu,
			 const struct kwasm_pkt *pkt,
			 struct kwasm_run_result *res);

void kwasm_core_prog_info(const struct kwasm_prog *prog,
			  struct kwasm_prog_info *info);
void kwasm_core_prog_stats(const struct kwasm_prog *prog,
			   struct kwasm_stats *stats);

/* Static string naming a trap kind, e.g. "unreachable". */
const char *kwasm_core_trap_name(u32 trap);

/*
 * The invoke path (KWASM_IOC_INVOKE_*): one module instantiated for one open
 * file, whose exported functions user space calls by name. It never sees a
 * packet. Values are i32 or i64 (KWASM_VAL_*), each in a 64-bit slot (an
 * i32 in the low half; results zero-extended).
 */
struct kwasm_invoke_result {
	u32 trap;		/* KWASM_TRAP_*, 0: returned */
	u32 nresults;		/* results when it returned */
	u32 types[KWASM_INVOKE_MAX_VALUES];	/* KWASM_VAL_* */
	u64 results[KWASM_INVOKE_MAX_VALUES];
};

struct kwasm_invoker;	/* opaque, owned by the core */

/*
 * Validate (as for a program, without the ABI's exports), link, compile
 * and instantiate @wasm once, running its start function. Process context;
 * may sleep. On failure returns a negative errno and writes a NUL-terminated
 * reason to @err.
 */
int kwasm_core_invoke_new(const u8 *wasm, size_t len,
			  struct kwasm_invoker **out, char *err,
			  size_t err_len);

/* Free an instance; process context. NULL is ignored. */
void kwasm_core_invoke_free(struct kwasm_invoker *inv);

/*
 * Call the exported function @name (@name_len bytes, no NUL needed) with
 * @nargs argument slots. Returns 0 when it ran (@res says whether it
 * returned or trapped; on a trap @err holds wasm3's message), or a negative
 * errno with a reason in @err: -ENOENT no such exported function, -EINVAL
 * wrong argument count or a type other than i32/i64. The caller serialises
 * calls on one instance. Process context; may sleep.
 */
int kwasm_core_invoke_call(struct kwasm_invoker *inv, const char *name,
			   size_t name_len, const u64 *args, u32 nargs,
			   struct kwasm_invoke_result *res, char *err,
			   size_t err_len);

/*
 * Map requests of user space (KWASM_IOC_MAP_*, shim/map.c). The shim copies
 * the request structure in, takes a reference to the maps of the program
 * it names (kwasm_core_maps_get(), under the lock that keeps the program
 * alive), lets the core check the request, allocates kernel buffers of the
 * sizes the check accepted, copies them in, lets the core do the request,
 * copies out, and drops the reference (kwasm_core_maps_put(); the last one
 * frees the maps, in process context). The core never sees a user
 * pointer; it checks the request again on every call. Every function
 * returning int returns 0, or a negative errno with a NUL-terminated
 * reason in @err.
 */
struct kwasm_maps;	/* opaque: a program's maps, reference-counted */

/* kwasm_core_map_op_check() and kwasm_core_map_op(): which request. */
#define KWASM_CORE_MAP_LOOKUP	1
#define KWASM_CORE_MAP_UPDATE	2
#define KWASM_CORE_MAP_DELETE	3

/* A new reference to @prog's maps. Never sleeps; any context. */
struct kwasm_maps *kwasm_core_maps_get(const struct kwasm_prog *prog);
/* Drop a reference; NULL is ignored. Process context. */
void kwasm_core_maps_put(struct kwasm_maps *maps);
u32 kwasm_core_maps_count(const struct kwasm_maps *maps);
/* Map @index in declaration order; -ENOENT past the last. */
int kwasm_core_map_info(const struct kwasm_maps *maps, u32 index,
			struct kwasm_map_info *info);
/*
 * Check @req as a KWASM_CORE_MAP_* request: the map named, key_size and
 * value_size (the declared ones; value_size times ncpus for all CPUs of a
 * per-CPU map; 0 for a delete), flags, cpu. Its prog_id is the shim's.
 */
int kwasm_core_map_op_check(const struct kwasm_maps *maps, u32 cmd,
			    const struct kwasm_map_op *req, char *err,
			    size_t err_len);
/*
 * Do @req with @key (req->key_size bytes) and @value (req->value_size
 * bytes, read by an update, written by a lookup; NULL for a delete).
 * Process context; may sleep.
 */
int kwasm_core_map_op(const struct kwasm_maps *maps, u32 cmd,
		      const struct kwasm_map_op *req, const u8 *key, u8 *value,
		      char *err, size_t err_len);
/* Check a dump request; *@record_len gets the bytes of one record. */
int kwasm_core_map_dump_check(const struct kwasm_maps *maps,
			      const struct kwasm_map_dump *req,
			      u32 *record_len, char *err, size_t err_len);
/*
 * Fill @buf (@buf_len bytes, at least one record) with whole records from
 * req->cursor on; sets req->count and req->cursor. Process context.
 */
int kwasm_core_map_dump(const struct kwasm_maps *maps,
			struct kwasm_map_dump *req, u8 *buf, u32 buf_len,
			char *err, size_t err_len);

/* ---- kernel services implemented by the shim (C) ---- */

/*
 * Bytes wasm3's heap holds now, module-wide: the core measures what one
 * instance's construction adds to it.
 */
u64 kwasm_heap_bytes(void);

/* Allocation: may sleep in process context, atomic otherwise. */
void *kwasm_alloc(size_t size);
void *kwasm_zalloc(size_t size);
void kwasm_free(void *ptr);
/*
 * The Rust core's own allocations (its global allocator): in process
 * context they do not fail (__GFP_NOFAIL); freed with kwasm_free().
 */
void *kwasm_alloc_core(size_t size, bool zero);

/* printk at KERN_INFO (level 6) or KERN_ERR (level 3): "kwasm: <msg>". */
void kwasm_log(int level, const char *msg, size_t len);
/* Rate-limited program output: "kwasm: <prog>: <msg>". */
void kwasm_log_prog(const char *prog, const char *msg, size_t len);
/* A trap, "kwasm: <prog>: <msg>", rate-limited apart from program output. */
void kwasm_log_trap(const char *prog, const char *msg, size_t len);

/*
 * May a run start here? False when less native stack is left below the
 * caller than a run may use (the stack_reserve module parameter).
 */
bool kwasm_stack_ok(void);

u64 kwasm_time_ns(void);
u32 kwasm_cpu_id(void);
/* Possible CPU ids are below kwasm_nr_cpu_ids(); some may be absent. */
u32 kwasm_nr_cpu_ids(void);
bool kwasm_cpu_possible(u32 cpu);

/*
 * Copy @len bytes at @off of @pkt into @dst. Returns 0, or -EFAULT when the
 * range is not inside the packet (nothing useful is copied then).
 */
int kwasm_pkt_copy(const struct kwasm_pkt *pkt, u32 off, void *dst, u32 len);

/*
 * Map locks (shim/locks.c): @count spinlock_t stripes of one lockdep class,
 * in one counted allocation. kwasm_locks_new() is for process context and
 * returns NULL without memory. kwasm_lock_bh() takes stripe @i with
 * spin_lock_bh() and returns true; it refuses (false) an index past the
 * end, hard-IRQ context and IRQs off, where waiting could deadlock against
 * the interrupted holder. Stripes are never nested.
 */
struct kwasm_locks;
struct kwasm_locks *kwasm_locks_new(u32 count);
void kwasm_locks_free(struct kwasm_locks *locks);
bool kwasm_lock_bh(struct kwasm_locks *locks, u32 i);
void kwasm_unlock_bh(struct kwasm_locks *locks, u32 i);

/* Random bytes (get_random_bytes()): per-map hash keys. */
void kwasm_random_bytes(void *buf, size_t len);

/*
 * Per-CPU map slots. kwasm_cpu_owned(): does the caller run on @cpu with
 * bottom halves off and not in hard-IRQ context, so that nothing else on
 * that CPU can write the CPU's slots until it is done (a program's run)?
 * kwasm_on_cpu(): call @fn(@arg) as that CPU's sole writer: on the CPU
 * itself with bottom halves off (smp_call_on_cpu()), or directly, under a
 * mutex, for a possible CPU that is offline (CPU hotplug held off
 * meanwhile). Process context only, may sleep: -EBUSY elsewhere, -EINVAL
 * for a CPU that is not possible, 0 once @fn has run.
 */
bool kwasm_cpu_owned(u32 cpu);
int kwasm_on_cpu(u32 cpu, void (*fn)(void *arg), void *arg);

/*
 * Events rings (core: maps/ring.rs; shim: events.c). A program's ring is
 * shared between the program and at most one reader, a struct
 * kwasm_events the shim gets from kwasm_core_events_open() and gives back
 * with kwasm_core_events_close(); the ring is freed with the last of them.
 * The reader's calls are serialised by the shim and run in process
 * context.
 */
struct kwasm_events;	/* opaque, owned by the core */

/* kwasm_core_events_poll() */
#define KWASM_CORE_EVENTS_READABLE	(1U << 0)	/* a record is committed */
#define KWASM_CORE_EVENTS_DETACHED	(1U << 1)	/* no program writes any more */

/* What /proc/kwasm and KWASM_EVENTS_IOC_STATS show of a ring. */
struct kwasm_events_info {
	u32 ring_size;		/* bytes */
	u32 max_record;		/* largest payload */
	u64 written;		/* records committed */
	u64 dropped;		/* records refused: ring full */
	u64 used;		/* bytes reserved and not read yet */
	u32 reader;		/* 1 while a reader has it open */
	u32 detached;		/* 1 once no program writes to it */
	char value_fmt[KWASM_MAP_VALUE_FMT_LEN];
};

/* @prog's ring in @info: 0, or -ENOENT when it declares none. */
int kwasm_core_events_info(const struct kwasm_prog *prog,
			   struct kwasm_events_info *info);
/*
 * The reader of @prog's ring: 0 and *@out, or a negative errno and a
 * reason in @err: -ENOENT no ring declared, -EBUSY it has a reader.
 * Process context (allocates).
 */
int kwasm_core_events_open(const struct kwasm_prog *prog,
			   struct kwasm_events **out, char *err,
			   size_t err_len);
/* Give the reader back; frees the ring when no program has it. */
void kwasm_core_events_close(struct kwasm_events *ev);
void kwasm_core_events_stats(const struct kwasm_events *ev,
			     struct kwasm_events_info *info);
/* The waker whose wait queue the reader sleeps on. */
struct kwasm_waker *kwasm_core_events_waker(const struct kwasm_events *ev);
/*
 * Copy the committed records at the read position into @buf, whole, as
 * many as fit in @len bytes, without consuming them: the bytes copied, 0
 * when none is committed, -EINVAL when the next one needs more than @len.
 */
s64 kwasm_core_events_peek(struct kwasm_events *ev, u8 *buf, size_t len);
/* Consume the @bytes the last peek copied (the reader got them). */
void kwasm_core_events_consume(struct kwasm_events *ev, size_t bytes);
/*
 * KWASM_CORE_EVENTS_* of the ring now. Marks the reader as waiting first,
 * so that a record committed after the check kicks the waker.
 */
u32 kwasm_core_events_poll(struct kwasm_events *ev);

/*
 * The events rings' waker (shim/events.c): an irq_work whose handler wakes
 * the readers sleeping on its wait queue, so that a producer in any hook
 * context takes no wait-queue lock. kwasm_waker_new() is for process
 * context and returns NULL without memory; kwasm_waker_kick() may be
 * called from any context; kwasm_waker_free() waits for a queued kick
 * (process context). The host's waker counts kicks.
 */
struct kwasm_waker;
struct kwasm_waker *kwasm_waker_new(void);
void kwasm_waker_kick(struct kwasm_waker *waker);
void kwasm_waker_free(struct kwasm_waker *waker);

#endif /* KWASM_CORE_H */
