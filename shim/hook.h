/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path (hook.c): the netfilter hook that runs the attached
 * program on every IPv4 packet, the pointer it finds that program through,
 * and the one way into the core's run of a program.
 */
#ifndef KWASM_HOOK_H
#define KWASM_HOOK_H

#include <linux/netfilter.h>
#include <linux/rcupdate.h>

#include "kwasm_core.h"

/*
 * A program attached to a netfilter hook: the core's compiled program and
 * the hook that runs it. attach.c builds, publishes and frees them.
 */
struct kwasm_attachment {
	struct kwasm_prog *prog;
	struct nf_hook_ops ops;
};

/*
 * The attachment packets see; NULL when none. Read under RCU by the hook and
 * test-run; written by attach.c only, under its mutex.
 */
extern struct kwasm_attachment __rcu *kwasm_attached;

void kwasm_hook_init_ops(struct nf_hook_ops *ops, unsigned int hook,
			 int priority, void *priv);
void kwasm_run(struct kwasm_prog *prog, const struct kwasm_pkt *pkt,
	       struct kwasm_run_result *res);
const char *kwasm_hook_name(unsigned int hook);

#endif /* KWASM_HOOK_H */
