// SPDX-License-Identifier: GPL-2.0
/*
 * Requests that start with their size (the map and program ioctls,
 * docs/ABI.md): a larger size than this kernel's structure is accepted when
 * the bytes past it are zero, so the structures can grow; the ioctl number
 * is matched without its size field for that. The request is copied in,
 * checked, run, and copied back with its results and reason.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "request.h"

/* Largest request structure accepted (the tail past ours must be zero). */
#define KWASM_REQ_MAX	4096U

/*
 * Copy the first @ksize bytes of a request that starts with its size.
 * A size below @ksize is refused with EINVAL: such a structure has no room
 * for a reason where this kernel would write it. Nothing to reply on
 * failure.
 */
static int kwasm_req_copy(void *req, size_t ksize, void __user *arg)
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
 * The rest of a request copied by kwasm_req_copy(): E2BIG when its size
 * is over KWASM_REQ_MAX or the bytes past @ksize are not all zero (as
 * copy_struct_from_user()), with a reason in @err.
 */
static int kwasm_req_tail(u32 usize, size_t ksize, void __user *arg,
			      char *err, size_t err_len)
{
	int ret;

	memset(err, 0, err_len);
	if (usize > KWASM_REQ_MAX) {
		snprintf(err, err_len, "size %u: at most %u", usize,
			 KWASM_REQ_MAX);
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

/*
 * The request of @type at @arg: copy it in and check its size, run it,
 * copy it back (its results and reason) unless it could not be read.
 */
long kwasm_req_ioctl(const struct kwasm_req_type *type, struct net *net,
		     void __user *arg, u32 op)
{
	void *req;
	char *err;
	long ret;

	req = kzalloc(type->size, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	err = req + type->err;
	ret = kwasm_req_copy(req, type->size, arg);
	if (ret)
		goto out;
	/* The request's first field: its size (see KWASM_REQ_TYPE). */
	ret = kwasm_req_tail(*(u32 *)req, type->size, arg, err,
				 type->err_len);
	if (!ret)
		ret = type->run(net, req, op);
	if (copy_to_user(arg, req, type->size))
		ret = -EFAULT;
out:
	kfree(req);
	return ret;
}

