// SPDX-License-Identifier: GPL-2.0
/*
 * The map ioctls (KWASM_IOC_MAP_*, docs/ABI.md "Map ioctls"): list the
 * maps of the attached program, look up, update and delete an entry, dump
 * the entries.
 *
 * Each request starts with its size: a larger one than this kernel's
 * structure is accepted when the bytes past it are zero, so the structures
 * can grow; the ioctl number is matched without its size field for that.
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

/* Largest request structure accepted (the tail past ours must be zero). */
#define KWASM_MAP_REQ_MAX	4096U
/* Largest dump buffer taken at once (one record at least). */
#define KWASM_MAP_DUMP_CHUNK	(256U << 10)

bool kwasm_map_ioctl_cmd(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == KWASM_IOC_MAGIC &&
	       _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) &&
	       _IOC_NR(cmd) >= _IOC_NR(KWASM_IOC_MAP_LIST) &&
	       _IOC_NR(cmd) <= _IOC_NR(KWASM_IOC_MAP_DUMP);
}

/*
 * Copy the first @ksize bytes of a request that starts with its size.
 * A size below @ksize is refused with EINVAL: such a structure has no room
 * for a reason where this kernel would write it. Nothing to reply on
 * failure.
 */
static int kwasm_map_req_copy(void *req, size_t ksize, void __user *arg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)arg))
		return -EFAULT;
	if (usize < ksize)
		return -EINVAL;
	if (copy_from_user(req, arg, ksize))
		return -EFAULT;
	/*
	 * The size as checked: user space may have changed it between the
	 * two reads, and what follows trusts the checked one.
	 */
	*(u32 *)req = usize;
	return 0;
}

/*
 * The rest of a request copied by kwasm_map_req_copy(): E2BIG when its size
 * is over KWASM_MAP_REQ_MAX or the bytes past @ksize are not all zero (as
 * copy_struct_from_user()), with a reason in @err.
 */
static int kwasm_map_req_tail(u32 usize, size_t ksize, void __user *arg,
			      char *err, size_t err_len)
{
	int ret;

	memset(err, 0, err_len);
	if (usize > KWASM_MAP_REQ_MAX) {
		snprintf(err, err_len, "size %u: at most %u", usize,
			 KWASM_MAP_REQ_MAX);
		return -E2BIG;
	}
	ret = check_zeroed_user(arg + ksize, usize - ksize);
	if (ret < 0)
		return ret;
	if (!ret) {
		snprintf(err, err_len,
			 "size %u: the bytes past the %zu this kernel knows are not all zero",
			 usize, ksize);
		return -E2BIG;
	}
	return 0;
}

/* A reference to the maps of program @prog_id, or an ERR_PTR and a reason. */
static struct kwasm_maps *kwasm_map_target(u32 prog_id, char *err,
					   size_t err_len)
{
	struct kwasm_maps *maps;

	if (prog_id) {
		snprintf(err, err_len,
			 "prog_id %u: only 0, the attached program, is known",
			 prog_id);
		return ERR_PTR(-EINVAL);
	}
	maps = kwasm_attached_maps();
	if (!maps) {
		strscpy(err, "no program is loaded", err_len);
		return ERR_PTR(-ENOENT);
	}
	return maps;
}

/*
 * One kind of map request: its structure's size, where its err[] is, and
 * what to do once it is copied in and its size checked. @run writes its
 * reason to the request's err[]; the request goes back to user space
 * whatever it returns.
 */
struct kwasm_map_req_type {
	size_t size;
	size_t err;
	size_t err_len;
	long (*run)(void *req, u32 op);
};

/*
 * The request of @type at @arg: copy it in and check its size, run it,
 * copy it back (its results and reason) unless it could not be read.
 */
static long kwasm_map_req_ioctl(const struct kwasm_map_req_type *type,
				void __user *arg, u32 op)
{
	void *req;
	char *err;
	long ret;

	req = kzalloc(type->size, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	err = req + type->err;
	ret = kwasm_map_req_copy(req, type->size, arg);
	if (ret)
		goto out;
	/* The request's first field: its size (see KWASM_MAP_REQ_TYPE). */
	ret = kwasm_map_req_tail(*(u32 *)req, type->size, arg, err,
				 type->err_len);
	if (!ret)
		ret = type->run(req, op);
	if (copy_to_user(arg, req, type->size))
		ret = -EFAULT;
out:
	kfree(req);
	return ret;
}

static long kwasm_map_list_run(void *p, u32 op)
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
	maps = kwasm_map_target(req->prog_id, req->err, sizeof(req->err));
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

static long kwasm_map_op_run(void *p, u32 op)
{
	struct kwasm_map_op *req = p;
	struct kwasm_maps *maps;
	long ret;

	maps = kwasm_map_target(req->prog_id, req->err, sizeof(req->err));
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

static long kwasm_map_dump_run(void *p, u32 op)
{
	struct kwasm_map_dump *req = p;
	struct kwasm_maps *maps;
	u32 record_len = 0;
	long ret;

	req->count = 0;
	maps = kwasm_map_target(req->prog_id, req->err, sizeof(req->err));
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

/* Each kind of request starts with its size, a u32. */
#define KWASM_MAP_REQ_TYPE(name, fn) {				\
	.size = sizeof(struct name),				\
	.err = offsetof(struct name, err),			\
	.err_len = sizeof_field(struct name, err),		\
	.run = fn,						\
}
static_assert(offsetof(struct kwasm_map_list, size) == 0);
static_assert(offsetof(struct kwasm_map_op, size) == 0);
static_assert(offsetof(struct kwasm_map_dump, size) == 0);

static const struct kwasm_map_req_type kwasm_map_list_req =
	KWASM_MAP_REQ_TYPE(kwasm_map_list, kwasm_map_list_run);
static const struct kwasm_map_req_type kwasm_map_op_req =
	KWASM_MAP_REQ_TYPE(kwasm_map_op, kwasm_map_op_run);
static const struct kwasm_map_req_type kwasm_map_dump_req =
	KWASM_MAP_REQ_TYPE(kwasm_map_dump, kwasm_map_dump_run);

long kwasm_map_ioctl(unsigned int cmd, void __user *arg)
{
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(KWASM_IOC_MAP_LIST):
		return kwasm_map_req_ioctl(&kwasm_map_list_req, arg, 0);
	case _IOC_NR(KWASM_IOC_MAP_LOOKUP):
		return kwasm_map_req_ioctl(&kwasm_map_op_req, arg,
					   KWASM_CORE_MAP_LOOKUP);
	case _IOC_NR(KWASM_IOC_MAP_UPDATE):
		return kwasm_map_req_ioctl(&kwasm_map_op_req, arg,
					   KWASM_CORE_MAP_UPDATE);
	case _IOC_NR(KWASM_IOC_MAP_DELETE):
		return kwasm_map_req_ioctl(&kwasm_map_op_req, arg,
					   KWASM_CORE_MAP_DELETE);
	case _IOC_NR(KWASM_IOC_MAP_DUMP):
		return kwasm_map_req_ioctl(&kwasm_map_dump_req, arg, 0);
	default:
		return -ENOTTY;
	}
}
