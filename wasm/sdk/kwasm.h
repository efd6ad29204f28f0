/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kwasm C SDK: everything a packet filter written in C needs to follow the
 * kwasm program ABI (docs/ABI.md). Header only; build a program with
 *
 *   clang --target=wasm32 -mcpu=mvp -mbulk-memory -O2 -nostdlib \
 *         -Wl,--no-entry -Wl,-z,stack-size=8192 -I wasm/sdk -o prog.wasm prog.c
 *
 * and define its entry point with KWASM_FILTER():
 *
 *   #include "kwasm.h"
 *
 *   static int filter(const struct kwasm_record *rec)
 *   {
 *           return rec->ip_proto == KWASM_PROTO_ICMP ? KWASM_DROP
 *                                                    : KWASM_ACCEPT;
 *   }
 *   KWASM_FILTER(filter)
 *
 * Programs run without libc. -mbulk-memory lets clang turn struct copies and
 * zeroing into memory.copy / memory.fill instead of calls to memcpy / memset,
 * which do not exist here. Floating point is rejected by the kernel.
 */
#ifndef KWASM_H
#define KWASM_H

#include <stddef.h>
#include <stdint.h>

/* Verdicts: what kwasm_filter returns. Any other value is counted invalid. */
#define KWASM_DROP	0
#define KWASM_ACCEPT	1

/* Netfilter hooks, as in kwasm_record.hook and kwasm_pkt_hook(). */
#define KWASM_HOOK_PRE_ROUTING	0
#define KWASM_HOOK_LOCAL_IN	1
#define KWASM_HOOK_FORWARD	2
#define KWASM_HOOK_LOCAL_OUT	3
#define KWASM_HOOK_POST_ROUTING	4

/* IP protocol numbers (IPv4's protocol field, IPv6's upper layer). */
#define KWASM_PROTO_ICMP	1
#define KWASM_PROTO_TCP		6
#define KWASM_PROTO_UDP		17
#define KWASM_PROTO_ICMPV6	58

/*
 * The record layout this program asks for (docs/ABI.md, "Packet record"):
 * 2, the default, gives the fields the kernel has parsed (family, ports,
 * IPv4 addresses, TCP flags, fragment state) at fixed offsets; 3 adds the
 * IPv6 addresses (saddr6, daddr6); 1 is the original 32-byte header, which
 * cannot tell IPv6 packets from IPv4 ones. Define KWASM_RECORD_VERSION to
 * 1 or 3 before including this file to build for that version.
 * KWASM_FILTER() declares the version in the custom section "kwasm.record";
 * a module without it gets version 1. A program loaded for IPv6 (family
 * ipv6 or inet) needs version 2 or 3.
 */
#ifndef KWASM_RECORD_VERSION
#define KWASM_RECORD_VERSION	2
#endif
#if KWASM_RECORD_VERSION == 3
#define KWASM_RECORD_HDR_LEN	80
#elif KWASM_RECORD_VERSION == 2
#define KWASM_RECORD_HDR_LEN	48
#elif KWASM_RECORD_VERSION == 1
#define KWASM_RECORD_HDR_LEN	32
#else
#error "KWASM_RECORD_VERSION must be 1, 2 or 3"
#endif

/* kwasm_record.family, kwasm_pkt_family() */
#define KWASM_FAMILY_IPV4	2
#define KWASM_FAMILY_IPV6	10

/* kwasm_record.frag */
#define KWASM_FRAG_NONE		0	/* not a fragment */
#define KWASM_FRAG_FIRST	1	/* offset 0, more fragments follow */
#define KWASM_FRAG_LATER	2	/* offset > 0: no transport header */

/* kwasm_record.flags: which parsed fields hold values. */
#define KWASM_REC_PORTS		(1U << 0)	/* TCP or UDP ports present */
#define KWASM_REC_TCP_FLAGS	(1U << 1)	/* the TCP flags byte present */

/* TCP flags, as in kwasm_record.tcp_flags. */
#define KWASM_TCP_FIN		0x01
#define KWASM_TCP_SYN		0x02
#define KWASM_TCP_RST		0x04
#define KWASM_TCP_PSH		0x08
#define KWASM_TCP_ACK		0x10

/*
 * The packet record the kernel writes before every call (little-endian, which
 * is wasm's byte order). pkt[] holds the first cap_len bytes of the packet,
 * from the first byte of the IPv4 or IPv6 header on, in network byte order.
 * The parsed fields of versions 2 and 3 come from the whole header (and
 * IPv6's extension headers) even when the snap length cuts pkt[] short.
 */
struct kwasm_record {
	uint16_t hdr_len;	/* KWASM_RECORD_HDR_LEN */
	uint16_t version;	/* KWASM_RECORD_VERSION */
	uint32_t pkt_len;	/* whole packet length from the IP header on */
	uint32_t cap_len;	/* bytes in pkt[]: min(pkt_len, snaplen) */
	uint32_t hook;		/* KWASM_HOOK_* */
	uint32_t ifindex_in;	/* 0 if none */
	uint32_t ifindex_out;	/* 0 if none */
	uint32_t mark;		/* skb mark */
	/*
	 * KWASM_PROTO_* or any other protocol number; IPv6: the upper layer
	 * past the extension headers (version 1: 0 for IPv6).
	 */
	uint8_t ip_proto;
#if KWASM_RECORD_VERSION >= 2
	uint8_t family;		/* KWASM_FAMILY_* */
	uint8_t tcp_flags;	/* KWASM_TCP_*, when flags has KWASM_REC_TCP_FLAGS */
	uint8_t frag;		/* KWASM_FRAG_* */
	uint16_t sport;		/* host byte order, when flags has KWASM_REC_PORTS */
	uint16_t dport;
	uint16_t l4_off;	/* transport header offset in pkt[] */
	uint16_t flags;		/* KWASM_REC_* */
	uint32_t saddr;		/* IPv4 addresses, host byte order; 0 for IPv6 */
	uint32_t daddr;
#if KWASM_RECORD_VERSION == 3
	uint8_t saddr6[16];	/* network byte order; IPv4 as ::ffff:a.b.c.d */
	uint8_t daddr6[16];
#endif
#else
	uint8_t reserved[3];
#endif
	uint8_t pkt[];
};

_Static_assert(sizeof(struct kwasm_record) == KWASM_RECORD_HDR_LEN,
	       "struct kwasm_record must match the ABI's header");

#if KWASM_RECORD_VERSION >= 2
/* Whether the packet is IPv6 (else IPv4). */
static inline int kwasm_rec_is_ipv6(const struct kwasm_record *rec)
{
	return rec->family == KWASM_FAMILY_IPV6;
}

/*
 * The parsed fields, each a load or two: the destination and source ports
 * of a TCP or UDP packet that carries them (IPv6: past the extension
 * headers), else -1.
 */
static inline int32_t kwasm_rec_dport(const struct kwasm_record *rec)
{
	return rec->flags & KWASM_REC_PORTS ? rec->dport : -1;
}

static inline int32_t kwasm_rec_sport(const struct kwasm_record *rec)
{
	return rec->flags & KWASM_REC_PORTS ? rec->sport : -1;
}

/* The TCP flags byte (KWASM_TCP_*), or -1 when it is not in the packet. */
static inline int32_t kwasm_rec_tcp_flags(const struct kwasm_record *rec)
{
	return rec->flags & KWASM_REC_TCP_FLAGS ? rec->tcp_flags : -1;
}
#endif

/* Whether two 16-byte addresses (network byte order) are equal. */
static inline int kwasm_ip6_eq(const uint8_t *a, const uint8_t *b)
{
	int i;

	for (i = 0; i < 16; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/*
 * Whether @addr (16 bytes, network byte order) lies in @prefix/@bits: the
 * first @bits bits (0..128) are equal.
 */
static inline int kwasm_ip6_in_prefix(const uint8_t *addr,
				      const uint8_t *prefix, uint32_t bits)
{
	uint32_t i;

	for (i = 0; i < 16 && bits >= 8; i++, bits -= 8)
		if (addr[i] != prefix[i])
			return 0;
	if (i < 16 && bits)
		return !((addr[i] ^ prefix[i]) & (0xff00 >> bits));
	return 1;
}

/* ---- host functions (import module "kwasm") ---- */

#define KWASM_IMPORT(name) \
	__attribute__((import_module("kwasm"), import_name(name)))

/* Log @len bytes of @msg (at most 256 are printed), rate-limited. */
KWASM_IMPORT("log") void kwasm_log(const char *msg, uint32_t len);
/* Log a decimal integer, rate-limited. */
KWASM_IMPORT("print_int") void kwasm_print_int(int32_t v);
/* Packet length from the IP header on. */
KWASM_IMPORT("pkt_len") int32_t kwasm_pkt_len(void);
/* Protocol number (IPv6: the upper layer past the extension headers). */
KWASM_IMPORT("pkt_protocol") int32_t kwasm_pkt_protocol(void);
/* KWASM_FAMILY_IPV4 or KWASM_FAMILY_IPV6. */
KWASM_IMPORT("pkt_family") int32_t kwasm_pkt_family(void);
/* IPv4 addresses in host byte order: 127.0.0.1 is 0x7f000001; 0 for IPv6. */
KWASM_IMPORT("pkt_saddr") uint32_t kwasm_pkt_saddr(void);
KWASM_IMPORT("pkt_daddr") uint32_t kwasm_pkt_daddr(void);
/*
 * Write the 16 bytes of the source (destination) address to @dst, network
 * byte order, an IPv4 one as ::ffff:a.b.c.d. Returns 0; traps when @dst
 * is not inside linear memory.
 */
KWASM_IMPORT("pkt_saddr6") int32_t kwasm_pkt_saddr6(uint8_t dst[16]);
KWASM_IMPORT("pkt_daddr6") int32_t kwasm_pkt_daddr6(uint8_t dst[16]);
/* TCP/UDP ports; -1 for other protocols, later fragments, short headers. */
KWASM_IMPORT("pkt_sport") int32_t kwasm_pkt_sport(void);
KWASM_IMPORT("pkt_dport") int32_t kwasm_pkt_dport(void);
/* KWASM_HOOK_* */
KWASM_IMPORT("pkt_hook") int32_t kwasm_pkt_hook(void);
KWASM_IMPORT("pkt_ifindex_in") int32_t kwasm_pkt_ifindex_in(void);
KWASM_IMPORT("pkt_ifindex_out") int32_t kwasm_pkt_ifindex_out(void);
/*
 * Copy @len packet bytes at @offset to @dst. Returns @len, or -1 (nothing
 * copied) when the range is not inside the packet. Traps when @dst..@dst+@len
 * is not inside linear memory.
 */
KWASM_IMPORT("pkt_load_bytes")
int32_t kwasm_pkt_load_bytes(uint32_t offset, void *dst, uint32_t len);

/* ---- maps (docs/ABI.md, "Maps" and "Map host functions") ---- */

/* map_update flags */
#define KWASM_MAP_ANY		0	/* create or replace */
#define KWASM_MAP_NOEXIST	1	/* create only: -EEXIST if present */
#define KWASM_MAP_EXIST		2	/* replace only: -ENOENT if absent */

/* What map calls return besides 0 (negated). */
#define KWASM_ENOENT	2
#define KWASM_EBUSY	16
#define KWASM_EEXIST	17
#define KWASM_EINVAL	22
#define KWASM_ENOSPC	28

/*
 * The host functions behind the typed wrappers KWASM_MAP_*() define. @map is
 * the map's id; @key_len and @value_len must be the declared sizes (anything
 * else traps, as does a pointer outside linear memory). They return 0 or a
 * negative errno: -KWASM_ENOENT (absent key, array index out of range),
 * -KWASM_EEXIST, -KWASM_ENOSPC (hash map full), -KWASM_EBUSY.
 */
KWASM_IMPORT("map_lookup")
int32_t kwasm_map_lookup(uint32_t map, const void *key, uint32_t key_len,
			 void *value, uint32_t value_len);
KWASM_IMPORT("map_update")
int32_t kwasm_map_update(uint32_t map, const void *key, uint32_t key_len,
			 const void *value, uint32_t value_len, uint32_t flags);
KWASM_IMPORT("map_delete")
int32_t kwasm_map_delete(uint32_t map, const void *key, uint32_t key_len);
/* Adds @delta to the u64 at byte @offset (8-aligned) of the value. */
KWASM_IMPORT("map_add")
int32_t kwasm_map_add(uint32_t map, const void *key, uint32_t key_len,
		      uint32_t offset, int64_t delta);

#define KWASM_STR_(x) #x
#define KWASM_STR(x) KWASM_STR_(x)

/*
 * One 256-byte entry of the "kwasm.maps" custom section (struct
 * kwasm_map_decl). Assembler text, because clang has no other way to put
 * bytes in a custom section; the sizes are therefore literals, which the
 * wrappers check against the types with _Static_assert.
 */
#define KWASM_MAP_DECL_(kind, id, ksize, vsize, max, name, kfmt, vfmt)	\
	__asm__(".section .custom_section.kwasm.maps,\"\",@\n"		\
		".int8 1\n.int8 " KWASM_STR(kind) "\n.int16 0\n"	\
		".int32 " KWASM_STR(id) "\n"				\
		".int32 " KWASM_STR(ksize) "\n"				\
		".int32 " KWASM_STR(vsize) "\n"				\
		".int32 " KWASM_STR(max) "\n.int32 0\n"			\
		"1: .ascii \"" #name "\"\n2: .zero 32 - (2b - 1b)\n"	\
		"1: .ascii \"" kfmt "\"\n2: .zero 72 - (2b - 1b)\n"	\
		"1: .ascii \"" vfmt "\"\n2: .zero 128 - (2b - 1b)\n"	\
		".text\n")

#define KWASM_MAP_(id, kind, name, K, ksize, V, vsize, max, kfmt, vfmt)	\
	KWASM_MAP_DECL_(kind, id, ksize, vsize, max, name, kfmt, vfmt);	\
	enum { name##_id = id };					\
	_Static_assert(sizeof(K) == (ksize), #name ": key size");	\
	_Static_assert(sizeof(V) == (vsize), #name ": value size");	\
	static inline __attribute__((unused)) int32_t name##_lookup(const K *key, V *value)	\
	{								\
		return kwasm_map_lookup(id, key, sizeof(K), value,	\
					sizeof(V));			\
	}								\
	static inline __attribute__((unused)) int32_t name##_update(const K *key, const V *value, \
					    uint32_t flags)		\
	{								\
		return kwasm_map_update(id, key, sizeof(K), value,	\
					sizeof(V), flags);		\
	}								\
	static inline __attribute__((unused)) int32_t name##_delete(const K *key)		\
	{								\
		return kwasm_map_delete(id, key, sizeof(K));		\
	}								\
	static inline __attribute__((unused)) int32_t name##_add(const K *key, uint32_t offset,	\
					 int64_t delta)			\
	{								\
		return kwasm_map_add(id, key, sizeof(K), offset, delta);	\
	}

/*
 * Declare a map and its typed wrappers name_lookup(), name_update(),
 * name_delete() (hash maps only) and name_add(key, offsetof(V, field),
 * delta). Keys and values are given as types and as their sizes (literals:
 * see KWASM_MAP_DECL_); @kfmt and @vfmt tell kwasmctl how to show and parse
 * them (docs/ABI.md, "Display formats"; "" is hex). Ids come from
 * __COUNTER__: declare all maps of a program in one file.
 *
 *   KWASM_MAP_HASH(blocked, uint32_t, 4, uint8_t, 1, 1024, "ipv4", "u8")
 */
#define KWASM_MAP_HASH(name, K, ksize, V, vsize, max, kfmt, vfmt)	\
	KWASM_MAP_(__COUNTER__, 3, name, K, ksize, V, vsize, max, kfmt, vfmt)
/* An array of @max values indexed by a uint32_t. */
#define KWASM_MAP_ARRAY(name, V, vsize, max, vfmt)			\
	KWASM_MAP_(__COUNTER__, 1, name, uint32_t, 4, V, vsize, max, "u32", vfmt)
/* The same with one value per CPU: a program sees its own CPU's. */
#define KWASM_MAP_PERCPU_ARRAY(name, V, vsize, max, vfmt)		\
	KWASM_MAP_(__COUNTER__, 2, name, uint32_t, 4, V, vsize, max, "u32", vfmt)

/* ---- events (docs/ABI.md, "Events") ---- */

/*
 * Write a record of @len bytes at @data to the program's events ring: 0, or
 * -KWASM_ENOSPC when the ring is full (the record is dropped and counted).
 * Traps without a declared ring, for @len 0 or over the declared record
 * size, and for a range outside linear memory. KWASM_EVENTS() defines the
 * typed kwasm_event_output().
 */
KWASM_IMPORT("event_output")
int32_t kwasm_event_output_bytes(const void *data, uint32_t len);

/*
 * Declare the program's events ring (at most one): records of type @T of
 * @tsize bytes (a literal, checked against sizeof(T)), a ring of
 * @ring_bytes (a power of two, 4096 to 16 MiB), and @fmt, the record's
 * display format for kwasmctl events ("" is hex). Defines
 * kwasm_event_output(const T *). The map is named "events".
 *
 *   KWASM_EVENTS(struct drop_event, 12, 65536, "saddr:ipv4,dport:port,pad6")
 */
#define KWASM_EVENTS(T, tsize, ring_bytes, fmt)				\
	KWASM_MAP_DECL_(4, __COUNTER__, 0, tsize, ring_bytes, events, "", fmt); \
	_Static_assert(sizeof(T) == (tsize), "events: record size");	\
	static inline __attribute__((unused)) int32_t kwasm_event_output(const T *ev) \
	{								\
		return kwasm_event_output_bytes(ev, sizeof(T));		\
	}

/* Log a NUL-terminated string. */
static inline void kwasm_log_str(const char *s)
{
	uint32_t len = 0;

	while (s[len])
		len++;
	kwasm_log(s, len);
}

/* ---- reading the record's packet bytes (network byte order) ---- */

/* Byte at @off, or -1 when it was not captured. */
static inline int32_t kwasm_rec_u8(const struct kwasm_record *rec,
				   uint32_t off)
{
	return off < rec->cap_len ? rec->pkt[off] : -1;
}

/* Big-endian 16-bit value at @off, or -1 when it was not captured. */
static inline int32_t kwasm_rec_be16(const struct kwasm_record *rec,
				     uint32_t off)
{
	if (off >= rec->cap_len || rec->cap_len - off < 2)
		return -1;
	return rec->pkt[off] << 8 | rec->pkt[off + 1];
}

/* Big-endian 32-bit value at @off into *@val: 0, or -1 when not captured. */
static inline int kwasm_rec_be32(const struct kwasm_record *rec, uint32_t off,
				 uint32_t *val)
{
	const uint8_t *p = rec->pkt + off;

	if (off >= rec->cap_len || rec->cap_len - off < 4)
		return -1;
	*val = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
	return 0;
}

/* The IPv4 header fields most filters look at, in host byte order. */
struct kwasm_ip4 {
	uint32_t saddr;
	uint32_t daddr;
	uint16_t tot_len;
	uint8_t proto;
	uint8_t hdr_len;	/* IPv4 header length in bytes */
	int32_t sport;		/* -1 as for kwasm_pkt_sport() */
	int32_t dport;
};

/*
 * Decode the IPv4 header in @rec, and the ports of a first TCP or UDP
 * fragment when they were captured. Returns 0, or -1 when the captured bytes
 * do not hold an IPv4 header (snap length too small, or not IPv4).
 */
static inline int kwasm_ip4_parse(const struct kwasm_record *rec,
				  struct kwasm_ip4 *ip)
{
	int32_t ver_ihl = kwasm_rec_u8(rec, 0);
	int32_t tot_len = kwasm_rec_be16(rec, 2);
	int32_t frag = kwasm_rec_be16(rec, 6);
	uint32_t l4;

	if (ver_ihl < 0 || (ver_ihl >> 4) != 4 || (ver_ihl & 0xf) < 5 ||
	    tot_len < 0 || frag < 0 || kwasm_rec_be32(rec, 12, &ip->saddr) ||
	    kwasm_rec_be32(rec, 16, &ip->daddr))
		return -1;
	l4 = (uint32_t)(ver_ihl & 0xf) * 4;
	if (l4 > rec->cap_len)
		return -1;

	ip->tot_len = (uint16_t)tot_len;
	ip->proto = rec->pkt[9];
	ip->hdr_len = (uint8_t)l4;
	ip->sport = -1;
	ip->dport = -1;
	/* Only the first fragment (offset 0) carries the ports. */
	if ((ip->proto == KWASM_PROTO_TCP || ip->proto == KWASM_PROTO_UDP) &&
	    !(frag & 0x1fff)) {
		ip->sport = kwasm_rec_be16(rec, l4);
		ip->dport = kwasm_rec_be16(rec, l4 + 2);
		if (ip->sport < 0 || ip->dport < 0)
			ip->sport = ip->dport = -1;
	}
	return 0;
}

/* ---- building log lines without libc ---- */

/* A text buffer; output beyond @cap bytes is dropped. */
struct kwasm_fmt {
	char *buf;
	uint32_t cap;
	uint32_t len;
};

/* Initialiser for a struct kwasm_fmt writing into the array @arr. */
#define KWASM_FMT_INIT(arr) { (arr), sizeof(arr), 0 }

static inline void kwasm_fmt_char(struct kwasm_fmt *f, char c)
{
	if (f->len < f->cap)
		f->buf[f->len++] = c;
}

static inline void kwasm_fmt_str(struct kwasm_fmt *f, const char *s)
{
	while (*s)
		kwasm_fmt_char(f, *s++);
}

/* Append @v in decimal. */
static inline void kwasm_fmt_u32(struct kwasm_fmt *f, uint32_t v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		kwasm_fmt_char(f, digits[--n]);
}

/* Append a host-byte-order IPv4 address as a.b.c.d. */
static inline void kwasm_fmt_ip4(struct kwasm_fmt *f, uint32_t addr)
{
	int shift;

	for (shift = 24; shift >= 0; shift -= 8) {
		kwasm_fmt_u32(f, (addr >> shift) & 0xff);
		if (shift)
			kwasm_fmt_char(f, '.');
	}
}

/*
 * Append a 16-byte IPv6 address (network byte order) in the form of RFC
 * 5952: lower-case hex groups without leading zeros, the longest run of
 * two or more zero groups (the first of equal ones) as "::", and an IPv4
 * address mapped as ::ffff:a.b.c.d.
 */
static inline void kwasm_fmt_ip6(struct kwasm_fmt *f, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 1, run = 0, i, shift;

	for (i = 0; i < 8; i++) {
		run = a[2 * i] || a[2 * i + 1] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	if (best == 0 && best_len == 5 && a[10] == 0xff && a[11] == 0xff) {
		kwasm_fmt_str(f, "::ffff:");
		kwasm_fmt_ip4(f, (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
			      (uint32_t)a[14] << 8 | a[15]);
		return;
	}
	for (i = 0; i < 8; i++) {
		uint32_t group = (uint32_t)a[2 * i] << 8 | a[2 * i + 1];

		if (i == best) {
			kwasm_fmt_str(f, "::");
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			kwasm_fmt_char(f, ':');
		for (shift = 12; shift > 0 && !(group >> shift); shift -= 4)
			;
		for (; shift >= 0; shift -= 4)
			kwasm_fmt_char(f, hex[(group >> shift) & 0xf]);
	}
}

/* Send the buffer to the kernel log. */
static inline void kwasm_fmt_log(const struct kwasm_fmt *f)
{
	kwasm_log(f->buf, f->len);
}

/* ---- defining the entry points ---- */

/*
 * Memory for the record buffer: past the program's data and stack
 * (__heap_base, placed by wasm-ld), growing linear memory when needed, so any
 * snap length fits. NULL when memory cannot grow. Used by KWASM_FILTER().
 */
static inline void *kwasm_heap_alloc(uint32_t size)
{
	extern unsigned char __heap_base;
	static uintptr_t next;
	uintptr_t start, have;

	if (!next)
		next = (uintptr_t)&__heap_base;
	start = (next + 7) & ~(uintptr_t)7;
	have = __builtin_wasm_memory_size(0) * 65536;
	if (size > UINTPTR_MAX - start)
		return NULL;
	if (start + size > have &&
	    __builtin_wasm_memory_grow(0, (start + size - have + 65535) / 65536) ==
	    SIZE_MAX)
		return NULL;
	next = start + size;
	return (void *)start;
}

/*
 * Define the program's entry points around
 *
 *   static int fn(const struct kwasm_record *rec);
 *
 * which returns KWASM_ACCEPT or KWASM_DROP for the packet in *@rec. The
 * kernel calls kwasm_alloc once per instance, at load, for the record buffer
 * (KWASM_RECORD_HDR_LEN + snap length bytes). The custom section
 * "kwasm.record" names the record version.
 */
#define KWASM_RECORD_SECTION_(v)					\
	__asm__(".section .custom_section.kwasm.record,\"\",@\n"	\
		".byte " #v "\n"					\
		".text\n")
#define KWASM_RECORD_SECTION(v) KWASM_RECORD_SECTION_(v)
#define KWASM_FILTER(fn)						\
	KWASM_RECORD_SECTION(KWASM_RECORD_VERSION);			\
	__attribute__((export_name("kwasm_alloc")))			\
	void *kwasm_alloc(uint32_t size)				\
	{								\
		return kwasm_heap_alloc(size);				\
	}								\
	__attribute__((export_name("kwasm_filter")))			\
	int32_t kwasm_filter(const struct kwasm_record *rec, uint32_t len) \
	{								\
		(void)len;						\
		return fn(rec);						\
	}

/*
 * Like KWASM_FILTER() for a program that reads the packet through the host
 * functions only: no record, no kwasm_alloc. @fn is int fn(void).
 */
#define KWASM_FILTER_HOST_ONLY(fn)					\
	__attribute__((export_name("kwasm_filter")))			\
	int32_t kwasm_filter(uint32_t ctx, uint32_t len)		\
	{								\
		(void)ctx;						\
		(void)len;						\
		return fn();						\
	}

#endif /* KWASM_H */
