// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kwasm: what is loaded, its counters summed over CPUs, the outcome of
 * the last load and the memory the module holds. One "key: value" per line.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "kwasm.h"
#include "kwasm_m3_compat.h"

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

u64 kwasm_heap_bytes(void)
{
	long blocks, bytes;

	kwasm_m3_mem_stats(&blocks, &bytes);
	return bytes > 0 ? bytes : 0;
}

static int kwasm_status_show(struct seq_file *m, void *v)
{
	long blocks, bytes;
	int ret;

	ret = kwasm_prog_show(m);
	if (ret)
		return ret;
	spin_lock(&last_load_lock);
	seq_printf(m, "last_load: %s\n", last_load);
	spin_unlock(&last_load_lock);
	kwasm_m3_mem_stats(&blocks, &bytes);
	seq_printf(m, "alloc_blocks: %ld\n", blocks);
	seq_printf(m, "alloc_bytes: %ld\n", bytes);
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
