// SPDX-License-Identifier: GPL-2.0
/*
 * The program requests (docs/ABI.md, "Programs"): KWASM_IOC_PROG_LIST
 * lists the programs of the caller's network namespace, KWASM_IOC_PROG_UNLOAD
 * unloads one of them by id or name. Both are sized requests (request.c).
 * The list is made under the attach lock into a kernel buffer and copied
 * out after, so no lock is held while user memory is touched.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "attach.h"
#include "progs.h"
#include "request.h"
#include "show.h"

/* What the list gathers under the attach lock. */
struct kwasm_progs_list {
	struct kwasm_prog_show *progs;
	u32 room;
	u32 n;
};

static void kwasm_progs_gather(const struct kwasm_attachment *att, void *arg)
{
	struct kwasm_progs_list *l = arg;

	if (l->n < l->room)
		kwasm_show_fill(att, &l->progs[l->n]);
	l->n++;
}

static int kwasm_show_cmp_id(const void *a, const void *b)
{
	const struct kwasm_prog_show *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static long kwasm_prog_list_run(struct net *net, void *p, u32 op)
{
	struct kwasm_prog_list *req = p;
	struct kwasm_progs_list l = {};
	long ret = 0;
	int n;

	/* At most as many as a namespace may have. */
	l.room = min_t(u32, req->count, KWASM_LIMIT_PROGS);
	if (l.room && !req->progs) {
		strscpy(req->err, "count is not 0 but progs is NULL",
			sizeof(req->err));
		return -EINVAL;
	}
	if (l.room) {
		l.progs = kvcalloc(l.room, sizeof(*l.progs), GFP_KERNEL);
		if (!l.progs)
			return -ENOMEM;
	}
	n = kwasm_visit_progs(net, kwasm_progs_gather, &l);
	if (n < 0) {
		ret = n;
		goto out;
	}
	if (l.room) {
		sort(l.progs, min(l.n, l.room), sizeof(*l.progs),
		     kwasm_show_cmp_id, NULL);
		if (copy_to_user(u64_to_user_ptr(req->progs), l.progs,
				 min(l.n, l.room) * sizeof(*l.progs))) {
			ret = -EFAULT;
			goto out;
		}
	}
	req->count = l.n;
out:
	kvfree(l.progs);
	return ret;
}

static long kwasm_prog_unload_run(struct net *net, void *p, u32 op)
{
	struct kwasm_prog_unload *req = p;

	if (req->id)
		return kwasm_detach_one(net, req->id, NULL, req->err,
					sizeof(req->err));
	if (strnlen(req->name, sizeof(req->name)) == sizeof(req->name)) {
		strscpy(req->err, "the name is not NUL-terminated",
			sizeof(req->err));
		return -EINVAL;
	}
	if (!req->name[0]) {
		strscpy(req->err, "name a program by id or by name",
			sizeof(req->err));
		return -EINVAL;
	}
	return kwasm_detach_one(net, 0, req->name, req->err, sizeof(req->err));
}

static_assert(offsetof(struct kwasm_prog_list, size) == 0);
static_assert(offsetof(struct kwasm_prog_unload, size) == 0);

static const struct kwasm_req_type kwasm_prog_list_req =
	KWASM_REQ_TYPE(kwasm_prog_list, kwasm_prog_list_run);
static const struct kwasm_req_type kwasm_prog_unload_req =
	KWASM_REQ_TYPE(kwasm_prog_unload, kwasm_prog_unload_run);

bool kwasm_progs_ioctl_cmd(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == KWASM_IOC_MAGIC &&
	       _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) &&
	       (_IOC_NR(cmd) == _IOC_NR(KWASM_IOC_PROG_LIST) ||
		_IOC_NR(cmd) == _IOC_NR(KWASM_IOC_PROG_UNLOAD));
}

long kwasm_progs_ioctl(struct net *net, unsigned int cmd, void __user *uarg)
{
	if (_IOC_NR(cmd) == _IOC_NR(KWASM_IOC_PROG_LIST))
		return kwasm_req_ioctl(&kwasm_prog_list_req, net, uarg, 0);
	return kwasm_req_ioctl(&kwasm_prog_unload_req, net, uarg, 0);
}
