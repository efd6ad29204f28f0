/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Each network namespace's programs (netns.c): its list of named slots
 * (struct kwasm_slot, hook.h), created with the namespace and emptied when
 * the namespace or the module goes away.
 */
#ifndef KWASM_NETNS_H
#define KWASM_NETNS_H

#include <linux/list.h>
#include <net/net_namespace.h>

struct kwasm_net {
	/* Slots, under kwasm_attach_lock; read under RCU too. */
	struct list_head slots;
	unsigned int count;
};

struct kwasm_net *kwasm_net(const struct net *net);
/* The namespace requests act in: the calling task's. */
struct net *kwasm_current_net(void);

int kwasm_netns_init(void);
void kwasm_netns_exit(void);

#endif /* KWASM_NETNS_H */
