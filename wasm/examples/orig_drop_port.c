// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * orig_drop_port: drops TCP packets to port 23557 and prints that port for
 * each drop, written for the ORIGINAL ABI of the project kwasm grew from
 * (docs/ABI.md, "Original ABI"), the way its programs were written, and built
 * the way they were built:
 *
 *   clang -target wasm32 -nostdlib -Wl,--no-entry -Wl,--export-all \
 *         -o orig_drop_port.wasm orig_drop_port.c
 *
 * Its counterpart in the original test: a TCP echo client to 127.0.0.1:23557
 * connects with orig_accept_all loaded and times out with this one.
 */
#include <stdint.h>

#define PORT 23557
#define PROTO_TCP 0

/* What the kernel writes at the address alloc() returned, before filter(). */
struct packet_info {
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t len;
	uint8_t proto;		/* 0 TCP, 1 UDP */
};

/* The one host function of the original ABI: prints an integer. */
__attribute__((import_module("custom"), import_name("print_int")))
int print_int(int value);

static struct packet_info info;

/* Called once at load with the size of struct packet_info. */
void *alloc(int64_t size)
{
	return size <= (int64_t)sizeof(info) ? &info : 0;
}

/* 1: accept, 0: drop. */
int filter(void)
{
	if (info.proto == PROTO_TCP && info.dst_port == PORT) {
		print_int(info.dst_port);
		return 0;
	}
	return 1;
}
