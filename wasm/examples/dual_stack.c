// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * dual_stack: drops TCP and UDP to one destination port over IPv4 and IPv6
 * alike, accepts the rest, and logs the first drop and every 100th after
 * it, e.g.
 *
 *   kwasm: dual_stack: drop #1: udp [::1]:40000 -> [::1]:23557
 *
 * The port is fixed at compile time: -DPORT=8080 (default 23557). Load it
 * for both families with `kwasmctl load dual_stack.wasm --family inet`.
 *
 * It reads record version 3: the kernel finds an IPv6 packet's ports past
 * its extension headers, and writes both families' addresses in 16 bytes
 * (an IPv4 one as ::ffff:a.b.c.d). Version 2 would do for the port check
 * alone; a program with version 1 or the original ABI cannot be loaded for
 * IPv6. Each CPU runs its own instance, so the count is per CPU.
 */
#define KWASM_RECORD_VERSION 3
#include "kwasm.h"

#ifndef PORT
#define PORT 23557
#endif

#define LOG_EVERY 100

static uint32_t drops;

/* "[addr]:port" for IPv6, "a.b.c.d:port" for IPv4. */
static void fmt_endpoint(struct kwasm_fmt *f, const struct kwasm_record *rec,
			 const uint8_t *addr6, uint32_t addr4, uint32_t port)
{
	if (kwasm_rec_is_ipv6(rec)) {
		kwasm_fmt_char(f, '[');
		kwasm_fmt_ip6(f, addr6);
		kwasm_fmt_char(f, ']');
	} else {
		kwasm_fmt_ip4(f, addr4);
	}
	kwasm_fmt_char(f, ':');
	kwasm_fmt_u32(f, port);
}

static int dual_stack(const struct kwasm_record *rec)
{
	char line[128];
	struct kwasm_fmt f = KWASM_FMT_INIT(line);

	/* Ports only for TCP and UDP, past any IPv6 extension headers. */
	if (kwasm_rec_dport(rec) != PORT)
		return KWASM_ACCEPT;

	if (drops++ % LOG_EVERY == 0) {
		kwasm_fmt_str(&f, "drop #");
		kwasm_fmt_u32(&f, drops);
		kwasm_fmt_str(&f, rec->ip_proto == KWASM_PROTO_TCP ? ": tcp " :
				  ": udp ");
		fmt_endpoint(&f, rec, rec->saddr6, rec->saddr, rec->sport);
		kwasm_fmt_str(&f, " -> ");
		fmt_endpoint(&f, rec, rec->daddr6, rec->daddr, rec->dport);
		kwasm_fmt_log(&f);
	}
	return KWASM_DROP;
}

KWASM_FILTER(dual_stack)
