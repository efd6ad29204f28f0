// SPDX-License-Identifier: GPL-2.0
/*
 * A program's bytes from user space, never more than KWASM_MAX_PROG_SIZE.
 *
 * The ioctls name a buffer and its length: kwasm_upload_copy() copies it in
 * one piece. Plain writes (cat prog.wasm > /dev/kwasm) arrive in pieces:
 * struct kwasm_upload gathers them for the load at close. An upload that
 * failed once (too large, a bad pointer, a write without privilege) stays
 * failed, so that no part of a program is ever loaded as if it were whole.
 */
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "uapi/kwasm.h"
#include "upload.h"

/* Copy a program from user space, refusing one over the size limit. */
u8 *kwasm_upload_copy(u64 uptr, u32 len, char *err, size_t err_len)
{
	if (len > KWASM_MAX_PROG_SIZE) {
		snprintf(err, err_len, "program is %u bytes, the limit is %u",
			 len, KWASM_MAX_PROG_SIZE);
		return ERR_PTR(-EFBIG);
	}
	return vmemdup_user(u64_to_user_ptr(uptr), len);
}

void kwasm_upload_init(struct kwasm_upload *up)
{
	memset(up, 0, sizeof(*up));
	mutex_init(&up->lock);
}

static int kwasm_upload_reserve(struct kwasm_upload *up, size_t need)
{
	size_t cap;
	u8 *buf;

	if (need <= up->cap)
		return 0;
	cap = clamp_t(size_t, roundup_pow_of_two(need), PAGE_SIZE,
		      KWASM_MAX_PROG_SIZE);
	buf = kvmalloc(cap, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (up->len)
		memcpy(buf, up->buf, up->len);
	kvfree(up->buf);
	up->buf = buf;
	up->cap = cap;
	return 0;
}

/* Append @count bytes at @data; returns @count or the (sticky) error. */
ssize_t kwasm_upload_write(struct kwasm_upload *up, const char __user *data,
			   size_t count)
{
	ssize_t ret;

	mutex_lock(&up->lock);
	ret = up->error;
	if (ret)
		goto out;
	if (count > KWASM_MAX_PROG_SIZE - up->len)
		ret = -EFBIG;
	else
		ret = kwasm_upload_reserve(up, up->len + count);
	if (ret) {
		up->error = ret;
		goto out;
	}
	if (copy_from_user(up->buf + up->len, data, count)) {
		/* A program with a hole is never loaded, not even its prefix. */
		ret = -EFAULT;
		up->error = ret;
		goto out;
	}
	up->len += count;
	ret = count;
out:
	mutex_unlock(&up->lock);
	return ret;
}

/* Fail the upload with @error, unless it failed before. */
void kwasm_upload_refuse(struct kwasm_upload *up, int error)
{
	mutex_lock(&up->lock);
	if (!up->error)
		up->error = error;
	mutex_unlock(&up->lock);
}

void kwasm_upload_free(struct kwasm_upload *up)
{
	kvfree(up->buf);
	up->buf = NULL;
	up->len = 0;
	up->cap = 0;
	mutex_destroy(&up->lock);
}
