// SPDX-License-Identifier: GPL-2.0
/*
 * The map ioctls (KWASM_IOC_MAP_*, docs/ABI.md "Map ioctls"): list the
 * maps of a program, look up, update and delete an entry, dump the
 * entries. They are sized requests (request.c).
 *
 * A request takes a reference to the program's maps (under RCU, as a
 * packet finds the program: no lock held), lets the core check it, copies
 * key and value into kernel buffers of the checked sizes, lets the core do
 * it, drops the reference and copies out. The core never sees a user
 * pointer, and no lock is held while user memory is touched.
 */
#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "attach.h"
#include "kwasm_core.h"
#include "map.h"
#include "request.h"

/* Largest dump buffer taken at once (one record at least). */
#define KWASM_MAP_DUMP_CHUNK	(256U << 10)

bool kwasm_map_ioctl_cmd(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == KWASM_IOC_MAGIC &&
	       _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) &&
	       _IOC_NR(cmd) >= _IOC_NR(KWASM_IOC_MAP_LIST) &&
	       _IOC_NR(cmd) <= _IOC_NR(KWASM_IOC_MAP_DUMP);
}

static long kwasm_map_list_run(struct net *net, void *p, u32 op)
{
	struct kwasm_map_list *req = p;
	struct kwasm_map_info *info = NULL;
	struct kwasm_maps *maps;
	u32 i, n, room;
	long ret = 0;

	if (req->pad) {
		strscpy(req->err, "pad must be 0", sizeof(req->err));
		return -EINVAL;
	}
	maps = kwasm_prog_maps(net, req->prog_id, req->err, sizeof(req->err));
	if (IS_ERR(maps))
		return PTR_ERR(maps);
	/* At most KWASM_LIMIT_MAPS maps. */
	n = kwasm_core_maps_count(maps);
	room = min(req->count, n);
	if (room) {
		info = kcalloc(room, sizeof(*info), GFP_KERNEL);
		if (!info) {
			kwasm_core_maps_put(maps);
			return -ENOMEM;
		}
	}
	for (i = 0; i < room; i++) {
		ret = kwasm_core_map_info(maps, i, &info[i]);
		if (ret)
			break;
	}
	kwasm_core_maps_put(maps);
	if (ret)
		goto free_info;
	if (room && copy_to_user(u64_to_user_ptr(req->maps), info,
				 (size_t)room * sizeof(*info)))
		ret = -EFAULT;
	req->count = n;
free_info:
	kfree(info);
	return ret;
}

/*
 * Do the checked request @req on @maps: copy key and value in, let the core
 * do it, drop @maps (also on failure), copy a looked-up value out.
 */
static long kwasm_map_op_buffers(struct kwasm_maps *maps, u32 op,
				 struct kwasm_map_op *req)
{
	void __user *uvalue = u64_to_user_ptr(req->value);
	u8 *key, *value = NULL;
	long ret;

	/* Checked by the core: the declared sizes (key at most 64 bytes). */
	key = kvmalloc(req->key_size, GFP_KERNEL);
	if (!key) {
		ret = -ENOMEM;
		goto put;
	}
	if (copy_from_user(key, u64_to_user_ptr(req->key), req->key_size)) {
		ret = -EFAULT;
		goto free_key;
	}
	if (req->value_size) {
		value = kvzalloc(req->value_size, GFP_KERNEL);
		if (!value) {
			ret = -ENOMEM;
			goto free_key;
		}
		if (op == KWASM_CORE_MAP_UPDATE &&
		    copy_from_user(value, uvalue, req->value_size)) {
			ret = -EFAULT;
			goto free_value;
		}
	}
	ret = kwasm_core_map_op(maps, op, req, key, value, req->err,
				sizeof(req->err));
	kwasm_core_maps_put(maps);
	maps = NULL;
	if (!ret && op == KWASM_CORE_MAP_LOOKUP &&
	    copy_to_user(uvalue, value, req->value_size))
		ret = -EFAULT;
free_value:
	kvfree(value);
free_key:
	kvfree(key);
put:
	kwasm_core_maps_put(maps);
	return ret;
}

static long kwasm_map_op_run(struct net *net, void *p, u32 op)
{
	struct kwasm_map_op *req = p;
	struct kwasm_maps *maps;
	long ret;

	maps = kwasm_prog_maps(net, req->prog_id, req->err, sizeof(req->err));
	if (IS_ERR(maps))
		return PTR_ERR(maps);
	ret = kwasm_core_map_op_check(maps, op, req, req->err,
				      sizeof(req->err));
	if (ret) {
		kwasm_core_maps_put(maps);
		return ret;
	}
	return kwasm_map_op_buffers(maps, op, req);
}

/*
 * Dump records into a kernel buffer of at most KWASM_MAP_DUMP_CHUNK bytes
 * (or one record), drop @maps (also on failure), copy the records out.
 */
static long kwasm_map_dump_buffer(struct kwasm_maps *maps,
				  struct kwasm_map_dump *req, u32 record_len)
{
	u32 len = min(req->buf_len, max(record_len, KWASM_MAP_DUMP_CHUNK));
	u8 *buf;
	long ret;

	/* Whole records only: the core fills no partial one. */
	len -= len % record_len;
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf) {
		kwasm_core_maps_put(maps);
		return -ENOMEM;
	}
	ret = kwasm_core_map_dump(maps, req, buf, len, req->err,
				  sizeof(req->err));
	kwasm_core_maps_put(maps);
	if (!ret && req->count &&
	    copy_to_user(u64_to_user_ptr(req->buf), buf,
			 (size_t)req->count * record_len))
		ret = -EFAULT;
	kvfree(buf);
	return ret;
}

static long kwasm_map_dump_run(struct net *net, void *p, u32 op)
{
	struct kwasm_map_dump *req = p;
	struct kwasm_maps *maps;
	u32 record_len = 0;
	long ret;

	req->count = 0;
	maps = kwasm_prog_maps(net, req->prog_id, req->err, sizeof(req->err));
	if (IS_ERR(maps))
		return PTR_ERR(maps);
	ret = kwasm_core_map_dump_check(maps, req, &record_len, req->err,
					sizeof(req->err));
	if (ret || !record_len) {
		kwasm_core_maps_put(maps);
		return ret ?: -EINVAL;
	}
	return kwasm_map_dump_buffer(maps, req, record_len);
}

static_assert(offsetof(struct kwasm_map_list, size) == 0);
static_assert(offsetof(struct kwasm_map_op, size) == 0);
static_assert(offsetof(struct kwasm_map_dump, size) == 0);

static const struct kwasm_req_type kwasm_map_list_req =
	KWASM_REQ_TYPE(kwasm_map_list, kwasm_map_list_run);
static const struct kwasm_req_type kwasm_map_op_req =
	KWASM_REQ_TYPE(kwasm_map_op, kwasm_map_op_run);
static const struct kwasm_req_type kwasm_map_dump_req =
	KWASM_REQ_TYPE(kwasm_map_dump, kwasm_map_dump_run);

long kwasm_map_ioctl(struct net *net, unsigned int cmd, void __user *arg)
{
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(KWASM_IOC_MAP_LIST):
		return kwasm_req_ioctl(&kwasm_map_list_req, net, arg, 0);
	case _IOC_NR(KWASM_IOC_MAP_LOOKUP):
		return kwasm_req_ioctl(&kwasm_map_op_req, net, arg,
					   KWASM_CORE_MAP_LOOKUP);
	case _IOC_NR(KWASM_IOC_MAP_UPDATE):
		return kwasm_req_ioctl(&kwasm_map_op_req, net, arg,
					   KWASM_CORE_MAP_UPDATE);
	case _IOC_NR(KWASM_IOC_MAP_DELETE):
		return kwasm_req_ioctl(&kwasm_map_op_req, net, arg,
					   KWASM_CORE_MAP_DELETE);
	case _IOC_NR(KWASM_IOC_MAP_DUMP):
		return kwasm_req_ioctl(&kwasm_map_dump_req, net, arg, 0);
	default:
		return -ENOTTY;
	}
}
