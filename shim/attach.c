// SPDX-License-Identifier: GPL-2.0
/*
 * Programs' life cycle: build, attach, replace, detach; and finding a
 * program for a request.
 *
 * Each network namespace has a list of named slots (netns.h); a slot's
 * cur is the attachment packets see: the core's compiled program plus its
 * netfilter hooks (struct kwasm_attachment, hook.h). All changes happen in
 * process context under kwasm_attach_lock. A new program is fully built
 * (validated, compiled, instantiated on every CPU) before its hooks are
 * registered and it is published in its slot with RCU; the old one is
 * unregistered and freed only after a grace period, so a packet sees the
 * old program or the new one, never a half-built or freed one.
 *
 * Ids are module-wide (an IDR, cyclic), so that a request naming one in
 * another namespace finds nothing rather than another program.
 *
 * Each namespace's slots live in its generic data (pernet operations):
 * when the namespace goes away, or the module, which unregisters the
 * operations and so runs the exit of every namespace, its programs are
 * detached and freed.
 */
#include <linux/cred.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "attach.h"
#include "hook.h"
#include "kwasm_core.h"

static DEFINE_MUTEX(kwasm_attach_lock);
/* Attachments by id; an id is reserved (NULL) while its program builds. */
static DEFINE_IDR(kwasm_ids);

/* A network namespace's programs. */
struct kwasm_net {
	/* Slots, under kwasm_attach_lock; read under RCU too. */
	struct list_head slots;
	unsigned int count;
};

static unsigned int kwasm_net_id __read_mostly;

static struct kwasm_net *kwasm_net(const struct net *net)
{
	return net_generic(net, kwasm_net_id);
}

static void kwasm_attachment_free(struct kwasm_attachment *att)
{
	kwasm_core_prog_free(att->prog);
	free_percpu(att->run_time);
	kfree(att);
}

/* The slot named @name in @kn, or NULL. Caller holds kwasm_attach_lock. */
static struct kwasm_slot *kwasm_slot_find(struct kwasm_net *kn,
					  const char *name)
{
	struct kwasm_slot *slot;

	list_for_each_entry(slot, &kn->slots, node)
		if (!strcmp(slot->name, name))
			return slot;
	return NULL;
}

static struct kwasm_attachment *kwasm_slot_cur(struct kwasm_slot *slot)
{
	return rcu_dereference_protected(slot->cur,
					 lockdep_is_held(&kwasm_attach_lock));
}

/*
 * Unhook and free an attachment no slot publishes any more. Caller holds
 * kwasm_attach_lock.
 */
static void kwasm_retire(struct kwasm_attachment *old)
{
	nf_unregister_net_hooks(old->net, old->ops, old->nops);
	/* Wait for packets and test-runs still using it. */
	synchronize_net();
	idr_remove(&kwasm_ids, old->id);
	kwasm_attachment_free(old);
}

/*
 * Reserve an id for a program about to be built in @net under @name,
 * refusing early when it would be one program too many there.
 */
static int kwasm_reserve_id(struct net *net, const char *name, char *err,
			    size_t err_len)
{
	struct kwasm_net *kn = kwasm_net(net);
	int id;

	mutex_lock(&kwasm_attach_lock);
	if (kn->count >= KWASM_LIMIT_PROGS && !kwasm_slot_find(kn, name)) {
		mutex_unlock(&kwasm_attach_lock);
		snprintf(err, err_len,
			 "%u programs are loaded in this network namespace (the limit): unload one or replace one by name",
			 KWASM_LIMIT_PROGS);
		return -ENOSPC;
	}
	id = idr_alloc_cyclic(&kwasm_ids, NULL, 1, INT_MAX, GFP_KERNEL);
	mutex_unlock(&kwasm_attach_lock);
	if (id < 0)
		strscpy(err, "no program id left", err_len);
	return id;
}

static void kwasm_release_id(u32 id)
{
	mutex_lock(&kwasm_attach_lock);
	idr_remove(&kwasm_ids, id);
	mutex_unlock(&kwasm_attach_lock);
}

/* A new attachment of @opts in @net, its program built; ERR_PTR on failure. */
static struct kwasm_attachment *
kwasm_attachment_new(struct net *net, const u8 *wasm, size_t len,
		     const struct kwasm_prog_opts *opts, u32 id, char *err,
		     size_t err_len)
{
	struct kwasm_prog_opts with_id = *opts;
	struct kwasm_attachment *att;
	int ret;

	att = kzalloc(sizeof(*att), GFP_KERNEL);
	if (!att)
		goto err_nomem;
	att->run_time = alloc_percpu(struct kwasm_run_time);
	if (!att->run_time)
		goto err_free;
	with_id.id = id;
	ret = kwasm_core_prog_new(wasm, len, &with_id, &att->prog, err,
				  err_len);
	if (ret) {
		free_percpu(att->run_time);
		kfree(att);
		return ERR_PTR(ret);
	}
	att->net = net;
	att->id = id;
	att->family = opts->family;
	att->load_time_ns = ktime_get_real_ns();
	att->loader = current_uid();
	kwasm_hook_init_ops(att, opts);
	return att;

err_free:
	kfree(att);
err_nomem:
	strscpy(err, "out of memory", err_len);
	return ERR_PTR(-ENOMEM);
}

/*
 * Publish @new under @name in @net, replacing the program of that name.
 * Caller holds kwasm_attach_lock; on failure nothing changed.
 */
static int kwasm_publish(struct net *net, struct kwasm_attachment *new,
			 const char *name, char *err, size_t err_len)
{
	struct kwasm_net *kn = kwasm_net(net);
	struct kwasm_attachment *old = NULL;
	struct kwasm_slot *slot;
	bool fresh = false;
	int ret;

	slot = kwasm_slot_find(kn, name);
	if (slot) {
		old = kwasm_slot_cur(slot);
	} else {
		if (kn->count >= KWASM_LIMIT_PROGS) {
			snprintf(err, err_len,
				 "%u programs are loaded in this network namespace (the limit): unload one or replace one by name",
				 KWASM_LIMIT_PROGS);
			return -ENOSPC;
		}
		slot = kzalloc(sizeof(*slot), GFP_KERNEL);
		if (!slot) {
			strscpy(err, "out of memory", err_len);
			return -ENOMEM;
		}
		strscpy(slot->name, name, sizeof(slot->name));
		fresh = true;
	}
	new->slot = slot;

	/* The maps the running program shares with its successor. */
	ret = kwasm_core_prog_adopt(new->prog, old ? old->prog : NULL,
				    err, err_len);
	if (ret)
		goto err_slot;
	/* Registered but inert until published: the hook checks its slot. */
	ret = nf_register_net_hooks(net, new->ops, new->nops);
	if (ret) {
		snprintf(err, err_len,
			 "cannot register netfilter hook %s for %s: %d",
			 kwasm_hook_name(new->ops[0].hooknum),
			 kwasm_family_name(new->family), ret);
		goto err_slot;
	}
	idr_replace(&kwasm_ids, new, new->id);
	rcu_assign_pointer(slot->cur, new);
	if (fresh) {
		list_add_tail_rcu(&slot->node, &kn->slots);
		kn->count++;
	}
	if (old)
		kwasm_retire(old);
	return 0;

err_slot:
	if (fresh)
		kfree(slot);
	return ret;
}

/*
 * Build @wasm with @opts (checked by kwasm_core_load_opts()) and attach it
 * in @net at its hook, family and priority, replacing the program of the
 * same name there. On failure returns a negative errno and a reason in
 * @err; what was attached stays.
 */
int kwasm_attach(struct net *net, const u8 *wasm, size_t len,
		 const struct kwasm_prog_opts *opts, char *err, size_t err_len)
{
	struct kwasm_attachment *new;
	int id, ret;

	id = kwasm_reserve_id(net, opts->name, err, err_len);
	if (id < 0)
		return id;
	new = kwasm_attachment_new(net, wasm, len, opts, id, err, err_len);
	if (IS_ERR(new)) {
		kwasm_release_id(id);
		return PTR_ERR(new);
	}
	mutex_lock(&kwasm_attach_lock);
	ret = kwasm_publish(net, new, opts->name, err, err_len);
	if (ret)
		idr_remove(&kwasm_ids, id);
	mutex_unlock(&kwasm_attach_lock);
	if (ret)
		kwasm_attachment_free(new);
	return ret;
}

/* Take @slot's program off and free both. Caller holds kwasm_attach_lock. */
static void kwasm_slot_detach(struct kwasm_net *kn, struct kwasm_slot *slot)
{
	struct kwasm_attachment *old = kwasm_slot_cur(slot);

	RCU_INIT_POINTER(slot->cur, NULL);
	list_del_rcu(&slot->node);
	kn->count--;
	/* Waits for a grace period: nothing sees the slot after it. */
	if (old)
		kwasm_retire(old);
	else
		synchronize_net();
	kfree(slot);
}

/* Detach every program of @net: 0, or -ENOENT when none was. */
int kwasm_detach_all(struct net *net)
{
	struct kwasm_net *kn = kwasm_net(net);
	struct kwasm_slot *slot, *next;
	int ret = -ENOENT;

	mutex_lock(&kwasm_attach_lock);
	list_for_each_entry_safe(slot, next, &kn->slots, node) {
		kwasm_slot_detach(kn, slot);
		ret = 0;
	}
	mutex_unlock(&kwasm_attach_lock);
	return ret;
}

/*
 * The attachment of @net with @id, under RCU or kwasm_attach_lock: NULL
 * when no program of @net has it.
 */
static struct kwasm_attachment *kwasm_by_id(struct net *net, u32 id)
{
	struct kwasm_attachment *att;

	att = id <= INT_MAX ? idr_find(&kwasm_ids, id) : NULL;
	return att && att->net == net &&
	       rcu_access_pointer(att->slot->cur) == att ? att : NULL;
}

/* Detach the program of @net with @id, or named @name when @id is 0. */
int kwasm_detach_one(struct net *net, u32 id, const char *name, char *err,
		     size_t err_len)
{
	struct kwasm_net *kn = kwasm_net(net);
	struct kwasm_attachment *att;
	struct kwasm_slot *slot;

	mutex_lock(&kwasm_attach_lock);
	if (id) {
		att = kwasm_by_id(net, id);
		slot = att ? att->slot : NULL;
	} else {
		slot = kwasm_slot_find(kn, name);
	}
	if (slot)
		kwasm_slot_detach(kn, slot);
	mutex_unlock(&kwasm_attach_lock);
	if (slot)
		return 0;
	if (id)
		snprintf(err, err_len,
			 "no program with id %u in this network namespace", id);
	else
		snprintf(err, err_len,
			 "no program named %s in this network namespace", name);
	return -ENOENT;
}

/*
 * The program a request names by @prog_id in @net, under RCU: the one with
 * that id, or with 0 the only one of @net. NULL with an errno in *@ret and
 * a reason in @err otherwise.
 */
static struct kwasm_attachment *kwasm_target(struct net *net, u32 prog_id,
					     int *ret, char *err,
					     size_t err_len)
{
	struct kwasm_attachment *att = NULL;
	struct kwasm_slot *slot;
	unsigned int n = 0;

	if (prog_id) {
		att = kwasm_by_id(net, prog_id);
		if (!att) {
			snprintf(err, err_len,
				 "no program with id %u in this network namespace",
				 prog_id);
			*ret = -ENOENT;
		}
		return att;
	}
	list_for_each_entry_rcu(slot, &kwasm_net(net)->slots, node) {
		att = rcu_dereference(slot->cur);
		n++;
	}
	if (n == 1 && att)
		return att;
	if (n) {
		snprintf(err, err_len,
			 "%u programs are loaded in this network namespace: name one by id",
			 n);
		*ret = -EINVAL;
	} else {
		strscpy(err, "no program is loaded in this network namespace",
			err_len);
		*ret = -ENOENT;
	}
	return NULL;
}

/* The id of the program @prog_id names in @net (see kwasm_target()). */
int kwasm_prog_resolve(struct net *net, u32 prog_id, u32 *id, char *err,
		       size_t err_len)
{
	struct kwasm_attachment *att;
	int ret = 0;

	rcu_read_lock();
	att = kwasm_target(net, prog_id, &ret, err, err_len);
	if (att)
		*id = att->id;
	rcu_read_unlock();
	return ret;
}

/*
 * Run the program of @net with @id once, found under RCU as a packet
 * finds it, so a test-run never holds up a load, an unload or a status
 * read. -ENOENT when it is gone.
 */
int kwasm_prog_run(struct net *net, u32 id, const struct kwasm_pkt *pkt,
		   struct kwasm_run_result *res)
{
	struct kwasm_attachment *att;

	rcu_read_lock();
	att = kwasm_by_id(net, id);
	if (att)
		kwasm_run(att->prog, pkt, res);
	rcu_read_unlock();
	return att ? 0 : -ENOENT;
}

/*
 * A reference to the maps of the program @prog_id names in @net
 * (kwasm_core_maps_put() drops it), or an ERR_PTR and a reason. Taken
 * under RCU as a packet finds the program, so a map request never holds
 * up a load; the program is freed only after a grace period, and its maps
 * only with the last reference.
 */
struct kwasm_maps *kwasm_prog_maps(struct net *net, u32 prog_id, char *err,
				   size_t err_len)
{
	struct kwasm_attachment *att;
	struct kwasm_maps *maps;
	int ret = 0;

	rcu_read_lock();
	att = kwasm_target(net, prog_id, &ret, err, err_len);
	maps = att ? kwasm_core_maps_get(att->prog) : ERR_PTR(ret);
	rcu_read_unlock();
	return maps;
}

/*
 * The reader of the events ring of the program @prog_id names in @net, and
 * what the ring is (@info), taken under kwasm_attach_lock so that the
 * program cannot go meanwhile; the reader then holds the ring itself.
 */
int kwasm_prog_events_open(struct net *net, u32 prog_id,
			   struct kwasm_events **out,
			   struct kwasm_events_info *info, char *err,
			   size_t err_len)
{
	struct kwasm_attachment *att;
	int ret = 0;

	mutex_lock(&kwasm_attach_lock);
	rcu_read_lock();
	att = kwasm_target(net, prog_id, &ret, err, err_len);
	rcu_read_unlock();
	if (att) {
		ret = kwasm_core_events_open(att->prog, out, err, err_len);
		if (!ret)
			kwasm_core_events_info(att->prog, info);
	}
	mutex_unlock(&kwasm_attach_lock);
	return ret;
}

/*
 * Call @fn for each program of @net, in the order they were first
 * loaded, under kwasm_attach_lock (killable: readers need no privilege).
 * Returns how many there are, or -EINTR.
 */
int kwasm_visit_progs(struct net *net,
			void (*fn)(const struct kwasm_attachment *att, void *arg),
			void *arg)
{
	struct kwasm_slot *slot;
	int n = 0;

	if (mutex_lock_killable(&kwasm_attach_lock))
		return -EINTR;
	list_for_each_entry(slot, &kwasm_net(net)->slots, node) {
		struct kwasm_attachment *att = kwasm_slot_cur(slot);

		if (att) {
			fn(att, arg);
			n++;
		}
	}
	mutex_unlock(&kwasm_attach_lock);
	return n;
}

static int __net_init kwasm_net_init(struct net *net)
{
	struct kwasm_net *kn = kwasm_net(net);

	INIT_LIST_HEAD(&kn->slots);
	kn->count = 0;
	return 0;
}

static void __net_exit kwasm_net_exit(struct net *net)
{
	kwasm_detach_all(net);
}

static struct pernet_operations kwasm_net_ops = {
	.init = kwasm_net_init,
	.exit = kwasm_net_exit,
	.id = &kwasm_net_id,
	.size = sizeof(struct kwasm_net),
};

int kwasm_attach_init(void)
{
	return register_pernet_subsys(&kwasm_net_ops);
}

/* Detach every namespace's programs. */
void kwasm_attach_exit(void)
{
	unregister_pernet_subsys(&kwasm_net_ops);
	WARN_ON(!idr_is_empty(&kwasm_ids));
	idr_destroy(&kwasm_ids);
}
