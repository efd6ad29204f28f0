// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * drop_events: drops TCP packets to port 23557 (-DPORT=... for another),
 * accepts the rest, and writes an event for each drop to its events ring:
 * the source address and port, the destination port and the protocol.
 *
 *   kwasmctl load build/drop_events.wasm
 *   kwasmctl events --json
 *
 * A full ring (nobody reading) drops the event, not the verdict: the ring
 * counts it, and the next record read says how many were lost before it.
 */
#include "kwasm.h"

#ifndef PORT
#define PORT 23557
#endif

struct drop_event {
	uint32_t saddr;		/* host byte order */
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t pad[3];
};

KWASM_EVENTS(struct drop_event, 12, 65536,
	     "saddr:ipv4,sport:port,dport:port,proto:u8,pad3")

static int drop_events(const struct kwasm_record *rec)
{
	struct drop_event ev = { 0 };

	if (rec->ip_proto != KWASM_PROTO_TCP || kwasm_rec_dport(rec) != PORT)
		return KWASM_ACCEPT;
	ev.saddr = rec->saddr;
	ev.sport = rec->sport;
	ev.dport = rec->dport;
	ev.proto = rec->ip_proto;
	kwasm_event_output(&ev);
	return KWASM_DROP;
}

KWASM_FILTER(drop_events)
