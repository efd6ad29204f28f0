// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * log_every_n: accepts every packet and logs one line for every Nth, e.g.
 *
 *   kwasm: log_every_n: #1000 tcp 10.0.0.1:1234 -> 127.0.0.1:23557 len 60
 *
 * N is fixed at compile time: -DN=100 (default 1000). The kernel runs one
 * instance of the program per CPU and each has its own memory, so the count
 * is per CPU. The kernel rate-limits program output as well.
 */
#include "kwasm.h"

#ifndef N
#define N 1000
#endif

static uint32_t seen;

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case KWASM_PROTO_TCP:
		return "tcp";
	case KWASM_PROTO_UDP:
		return "udp";
	case KWASM_PROTO_ICMP:
		return "icmp";
	default:
		return "ip";
	}
}

static void log_packet(const struct kwasm_record *rec)
{
	char line[128];
	struct kwasm_fmt f = KWASM_FMT_INIT(line);
	struct kwasm_ip4 ip;

	kwasm_fmt_char(&f, '#');
	kwasm_fmt_u32(&f, seen);
	if (kwasm_ip4_parse(rec, &ip)) {
		kwasm_fmt_str(&f, " (IPv4 header not captured)");
		kwasm_fmt_log(&f);
		return;
	}

	kwasm_fmt_char(&f, ' ');
	kwasm_fmt_str(&f, proto_name(ip.proto));
	kwasm_fmt_char(&f, ' ');
	kwasm_fmt_ip4(&f, ip.saddr);
	if (ip.sport >= 0) {
		kwasm_fmt_char(&f, ':');
		kwasm_fmt_u32(&f, (uint32_t)ip.sport);
	}
	kwasm_fmt_str(&f, " -> ");
	kwasm_fmt_ip4(&f, ip.daddr);
	if (ip.dport >= 0) {
		kwasm_fmt_char(&f, ':');
		kwasm_fmt_u32(&f, (uint32_t)ip.dport);
	}
	kwasm_fmt_str(&f, " len ");
	kwasm_fmt_u32(&f, rec->pkt_len);
	kwasm_fmt_log(&f);
}

static int log_every_n(const struct kwasm_record *rec)
{
	if (++seen % N == 0)
		log_packet(rec);
	return KWASM_ACCEPT;
}

KWASM_FILTER(log_every_n)
