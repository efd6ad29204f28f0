// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * accept_all: accepts every packet. The smallest kwasm program, and the
 * baseline for measuring what running a program costs.
 *
 * It reads nothing, so it uses KWASM_FILTER_HOST_ONLY(): no kwasm_alloc
 * export, and the kernel does not copy a packet record before each call.
 */
#include "kwasm.h"

static int accept_all(void)
{
	return KWASM_ACCEPT;
}

KWASM_FILTER_HOST_ONLY(accept_all)
