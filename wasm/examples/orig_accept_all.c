// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * orig_accept_all: accepts every TCP and UDP packet, written for the ORIGINAL
 * ABI of the project kwasm grew from (docs/ABI.md, "Original ABI"), the way
 * its programs were written, and built the way they were built:
 *
 *   clang -target wasm32 -nostdlib -Wl,--no-entry -Wl,--export-all \
 *         -o orig_accept_all.wasm orig_accept_all.c
 *
 * It proves such programs still load unchanged.
 */
#include <stdint.h>

/* What the kernel writes at the address alloc() returned, before filter(). */
struct packet_info {
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t len;
	uint8_t proto;		/* 0 TCP, 1 UDP */
};

static struct packet_info info;

/* Called once at load with the size of struct packet_info. */
void *alloc(int64_t size)
{
	return size <= (int64_t)sizeof(info) ? &info : 0;
}

/* 1: accept, 0: drop. */
int filter(void)
{
	return 1;
}
