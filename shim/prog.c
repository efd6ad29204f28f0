// SPDX-License-Identifier: GPL-2.0
/*
 * The life cycle of the loaded program: build, publish, replace, unload.
 *
 * All changes happen in process context under kwasm_prog_lock. A new program
 * is fully built (validated, compiled, instantiated on every CPU) before its
 * hook is registered and the pointer is published with RCU; the old one is
 * unregistered and freed only after a grace period, so a packet sees the old
 * program or the new one, never a half-built or freed one.
 */
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/netfilter_ipv4.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "kwasm.h"

struct kwasm_loaded __rcu *kwasm_active;
static DEFINE_MUTEX(kwasm_prog_lock);

void kwasm_load_params_default(struct kwasm_load_params *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	strscpy(p->opts.name, name, sizeof(p->opts.name));
	p->opts.snaplen = KWASM_DEFAULT_SNAPLEN;
	p->opts.default_verdict = KWASM_ACCEPT;
	p->opts.fuel = KWASM_DEFAULT_FUEL;
	p->hook = NF_INET_PRE_ROUTING;
	p->priority = NF_IP_PRI_FIRST;
}

static void kwasm_loaded_free(struct kwasm_loaded *loaded)
{
	kwasm_core_prog_free(loaded->core);
	kfree(loaded);
}

/* Unpublish and free the active program. Caller holds kwasm_prog_lock. */
static void kwasm_retire(struct kwasm_loaded *old)
{
	nf_unregister_net_hook(&init_net, &old->ops);
	/* Wait for packets and test-runs still using it. */
	synchronize_net();
	kwasm_loaded_free(old);
}

int kwasm_prog_load(const u8 *wasm, size_t len,
		    const struct kwasm_load_params *params,
		    char *err, size_t err_len)
{
	struct kwasm_loaded *new, *old;
	int ret;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new) {
		strscpy(err, "out of memory", err_len);
		return -ENOMEM;
	}

	ret = kwasm_core_prog_new(wasm, len, &params->opts, &new->core,
				  err, err_len);
	if (ret)
		goto err_free;
	kwasm_hook_init_ops(&new->ops, params->hook, params->priority, new);

	mutex_lock(&kwasm_prog_lock);
	/* Registered but inert until published: the hook checks kwasm_active. */
	ret = nf_register_net_hook(&init_net, &new->ops);
	if (ret) {
		mutex_unlock(&kwasm_prog_lock);
		snprintf(err, err_len, "cannot register netfilter hook %s: %d",
			 kwasm_hook_name(params->hook), ret);
		kwasm_core_prog_free(new->core);
		goto err_free;
	}
	old = rcu_replace_pointer(kwasm_active, new,
				  lockdep_is_held(&kwasm_prog_lock));
	if (old)
		kwasm_retire(old);
	mutex_unlock(&kwasm_prog_lock);
	return 0;

err_free:
	kfree(new);
	return ret;
}

int kwasm_prog_unload(void)
{
	struct kwasm_loaded *old;

	mutex_lock(&kwasm_prog_lock);
	old = rcu_replace_pointer(kwasm_active, NULL,
				  lockdep_is_held(&kwasm_prog_lock));
	if (old)
		kwasm_retire(old);
	mutex_unlock(&kwasm_prog_lock);
	return old ? 0 : -ENOENT;
}

void kwasm_prog_exit(void)
{
	kwasm_prog_unload();
}

/*
 * Run the published program once, found under RCU as a packet finds it, so
 * a test-run never holds up a load, an unload or a status read.
 */
int kwasm_prog_run_active(const struct kwasm_pkt *pkt,
			  struct kwasm_run_result *res)
{
	struct kwasm_loaded *loaded;

	rcu_read_lock();
	loaded = rcu_dereference(kwasm_active);
	if (loaded)
		kwasm_run(loaded->core, pkt, res);
	rcu_read_unlock();
	return loaded ? 0 : -ENOENT;
}

static const char * const abi_names[] = {
	[KWASM_ABI_KWASM] = "kwasm",
	[KWASM_ABI_ORIGINAL] = "original",
};

static void kwasm_show_loaded(struct seq_file *m, struct kwasm_loaded *l)
{
	struct kwasm_prog_info info_buf, *info = &info_buf;
	struct kwasm_stats st_buf, *st = &st_buf;
	u32 i;

	/* Both are read now: memory and counters change as packets run. */
	kwasm_core_prog_info(l->core, info);
	kwasm_core_prog_stats(l->core, st);
	seq_printf(m, "program: %s\n", info->name);
	seq_printf(m, "abi: %s\n", info->abi < ARRAY_SIZE(abi_names) &&
		   abi_names[info->abi] ? abi_names[info->abi] : "?");
	seq_printf(m, "size: %u\n", info->size);
	seq_printf(m, "sha256: %*phN\n", (int)sizeof(info->sha256),
		   info->sha256);
	seq_printf(m, "hook: %s\n", kwasm_hook_name(l->ops.hooknum));
	seq_printf(m, "priority: %d\n", l->ops.priority);
	seq_printf(m, "snaplen: %u\n", info->snaplen);
	seq_printf(m, "default: %s\n",
		   info->default_verdict == KWASM_DROP ?
		   "drop" : "accept");
	seq_printf(m, "fuel: %llu\n", info->fuel);
	seq_printf(m, "instances: %u\n", info->instances);
	seq_printf(m, "memory: %llu\n", info->memory_bytes);
	seq_printf(m, "heap: %llu\n", info->heap_bytes);
	seq_printf(m, "runs: %llu\n", st->runs);
	seq_printf(m, "accepted: %llu\n", st->accepted);
	seq_printf(m, "dropped: %llu\n", st->dropped);
	seq_printf(m, "invalid: %llu\n", st->invalid);
	seq_printf(m, "traps: %llu\n", st->traps);
	seq_printf(m, "skipped: %llu\n", st->skipped);
	seq_printf(m, "busy: %llu\n", st->busy);
	for (i = 1; i < KWASM_TRAP_COUNT; i++)
		seq_printf(m, "trap.%s: %llu\n", kwasm_core_trap_name(i),
			   st->trap_kind[i]);
}

int kwasm_prog_show(struct seq_file *m)
{
	struct kwasm_loaded *loaded;

	/* Readers need no privilege: let them give up waiting for a load. */
	if (mutex_lock_killable(&kwasm_prog_lock))
		return -EINTR;
	loaded = rcu_dereference_protected(kwasm_active,
					   lockdep_is_held(&kwasm_prog_lock));
	if (loaded)
		kwasm_show_loaded(m, loaded);
	else
		seq_puts(m, "program: none\n");
	mutex_unlock(&kwasm_prog_lock);
	return 0;
}
