/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attached program's life cycle (attach.c): build a program and attach
 * it to its netfilter hook in place of the one attached before, detach it,
 * run it once for test-run, lend its maps to a map request, show it in
 * /proc/kwasm.
 */
#ifndef KWASM_ATTACH_H
#define KWASM_ATTACH_H

#include <linux/seq_file.h>
#include <linux/types.h>

#include "kwasm_core.h"

int kwasm_attach(const u8 *wasm, size_t len,
		 const struct kwasm_prog_opts *opts, char *err, size_t err_len);
int kwasm_detach(void);
int kwasm_attached_run(const struct kwasm_pkt *pkt,
		       struct kwasm_run_result *res);
struct kwasm_maps *kwasm_attached_maps(void);
int kwasm_attached_show(struct seq_file *m);
int kwasm_attached_events_open(struct kwasm_events **out,
			       struct kwasm_events_info *info, char *err,
			       size_t err_len);

#endif /* KWASM_ATTACH_H */
