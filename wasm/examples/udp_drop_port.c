// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * udp_drop_port: drops UDP datagrams to one destination port, accepts the
 * rest. The port is fixed at compile time: -DPORT=53 (default 23558).
 *
 * Unlike drop_port.c this program asks the kernel through host functions
 * instead of reading a packet record, so it exports no kwasm_alloc.
 */
#include "kwasm.h"

#ifndef PORT
#define PORT 23558
#endif

static int udp_drop_port(void)
{
	/* kwasm_pkt_dport() is -1 for later fragments and short headers. */
	if (kwasm_pkt_protocol() == KWASM_PROTO_UDP && kwasm_pkt_dport() == PORT)
		return KWASM_DROP;
	return KWASM_ACCEPT;
}

KWASM_FILTER_HOST_ONLY(udp_drop_port)
