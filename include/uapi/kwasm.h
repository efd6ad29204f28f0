/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space interface of /dev/kwasm. See docs/ABI.md.
 *
 * All structures have fixed-size fields and explicit padding so that they
 * have one layout everywhere. This header is the one source of the ABI's
 * facts: the shim includes it, the Rust core and the user-space crate
 * kwasm-uapi (wasm/kwasm-uapi) are generated from it with bindgen.
 */
#ifndef _UAPI_KWASM_H
#define _UAPI_KWASM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KWASM_DEVICE		"/dev/kwasm"
#define KWASM_STATUS_FILE	"/proc/kwasm"

/* Largest .wasm module accepted, by ioctl or by write(). */
#define KWASM_MAX_PROG_SIZE	(4U << 20)
/* Largest packet accepted by test-run. */
#define KWASM_MAX_PKT_SIZE	65535U
/* Default and largest snap length (packet bytes copied into the record). */
#define KWASM_DEFAULT_SNAPLEN	256U
#define KWASM_MAX_SNAPLEN	65535U

/*
 * Fuel: budget of each call of a program, in WebAssembly operators (see
 * docs/ABI.md). A call that would go past it traps with out_of_fuel.
 */
#define KWASM_DEFAULT_FUEL	100000ULL
#define KWASM_MAX_FUEL		(1ULL << 32)

#define KWASM_NAME_LEN		32	/* program name, with its NUL */
#define KWASM_ERR_LEN		256	/* reason of a refusal, with its NUL */
#define KWASM_TRAP_NAME_LEN	32	/* trap name, with its NUL */

/*
 * Load limits (docs/ABI.md, "Limits"): a module asking for more is refused
 * with E2BIG and a message naming the limit.
 */
#define KWASM_LIMIT_FUNCTIONS		10000	/* imported plus defined */
#define KWASM_LIMIT_TYPES		1000
#define KWASM_LIMIT_GLOBALS		1000
#define KWASM_LIMIT_EXPORTS		10000
#define KWASM_LIMIT_TABLE_ENTRIES	10000	/* initial and maximum */
#define KWASM_LIMIT_MEMORY_PAGES	256	/* initial, 64 KiB pages */
#define KWASM_LIMIT_TOTAL_MEMORY	(256U << 20)	/* over all instances */
#define KWASM_LIMIT_DATA_SEGMENTS	1000
#define KWASM_LIMIT_DATA_BYTES		(2U << 20)
#define KWASM_LIMIT_ELEMENT_SEGMENTS	1000
#define KWASM_LIMIT_ELEMENTS		10000	/* in all element segments */
#define KWASM_LIMIT_LOCALS		120	/* parameters plus locals */
#define KWASM_LIMIT_NESTING		15	/* blocks inside one body */

/* kwasm_load.flags: which optional fields are set. */
#define KWASM_LOAD_HOOK		(1U << 0)
#define KWASM_LOAD_PRIORITY	(1U << 1)
#define KWASM_LOAD_SNAPLEN	(1U << 2)
#define KWASM_LOAD_DEFAULT	(1U << 3)
#define KWASM_LOAD_FUEL		(1U << 4)
/* Start with empty maps instead of adopting the replaced program's. */
#define KWASM_LOAD_FRESH_MAPS	(1U << 5)
#define KWASM_LOAD_FAMILY	(1U << 6)
#define KWASM_LOAD_ALL_FLAGS	0x7fU

/*
 * Protocol families: what a program attaches to (kwasm_load.family) and
 * what a packet is (kwasm_record.family). KWASM_FAMILY_INET attaches to
 * both IPv4 and IPv6; a packet is always one of them. The values are
 * netfilter's NFPROTO_*.
 */
#define KWASM_FAMILY_INET	1
#define KWASM_FAMILY_IPV4	2
#define KWASM_FAMILY_IPV6	10

/*
 * Priorities (docs/ABI.md, "Priorities"): netfilter's, INT_MIN + 1 ..
 * INT_MAX - 1. The first and the last (NF_IP_PRI_FIRST, NF_IP_PRI_LAST)
 * are the kernel's own and refused, as for BPF netfilter links. The
 * default is the filter priority: after defragmentation and conntrack,
 * where iptables' and nftables' filter chains run.
 */
#define KWASM_DEFAULT_PRIORITY	0

/* Programs loaded at once in one network namespace. */
#define KWASM_LIMIT_PROGS	64

/* kwasm_prog_show.abi: the program's exports. */
#define KWASM_ABI_KWASM		1	/* exports kwasm_filter */
#define KWASM_ABI_ORIGINAL	2	/* exports alloc + filter */

/* Verdicts, as in the program ABI. */
#define KWASM_DROP		0
#define KWASM_ACCEPT		1

struct kwasm_load {
	__u64 prog;		/* in: user pointer to the .wasm bytes */
	__u32 prog_len;		/* in: at most KWASM_MAX_PROG_SIZE */
	__u32 flags;		/* in: KWASM_LOAD_* */
	__u32 hook;		/* in: NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING */
	__s32 priority;		/* in: netfilter priority */
	__u32 snaplen;		/* in: at most KWASM_MAX_SNAPLEN */
	__u32 default_verdict;	/* in: KWASM_DROP or KWASM_ACCEPT */
	char name[KWASM_NAME_LEN];	/* in: NUL-terminated program name */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
	__u64 fuel;		/* in: 1..KWASM_MAX_FUEL, with KWASM_LOAD_FUEL */
	__u32 family;		/* in: KWASM_FAMILY_*, default IPv4 */
	__u32 pad;		/* in: 0 */
};

struct kwasm_test_run {
	__u64 prog;		/* in: user pointer to .wasm bytes, 0: loaded */
	__u32 prog_len;		/* in */
	__u32 repeat;		/* in: runs, at least 1 */
	__u64 pkt;		/* in: packet bytes from the IP header on */
	__u32 pkt_len;		/* in: at most KWASM_MAX_PKT_SIZE */
	__u32 hook;		/* in: hook number the program sees */
	__u32 ifindex_in;	/* in */
	__u32 ifindex_out;	/* in */
	__u32 mark;		/* in */
	__u32 snaplen;		/* in: for a given program; 0: default */
	__u32 verdict;		/* out: KWASM_DROP or KWASM_ACCEPT */
	__u32 outcome;		/* out: KWASM_OUTCOME_* of the last run */
	__u32 trap;		/* out: KWASM_TRAP_* of the last run */
	__u32 stack_used;	/* out: most native stack bytes a run used */
	__s64 retval;		/* out: raw return value of the last run */
	__u64 duration_ns;	/* out: total time of all runs */
	__u64 fuel;		/* in: for a given program, at most
				 * KWASM_MAX_FUEL; 0: KWASM_DEFAULT_FUEL
				 */
	__u64 fuel_used;	/* out: fuel the last run consumed */
	char trap_name[KWASM_TRAP_NAME_LEN];	/* out: "" when none */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
	__u32 prog_id;		/* in: with prog 0, the loaded program to run;
				 * 0: the only one of the namespace
				 */
	__u32 pad;		/* in: 0 */
};

/* kwasm_test_run.outcome */
#define KWASM_OUTCOME_OK	0	/* returned 0 or 1 */
#define KWASM_OUTCOME_INVALID	1	/* returned another value */
#define KWASM_OUTCOME_TRAP	2	/* trapped */
#define KWASM_OUTCOME_SKIPPED	3	/* not run: original ABI, not TCP/UDP */
#define KWASM_OUTCOME_BUSY	4	/* re-entry refused */

/* Trap kinds: kwasm_test_run.trap, kwasm_invoke.trap (docs/SAFETY.md). */
#define KWASM_TRAP_NONE			0
#define KWASM_TRAP_UNREACHABLE		1
#define KWASM_TRAP_OUT_OF_BOUNDS	2	/* memory or table access */
#define KWASM_TRAP_DIV_BY_ZERO		3
#define KWASM_TRAP_INT_OVERFLOW		4
#define KWASM_TRAP_INVALID_CONVERSION	5
#define KWASM_TRAP_INDIRECT_CALL	6	/* null, out of range, wrong type */
#define KWASM_TRAP_STACK_OVERFLOW	7
#define KWASM_TRAP_HOST			8	/* a host function refused */
#define KWASM_TRAP_OTHER		9
#define KWASM_TRAP_OUT_OF_FUEL		10	/* the run spent its budget */
#define KWASM_TRAP_NO_STACK		11	/* not run: native stack low */
#define KWASM_TRAP_COUNT		12

/*
 * The packet record: what the module writes into a kwasm-ABI program's
 * memory before each call (docs/ABI.md, "Packet record"). Little-endian,
 * whatever the kernel's byte order. A program picks its version with a
 * custom section named KWASM_RECORD_SECTION holding one byte, the version;
 * without it the program gets version 1: the first 32 bytes of this
 * layout (family and later fields absent, bytes 29..31 zero), packet bytes
 * at 32. Version 2 adds the fields the kernel has already parsed, so that
 * a port check is a few loads. Packet bytes follow the header (hdr_len).
 */
#define KWASM_RECORD_SECTION	"kwasm.record"
#define KWASM_RECORD_V1		1
#define KWASM_RECORD_V2		2
#define KWASM_RECORD_V3		3
#define KWASM_RECORD_V1_LEN	32
#define KWASM_RECORD_V2_LEN	48
#define KWASM_RECORD_V3_LEN	80

struct kwasm_record {
	__u16 hdr_len;		/* KWASM_RECORD_V*_LEN: packet bytes follow */
	__u16 version;		/* KWASM_RECORD_V* */
	__u32 pkt_len;		/* whole packet from the network header on */
	__u32 cap_len;		/* packet bytes in the record: min(pkt_len, snaplen) */
	__u32 hook;		/* NF_INET_* */
	__u32 ifindex_in;	/* 0 if none */
	__u32 ifindex_out;	/* 0 if none */
	__u32 mark;		/* skb mark */
	__u8 ip_proto;		/* IPPROTO_*; 0 when the IPv4 header is invalid */
	/* Version 2 from here on. */
	__u8 family;		/* KWASM_FAMILY_* */
	__u8 tcp_flags;		/* TCP flags byte when KWASM_REC_TCP_FLAGS */
	__u8 frag;		/* KWASM_FRAG_* */
	__u16 sport;		/* host byte order, when KWASM_REC_PORTS */
	__u16 dport;
	__u16 l4_off;		/* transport header offset in the packet bytes */
	__u16 flags;		/* KWASM_REC_* */
	__u32 saddr;		/* IPv4 addresses, host byte order; 0 for IPv6 */
	__u32 daddr;
	/* Version 3 from here on. */
	__u8 saddr6[16];	/* IPv6 addresses, network byte order; */
	__u8 daddr6[16];	/* an IPv4 one as ::ffff:a.b.c.d */
};

/* kwasm_record.frag */
#define KWASM_FRAG_NONE		0	/* not a fragment */
#define KWASM_FRAG_FIRST	1	/* offset 0, more fragments follow */
#define KWASM_FRAG_LATER	2	/* offset > 0: no transport header */

/* kwasm_record.flags: which parsed fields hold values. */
#define KWASM_REC_PORTS		(1U << 0)	/* TCP or UDP ports present */
#define KWASM_REC_TCP_FLAGS	(1U << 1)	/* the TCP flags byte present */

/*
 * Map declarations (docs/ABI.md, "Maps (declarations)"): a program declares
 * its maps in a custom section named KWASM_MAPS_SECTION holding a sequence
 * of these 256-byte entries, little-endian, without a section header (the
 * linker concatenates the same-named sections of all objects). Text fields
 * are NUL-padded: every byte after the text is zero.
 */
#define KWASM_MAPS_SECTION	"kwasm.maps"
#define KWASM_MAP_DECL_V1	1
#define KWASM_MAP_DECL_LEN	256
#define KWASM_MAP_NAME_LEN	32	/* [A-Za-z0-9_]{1,31}, with its NUL */
#define KWASM_MAP_KEY_FMT_LEN	72	/* display formats, with their NUL */
#define KWASM_MAP_VALUE_FMT_LEN	128

/* kwasm_map_decl.kind */
#define KWASM_MAP_KIND_ARRAY		1	/* key: a u32 index < max_entries */
#define KWASM_MAP_KIND_PERCPU_ARRAY	2	/* the same, one value per CPU */
#define KWASM_MAP_KIND_HASH		3
#define KWASM_MAP_KIND_EVENTS		4	/* the program's events ring */

/*
 * Flags of a map update (the program's map_update, KWASM_IOC_MAP_UPDATE):
 * any, only a key not present yet, only a key present already.
 */
#define KWASM_MAP_ANY		0
#define KWASM_MAP_NOEXIST	1
#define KWASM_MAP_EXIST		2

/* Map ids are 0 .. KWASM_MAP_IDS - 1. */
#define KWASM_MAP_IDS		256
/* Smallest events ring, in bytes (a power of two). */
#define KWASM_EVENTS_MIN_SIZE	4096U
/* Bytes before each record's payload in an events ring. */
#define KWASM_EVENT_HEADER_LEN	32

/* Map limits: a declaration over one is refused with E2BIG. */
#define KWASM_LIMIT_MAPS		32	/* maps of one program */
#define KWASM_LIMIT_MAP_KEY		64	/* bytes of a hash key */
#define KWASM_LIMIT_MAP_VALUE		4096	/* bytes of a value, of an event */
#define KWASM_LIMIT_MAP_ENTRIES		(1U << 20)
#define KWASM_LIMIT_EVENTS_SIZE		(16U << 20)	/* bytes of the ring */
#define KWASM_LIMIT_MAP_MEMORY		(64U << 20)	/* all maps of a program */

struct kwasm_map_decl {
	__u8 version;		/* KWASM_MAP_DECL_V1 */
	__u8 kind;		/* KWASM_MAP_KIND_* */
	__u16 flags;		/* 0 */
	__u32 id;		/* what the program passes as map; < KWASM_MAP_IDS */
	__u32 key_size;		/* arrays: 4; hash: 1..64; events: 0 */
	__u32 value_size;	/* 1..4096; events: largest record payload */
	__u32 max_entries;	/* 1..2^20; events: ring bytes, a power of two */
	__u32 reserved;		/* 0 */
	char name[KWASM_MAP_NAME_LEN];
	char key_fmt[KWASM_MAP_KEY_FMT_LEN];	/* "": hex */
	char value_fmt[KWASM_MAP_VALUE_FMT_LEN];	/* "": hex */
};

/*
 * Map requests (docs/ABI.md, "Map ioctls"): list a program's maps, look
 * up, update and delete an entry, dump all entries. Each structure starts
 * with its size (the caller's sizeof; a larger size is accepted when the
 * bytes past the kernel's structure are zero) and names the program by
 * prog_id in the caller's network namespace, 0 being its only program
 * (EINVAL when it has several). Keys and
 * values are the declared sizes; a per-CPU map's value buffer holds
 * ncpus values (struct kwasm_map_info), one per CPU id, unless one CPU is
 * named. On failure err holds the reason.
 */

/* kwasm_map_op.flags of an update, as for the program's map_update. */
#define KWASM_MAP_ANY		0	/* create or replace */
#define KWASM_MAP_NOEXIST	1	/* create only */
#define KWASM_MAP_EXIST		2	/* replace only */

/* kwasm_map_op.cpu: every CPU of a per-CPU map; the only choice for others. */
#define KWASM_MAP_ALL_CPUS	0xffffffffU
/* kwasm_map_dump.cursor after the last entry. */
#define KWASM_DUMP_END		0xffffffffffffffffULL

struct kwasm_map_info {
	char name[KWASM_MAP_NAME_LEN];
	__u32 id;		/* what the program passes as map */
	__u32 kind;		/* KWASM_MAP_KIND_* */
	__u32 flags;		/* the declaration's, 0 */
	__u32 key_size;
	__u32 value_size;	/* of one value */
	__u32 max_entries;	/* events: ring bytes */
	__u32 ncpus;		/* values per key: per-CPU maps nr_cpu_ids, else 1 */
	__u32 pad;
	__u64 entries;		/* hash: present entries; arrays: max_entries */
	__u64 memory;		/* bytes the map takes */
	__u64 full;		/* inserts refused with ENOSPC */
	char key_fmt[KWASM_MAP_KEY_FMT_LEN];	/* display formats, "": hex */
	char value_fmt[KWASM_MAP_VALUE_FMT_LEN];
};

struct kwasm_map_list {
	__u32 size;		/* in: sizeof(struct kwasm_map_list) */
	__u32 prog_id;		/* in: a program's id; 0: the only one */
	__u32 count;		/* in: room in maps; out: maps of the program */
	__u32 pad;		/* in: 0 */
	__u64 maps;		/* in: user pointer to count kwasm_map_info */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

/* KWASM_IOC_MAP_LOOKUP, _UPDATE and _DELETE. */
struct kwasm_map_op {
	__u32 size;		/* in: sizeof(struct kwasm_map_op) */
	__u32 prog_id;		/* in: a program's id; 0: the only one */
	char name[KWASM_MAP_NAME_LEN];	/* in: the map's, NUL-terminated */
	__u64 key;		/* in: user pointer to key_size bytes */
	__u64 value;		/* in: user pointer to value_size bytes; 0 for delete */
	__u32 key_size;		/* in: the map's */
	__u32 value_size;	/* in: the map's, times ncpus for all CPUs */
	__u32 flags;		/* in: KWASM_MAP_* for update, else 0 */
	__u32 cpu;		/* in: KWASM_MAP_ALL_CPUS, or a CPU of a per-CPU map */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

/*
 * KWASM_IOC_MAP_DUMP: the entries present from cursor on, as records of
 * the key (key_size bytes, zero-padded to a multiple of 8) then the value
 * of every CPU (value_size * ncpus bytes, zero-padded to a multiple of 8).
 * The cursor is an entry index: repeat with the returned one until it is
 * KWASM_DUMP_END. Each record is consistent; the map is no snapshot.
 */
struct kwasm_map_dump {
	__u32 size;		/* in: sizeof(struct kwasm_map_dump) */
	__u32 prog_id;		/* in: a program's id; 0: the only one */
	char name[KWASM_MAP_NAME_LEN];	/* in: the map's, NUL-terminated */
	__u64 cursor;		/* in: 0 to start; out: where to go on */
	__u64 buf;		/* in: user pointer to buf_len bytes */
	__u32 buf_len;		/* in: room for one record at least */
	__u32 count;		/* out: records written to buf */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

/*
 * Events (docs/ABI.md, "Events"): a program's events ring (a map of kind
 * KWASM_MAP_KIND_EVENTS) and the file user space reads its records from.
 * KWASM_IOC_EVENTS_OPEN on /dev/kwasm returns that file: read() gives
 * whole records, each a struct kwasm_event and len payload bytes, padded
 * with zeros to a multiple of 8. Little-endian.
 */
struct kwasm_event {
	__u32 len;		/* payload bytes, 1..the ring's max_record */
	__u32 cpu;		/* CPU the program ran on */
	__u64 time_ns;		/* CLOCK_MONOTONIC (ktime_get_ns()) */
	__u32 prog_id;		/* the program's id */
	__u32 flags;		/* 0 */
	__u64 lost;		/* records dropped on this ring before this one */
};

/* kwasm_events_open.flags */
#define KWASM_EVENTS_NONBLOCK	(1U << 0)	/* the file is O_NONBLOCK */
#define KWASM_EVENTS_CLOEXEC	(1U << 1)	/* the descriptor is O_CLOEXEC */
#define KWASM_EVENTS_ALL_FLAGS	0x3U

/*
 * Extensible: size is the caller's sizeof (smaller than the first version
 * is EINVAL; larger is accepted when the extra bytes are zero, else E2BIG).
 */
struct kwasm_events_open {
	__u32 size;		/* in: sizeof(struct kwasm_events_open) */
	__u32 prog_id;		/* in: a program's id; 0: the only one */
	__u32 flags;		/* in: KWASM_EVENTS_* */
	__s32 fd;		/* out: the events file */
	__u32 ring_size;	/* out: bytes of the ring */
	__u32 max_record;	/* out: largest payload (the declared value_size) */
	char value_fmt[KWASM_MAP_VALUE_FMT_LEN];	/* out: the record's format */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

/* KWASM_EVENTS_IOC_STATS on an events file. */
struct kwasm_events_stats {
	__u32 size;		/* in: sizeof(struct kwasm_events_stats) */
	__u32 ring_size;	/* out: bytes of the ring */
	__u64 written;		/* out: records written */
	__u64 dropped;		/* out: records dropped (ring full) */
	__u64 used;		/* out: bytes not read yet */
};

#define KWASM_IOC_EVENTS_OPEN	_IOWR(KWASM_IOC_MAGIC, 11, struct kwasm_events_open)
#define KWASM_EVENTS_IOC_STATS	_IOWR(KWASM_IOC_MAGIC, 32, \
				     struct kwasm_events_stats)

/*
 * Programs (docs/ABI.md, "Programs"): each loaded program has a name,
 * unique in its network namespace, and an id, unique module-wide while it
 * is loaded and never 0. Every request acts in the network namespace of
 * the calling task: a program is loaded there, listed and unloaded there;
 * a prog_id of another namespace is not found. Loading a name that exists
 * there replaces that program.
 */
struct kwasm_prog_show {
	char name[KWASM_NAME_LEN];
	__u32 id;
	__u32 family;		/* KWASM_FAMILY_* */
	__u32 hook;		/* NF_INET_* */
	__s32 priority;
	__u32 abi;		/* KWASM_ABI_* */
	__u32 record_version;	/* KWASM_RECORD_V*; 0 for the original ABI */
	__u32 default_verdict;	/* KWASM_DROP or KWASM_ACCEPT */
	__u32 snaplen;
	__u64 fuel;
	__u64 load_time_ns;	/* CLOCK_REALTIME when it was loaded */
	__u32 loader_uid;	/* in the initial user namespace */
	__u32 size;		/* bytes of the .wasm module */
	__u8 sha256[32];	/* of the .wasm module */
	__u32 instances;	/* one per possible CPU */
	__u32 maps;		/* maps declared */
	__u64 memory_bytes;	/* linear memory summed over instances */
	__u64 heap_bytes;	/* wasm3's other heap */
	__u64 map_memory;	/* bytes the declared maps take */
	/* Counters, summed over CPUs. */
	__u64 runs;
	__u64 accepted;
	__u64 dropped;
	__u64 invalid;		/* returned neither 0 nor 1 */
	__u64 traps;		/* all trap kinds */
	__u64 skipped;		/* not run: original ABI, not TCP/UDP */
	__u64 busy;		/* re-entry refused */
	__u64 trap_kind[KWASM_TRAP_COUNT];
	/* Counted while the stats_enabled module parameter is 1. */
	__u64 run_time_ns;
	__u64 run_count;
};

/*
 * KWASM_IOC_PROG_LIST: the programs of the caller's namespace, by id.
 * Extensible as the map requests are.
 */
struct kwasm_prog_list {
	__u32 size;		/* in: sizeof(struct kwasm_prog_list) */
	__u32 count;		/* in: room in progs; out: programs loaded */
	__u64 progs;		/* in: user pointer to count kwasm_prog_show */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

/*
 * KWASM_IOC_PROG_UNLOAD: unload the program of the caller's namespace
 * named by id, or by name when id is 0. KWASM_IOC_UNLOAD unloads every
 * program of the namespace (ENOENT when none is loaded).
 */
struct kwasm_prog_unload {
	__u32 size;		/* in: sizeof(struct kwasm_prog_unload) */
	__u32 id;		/* in: the program's id, or 0 */
	char name[KWASM_NAME_LEN];	/* in: with id 0, NUL-terminated */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

/*
 * The invoke path: a module instantiated for one open file, whose exported
 * functions are called by name with i32/i64 values (for conformance tests;
 * packets never reach it). Each open file has its own instance.
 */
#define KWASM_INVOKE_NAME_LEN	128
#define KWASM_INVOKE_MAX_VALUES	16

/* Value types of kwasm_invoke.result_types. */
#define KWASM_VAL_I32		1
#define KWASM_VAL_I64		2

struct kwasm_invoke_load {
	__u64 prog;		/* in: user pointer to the .wasm bytes */
	__u32 prog_len;		/* in: at most KWASM_MAX_PROG_SIZE */
	__u32 pad;		/* in: 0 */
	char err[KWASM_ERR_LEN];	/* out: reason, when the ioctl fails */
};

struct kwasm_invoke {
	char name[KWASM_INVOKE_NAME_LEN];	/* in: export, NUL-terminated */
	__u32 nargs;		/* in: at most KWASM_INVOKE_MAX_VALUES */
	__u32 outcome;		/* out: KWASM_INVOKE_* */
	__u32 trap;		/* out: trap kind when trapped, else 0 */
	__u32 nresults;		/* out: results when it returned */
	__u64 args[KWASM_INVOKE_MAX_VALUES];	/* in: an i32 in the low half */
	__u64 results[KWASM_INVOKE_MAX_VALUES];	/* out: i32 zero-extended */
	__u32 result_types[KWASM_INVOKE_MAX_VALUES];	/* out: KWASM_VAL_* */
	char trap_name[KWASM_TRAP_NAME_LEN];	/* out: "" when none */
	char err[KWASM_ERR_LEN];	/* out: reason on failure, message on a trap */
};

/* kwasm_invoke.outcome */
#define KWASM_INVOKE_RETURNED	0
#define KWASM_INVOKE_TRAPPED	1

#define KWASM_IOC_MAGIC		0xb7
#define KWASM_IOC_LOAD		_IOWR(KWASM_IOC_MAGIC, 1, struct kwasm_load)
#define KWASM_IOC_UNLOAD	_IO(KWASM_IOC_MAGIC, 2)
#define KWASM_IOC_TEST_RUN	_IOWR(KWASM_IOC_MAGIC, 3, struct kwasm_test_run)
#define KWASM_IOC_INVOKE_LOAD	_IOWR(KWASM_IOC_MAGIC, 4, struct kwasm_invoke_load)
#define KWASM_IOC_INVOKE	_IOWR(KWASM_IOC_MAGIC, 5, struct kwasm_invoke)
#define KWASM_IOC_MAP_LIST	_IOWR(KWASM_IOC_MAGIC, 6, struct kwasm_map_list)
#define KWASM_IOC_MAP_LOOKUP	_IOWR(KWASM_IOC_MAGIC, 7, struct kwasm_map_op)
#define KWASM_IOC_MAP_UPDATE	_IOWR(KWASM_IOC_MAGIC, 8, struct kwasm_map_op)
#define KWASM_IOC_MAP_DELETE	_IOWR(KWASM_IOC_MAGIC, 9, struct kwasm_map_op)
#define KWASM_IOC_MAP_DUMP	_IOWR(KWASM_IOC_MAGIC, 10, struct kwasm_map_dump)
/* 11 is KWASM_IOC_EVENTS_OPEN, above. */
#define KWASM_IOC_PROG_LIST	_IOWR(KWASM_IOC_MAGIC, 12, struct kwasm_prog_list)
#define KWASM_IOC_PROG_UNLOAD	_IOWR(KWASM_IOC_MAGIC, 13, struct kwasm_prog_unload)

#endif /* _UAPI_KWASM_H */
