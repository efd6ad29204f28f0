/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Programs' life cycle (attach.c): build a program and attach it in a
 * network namespace in place of the one of the same name, detach one or
 * all, and find the program a request names, to run it once for
 * test-run, lend its maps or its events ring, or show it.
 */
#ifndef KWASM_ATTACH_H
#define KWASM_ATTACH_H

#include <linux/types.h>
#include <net/net_namespace.h>

#include "kwasm_core.h"

struct kwasm_attachment;

int kwasm_attach(struct net *net, const u8 *wasm, size_t len,
		 const struct kwasm_prog_opts *opts, char *err, size_t err_len);
int kwasm_detach_all(struct net *net);
int kwasm_detach_one(struct net *net, u32 id, const char *name, char *err,
		     size_t err_len);
int kwasm_prog_resolve(struct net *net, u32 prog_id, u32 *id, char *err,
		       size_t err_len);
int kwasm_prog_run(struct net *net, u32 id, const struct kwasm_pkt *pkt,
		   struct kwasm_run_result *res);
struct kwasm_maps *kwasm_prog_maps(struct net *net, u32 prog_id, char *err,
				   size_t err_len);
int kwasm_prog_events_open(struct net *net, u32 prog_id,
			   struct kwasm_events **out,
			   struct kwasm_events_info *info, char *err,
			   size_t err_len);
int kwasm_visit_progs(struct net *net,
			void (*fn)(const struct kwasm_attachment *att, void *arg),
			void *arg);
int kwasm_attach_init(void);
void kwasm_attach_exit(void);

#endif /* KWASM_ATTACH_H */
