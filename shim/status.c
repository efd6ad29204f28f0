// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kwasm: the programs loaded in the reader's network namespace, each
 * with its counters summed over CPUs (show.c), the outcome of the last load
 * and the memory the module holds (alloc_* for everything allocated through
 * the shim's kwasm_alloc(), m3_alloc_* for wasm3's heap, a part of it). One
 * "key: value" per line.
 */
#include <linux/nsproxy.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "attach.h"
#include "kwasm_core.h"
#include "kwasm_m3_compat.h"
#include "services.h"
#include "show.h"
#include "status.h"

static DEFINE_SPINLOCK(last_load_lock);
static char last_load[KWASM_NAME_LEN + KWASM_ERR_LEN + 32] = "none";

void kwasm_status_set_last_load(int ret, const char *name, const char *err)
{
	spin_lock(&last_load_lock);
	if (ret)
		snprintf(last_load, sizeof(last_load), "%s: error %d: %s",
			 name, ret, err);
	else
		snprintf(last_load, sizeof(last_load), "%s: ok", name);
	spin_unlock(&last_load_lock);

	if (ret)
		pr_err("kwasm: load of %s failed (%d): %s\n", name, ret, err);
	else
		pr_info("kwasm: loaded %s\n", name);
}

/* What the block of each program needs. */
struct kwasm_status_progs {
	struct seq_file *m;
	struct kwasm_prog_show *scratch;
};

static void kwasm_status_count(const struct kwasm_attachment *att, void *arg)
{
}

static void kwasm_status_prog(const struct kwasm_attachment *att, void *arg)
{
	struct kwasm_status_progs *p = arg;

	kwasm_show_lines(p->m, att, p->scratch);
}

static int kwasm_status_show(struct seq_file *m, void *v)
{
	/* The reader's network namespace. */
	struct net *net = current->nsproxy->net_ns;
	struct kwasm_status_progs p = { .m = m };
	long blocks, bytes;
	int n;

	p.scratch = kmalloc(sizeof(*p.scratch), GFP_KERNEL);
	if (!p.scratch)
		return -ENOMEM;
	/* The count first (a pass of its own), then a block per program. */
	n = kwasm_visit_progs(net, kwasm_status_count, NULL);
	seq_printf(m, "programs: %d\n", n < 0 ? 0 : n);
	n = kwasm_visit_progs(net, kwasm_status_prog, &p);
	kfree(p.scratch);
	if (n < 0)
		return n;
	if (!n)
		seq_puts(m, "program: none\n");
	spin_lock(&last_load_lock);
	seq_printf(m, "last_load: %s\n", last_load);
	spin_unlock(&last_load_lock);
	/* Module-wide: the core's allocations and wasm3's heap together. */
	kwasm_alloc_stats(&blocks, &bytes);
	seq_printf(m, "alloc_blocks: %ld\n", blocks);
	seq_printf(m, "alloc_bytes: %ld\n", bytes);
	/* The part of them that is wasm3's heap. */
	kwasm_m3_mem_stats(&blocks, &bytes);
	seq_printf(m, "m3_alloc_blocks: %ld\n", blocks);
	seq_printf(m, "m3_alloc_bytes: %ld\n", bytes);
	return 0;
}

int kwasm_status_init(void)
{
	if (!proc_create_single("kwasm", 0444, NULL, kwasm_status_show))
		return -ENOMEM;
	return 0;
}

void kwasm_status_exit(void)
{
	remove_proc_entry("kwasm", NULL);
}
