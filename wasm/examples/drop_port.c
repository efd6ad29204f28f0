// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * drop_port: drops TCP packets to one destination port, accepts the rest.
 *
 * The port is fixed at compile time: -DPORT=8080 (default 23557, the port of
 * the original project's echo test). The program reads the packet record the
 * kernel writes into its memory: no host call is needed per packet.
 *
 * Built as is, it reads the ports the kernel has already parsed (record
 * version 2): a few loads and compares. Built with -DKWASM_RECORD_VERSION=1
 * (build/drop_port_v1.wasm) it parses the IPv4 header from the packet bytes
 * itself, as programs for the first record version do.
 */
#include "kwasm.h"

#ifndef PORT
#define PORT 23557
#endif

static int drop_port(const struct kwasm_record *rec)
{
#if KWASM_RECORD_VERSION == 1
	struct kwasm_ip4 ip;

	/* A header the snap length cut short cannot match: let it through. */
	if (kwasm_ip4_parse(rec, &ip))
		return KWASM_ACCEPT;
	if (ip.proto == KWASM_PROTO_TCP && ip.dport == PORT)
		return KWASM_DROP;
#else
	if (rec->ip_proto == KWASM_PROTO_TCP && kwasm_rec_dport(rec) == PORT)
		return KWASM_DROP;
#endif
	return KWASM_ACCEPT;
}

KWASM_FILTER(drop_port)
