/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path (hook.c): the netfilter hooks that run attached programs
 * on every IPv4 and IPv6 packet, the structures they find a program
 * through, and the one way into the core's run of a program.
 */
#ifndef KWASM_HOOK_H
#define KWASM_HOOK_H

#include <linux/list.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/uidgid.h>

#include "kwasm_core.h"

struct kwasm_attachment;

/*
 * A named program of one network namespace: its place in the namespace's
 * list and the attachment packets see (NULL while it is being unloaded).
 * A replacement swaps cur; the slot outlives every attachment that was
 * ever its cur. attach.c owns slots, under kwasm_attach_lock.
 */
struct kwasm_slot {
	struct list_head node;
	struct kwasm_attachment __rcu *cur;
	char name[KWASM_NAME_LEN];
};

/* Run time of one program on one CPU, while stats_enabled is set. */
struct kwasm_run_time {
	u64 ns;
	u64 count;
};

/*
 * A program attached to netfilter hooks: the core's compiled program, one
 * hook per family it attaches to, and what `kwasmctl show` says of it.
 * attach.c builds, publishes and frees them.
 */
struct kwasm_attachment {
	struct kwasm_prog *prog;
	struct kwasm_slot *slot;
	struct net *net;
	struct nf_hook_ops ops[2];
	unsigned int nops;
	u32 id;
	u32 family;		/* KWASM_FAMILY_* */
	u64 load_time_ns;	/* CLOCK_REALTIME */
	kuid_t loader;
	struct kwasm_run_time __percpu *run_time;
};

/*
 * Fill @att's hook ops for opts->family (two for inet), opts->hook and
 * opts->priority.
 */
void kwasm_hook_init_ops(struct kwasm_attachment *att,
			 const struct kwasm_prog_opts *opts);
void kwasm_run(struct kwasm_prog *prog, const struct kwasm_pkt *pkt,
	       struct kwasm_run_result *res);
const char *kwasm_hook_name(unsigned int hook);
const char *kwasm_family_name(u32 family);

#endif /* KWASM_HOOK_H */
