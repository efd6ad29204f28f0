/* SPDX-License-Identifier: GPL-2.0 */
/* A loaded program as user space sees it (show.c). */
#ifndef KWASM_SHOW_H
#define KWASM_SHOW_H

#include <linux/seq_file.h>

#include "uapi/kwasm.h"

struct kwasm_attachment;

void kwasm_show_fill(const struct kwasm_attachment *att,
		     struct kwasm_prog_show *s);
/* @s is scratch space for the fill. */
void kwasm_show_lines(struct seq_file *m, const struct kwasm_attachment *att,
		      struct kwasm_prog_show *s);

#endif /* KWASM_SHOW_H */
