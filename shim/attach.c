// SPDX-License-Identifier: GPL-2.0
/*
 * The attached program's life cycle: build, attach, replace, detach.
 *
 * An attachment is the core's compiled program plus the netfilter hook it
 * runs at (struct kwasm_attachment, hook.h). All changes happen in process
 * context under kwasm_attach_lock. A new program is fully built (validated,
 * compiled, instantiated on every CPU) before its hook is registered and the
 * attachment is published in kwasm_attached with RCU; the old one is
 * unregistered and freed only after a grace period, so a packet sees the
 * old program or the new one, never a half-built or freed one.
 */
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "attach.h"
#include "hook.h"
#include "kwasm_core.h"

static DEFINE_MUTEX(kwasm_attach_lock);

static void kwasm_attachment_free(struct kwasm_attachment *att)
{
	kwasm_core_prog_free(att->prog);
	kfree(att);
}

/* Unpublish and free an attachment. Caller holds kwasm_attach_lock. */
static void kwasm_retire(struct kwasm_attachment *old)
{
	nf_unregister_net_hook(&init_net, &old->ops);
	/* Wait for packets and test-runs still using it. */
	synchronize_net();
	kwasm_attachment_free(old);
}

/*
 * Build @wasm with @opts (checked by kwasm_core_load_opts()) and attach it
 * at opts->hook, opts->priority, replacing the attached program. On failure
 * returns a negative errno and a reason in @err; what was attached stays.
 */
int kwasm_attach(const u8 *wasm, size_t len,
		 const struct kwasm_prog_opts *opts, char *err, size_t err_len)
{
	struct kwasm_attachment *new, *old;
	int ret;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new) {
		strscpy(err, "out of memory", err_len);
		return -ENOMEM;
	}

	ret = kwasm_core_prog_new(wasm, len, opts, &new->prog, err, err_len);
	if (ret)
		goto err_free;
	kwasm_hook_init_ops(&new->ops, opts->hook, opts->priority, new);

	mutex_lock(&kwasm_attach_lock);
	old = rcu_dereference_protected(kwasm_attached,
					lockdep_is_held(&kwasm_attach_lock));
	/* The maps the running program shares with its successor. */
	ret = kwasm_core_prog_adopt(new->prog, old ? old->prog : NULL,
				    err, err_len);
	if (ret) {
		mutex_unlock(&kwasm_attach_lock);
		goto err_prog;
	}
	/* Registered but inert until published: the hook checks kwasm_attached. */
	ret = nf_register_net_hook(&init_net, &new->ops);
	if (ret) {
		mutex_unlock(&kwasm_attach_lock);
		snprintf(err, err_len, "cannot register netfilter hook %s: %d",
			 kwasm_hook_name(opts->hook), ret);
		goto err_prog;
	}
	old = rcu_replace_pointer(kwasm_attached, new,
				  lockdep_is_held(&kwasm_attach_lock));
	if (old)
		kwasm_retire(old);
	mutex_unlock(&kwasm_attach_lock);
	return 0;

err_prog:
	kwasm_core_prog_free(new->prog);
err_free:
	kfree(new);
	return ret;
}

/* Detach and free the attached program: 0, or -ENOENT when none was. */
int kwasm_detach(void)
{
	struct kwasm_attachment *old;

	mutex_lock(&kwasm_attach_lock);
	old = rcu_replace_pointer(kwasm_attached, NULL,
				  lockdep_is_held(&kwasm_attach_lock));
	if (old)
		kwasm_retire(old);
	mutex_unlock(&kwasm_attach_lock);
	return old ? 0 : -ENOENT;
}

/*
 * Run the attached program once, found under RCU as a packet finds it, so
 * a test-run never holds up a load, an unload or a status read.
 */
int kwasm_attached_run(const struct kwasm_pkt *pkt,
		       struct kwasm_run_result *res)
{
	struct kwasm_attachment *att;

	rcu_read_lock();
	att = rcu_dereference(kwasm_attached);
	if (att)
		kwasm_run(att->prog, pkt, res);
	rcu_read_unlock();
	return att ? 0 : -ENOENT;
}

/*
 * A reference to the attached program's maps (kwasm_core_maps_put() drops
 * it), or NULL when none is attached. Taken under RCU as a packet finds the
 * program, so a map request never holds up a load; the program is freed
 * only after a grace period, and its maps only with the last reference.
 */
struct kwasm_maps *kwasm_attached_maps(void)
{
	struct kwasm_attachment *att;
	struct kwasm_maps *maps = NULL;

	rcu_read_lock();
	att = rcu_dereference(kwasm_attached);
	if (att)
		maps = kwasm_core_maps_get(att->prog);
	rcu_read_unlock();
	return maps;
}

/*
 * The reader of the attached program's events ring, and what the ring is
 * (@info), taken under kwasm_attach_lock so that the program cannot go
 * meanwhile; the reader then holds the ring itself.
 */
int kwasm_attached_events_open(struct kwasm_events **out,
			       struct kwasm_events_info *info, char *err,
			       size_t err_len)
{
	struct kwasm_attachment *att;
	int ret;

	mutex_lock(&kwasm_attach_lock);
	att = rcu_dereference_protected(kwasm_attached,
					lockdep_is_held(&kwasm_attach_lock));
	if (!att) {
		strscpy(err, "no program is attached", err_len);
		ret = -ENOENT;
	} else {
		ret = kwasm_core_events_open(att->prog, out, err, err_len);
		if (!ret)
			kwasm_core_events_info(att->prog, info);
	}
	mutex_unlock(&kwasm_attach_lock);
	return ret;
}

static const char * const abi_names[] = {
	[KWASM_ABI_KWASM] = "kwasm",
	[KWASM_ABI_ORIGINAL] = "original",
};

static const char * const map_kind_names[] = {
	[KWASM_MAP_KIND_ARRAY] = "array",
	[KWASM_MAP_KIND_PERCPU_ARRAY] = "percpu_array",
	[KWASM_MAP_KIND_HASH] = "hash",
	[KWASM_MAP_KIND_EVENTS] = "events",
};

/* A line per map, from what KWASM_IOC_MAP_LIST reports too. */
static noinline void kwasm_show_maps(struct seq_file *m,
				     const struct kwasm_prog *prog)
{
	struct kwasm_map_info info;
	struct kwasm_maps *maps;
	u32 i, n;

	maps = kwasm_core_maps_get(prog);
	n = kwasm_core_maps_count(maps);
	for (i = 0; i < n && !kwasm_core_map_info(maps, i, &info); i++)
		seq_printf(m, "map.%s: %s key=%u value=%u max=%u entries=%llu memory=%llu full=%llu\n",
			   info.name,
			   info.kind < ARRAY_SIZE(map_kind_names) &&
			   map_kind_names[info.kind] ?
			   map_kind_names[info.kind] : "?",
			   info.key_size, info.value_size, info.max_entries,
			   info.entries, info.memory, info.full);
	kwasm_core_maps_put(maps);
}

static void kwasm_show(struct seq_file *m, struct kwasm_attachment *att)
{
	struct kwasm_prog_info info_buf, *info = &info_buf;
	struct kwasm_stats st_buf, *st = &st_buf;
	struct kwasm_events_info ev_buf, *ev = &ev_buf;
	u32 i;

	/* Both are read now: memory and counters change as packets run. */
	kwasm_core_prog_info(att->prog, info);
	kwasm_core_prog_stats(att->prog, st);
	seq_printf(m, "program: %s\n", info->name);
	seq_printf(m, "abi: %s\n", info->abi < ARRAY_SIZE(abi_names) &&
		   abi_names[info->abi] ? abi_names[info->abi] : "?");
	seq_printf(m, "size: %u\n", info->size);
	seq_printf(m, "sha256: %*phN\n", (int)sizeof(info->sha256),
		   info->sha256);
	seq_printf(m, "hook: %s\n", kwasm_hook_name(att->ops.hooknum));
	seq_printf(m, "priority: %d\n", att->ops.priority);
	seq_printf(m, "snaplen: %u\n", info->snaplen);
	seq_printf(m, "default: %s\n",
		   info->default_verdict == KWASM_DROP ?
		   "drop" : "accept");
	seq_printf(m, "fuel: %llu\n", info->fuel);
	seq_printf(m, "instances: %u\n", info->instances);
	seq_printf(m, "memory: %llu\n", info->memory_bytes);
	seq_printf(m, "heap: %llu\n", info->heap_bytes);
	seq_printf(m, "maps: %u\n", info->maps);
	seq_printf(m, "map_memory: %llu\n", info->map_memory);
	kwasm_show_maps(m, att->prog);
	if (!kwasm_core_events_info(att->prog, ev))
		seq_printf(m, "events: size=%u record=%u written=%llu dropped=%llu reader=%u\n",
			   ev->ring_size, ev->max_record, ev->written,
			   ev->dropped, ev->reader);
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

/* The attached program's lines of /proc/kwasm. */
int kwasm_attached_show(struct seq_file *m)
{
	struct kwasm_attachment *att;

	/* Readers need no privilege: let them give up waiting for a load. */
	if (mutex_lock_killable(&kwasm_attach_lock))
		return -EINTR;
	att = rcu_dereference_protected(kwasm_attached,
					lockdep_is_held(&kwasm_attach_lock));
	if (att)
		kwasm_show(m, att);
	else
		seq_puts(m, "program: none\n");
	mutex_unlock(&kwasm_attach_lock);
	return 0;
}
