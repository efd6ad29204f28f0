// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kwasm: loads, unloads and test-runs programs.
 *
 * Two ways to load. The ioctl KWASM_IOC_LOAD takes the whole module and
 * returns an errno plus a reason. Plain writes (cat prog.wasm > /dev/kwasm)
 * accumulate in a per-open buffer and are loaded when the file is closed;
 * the outcome goes to the kernel log and /proc/kwasm.
 *
 * Every operation needs CAP_NET_ADMIN: checked at open, and again for each
 * write() and ioctl, so a file descriptor passed to (or kept by) a process
 * without the capability can do nothing with it.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kwasm.h"

/* A program being written to an open file. */
struct kwasm_upload {
	struct mutex lock;	/* serialises writers sharing the file */
	u8 *buf;
	size_t len;
	size_t cap;
	int error;		/* sticky: an oversized upload is never loaded */
	struct kwasm_invoke_file invoke;	/* invoke.c's instance */
};

static int kwasm_open(struct inode *inode, struct file *file)
{
	struct kwasm_upload *up;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	up = kzalloc(sizeof(*up), GFP_KERNEL);
	if (!up)
		return -ENOMEM;
	mutex_init(&up->lock);
	kwasm_invoke_file_init(&up->invoke);
	file->private_data = up;
	return 0;
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

static ssize_t kwasm_write(struct file *file, const char __user *data,
			   size_t count, loff_t *ppos)
{
	struct kwasm_upload *up = file->private_data;
	ssize_t ret;

	mutex_lock(&up->lock);
	ret = up->error;
	if (ret)
		goto out;
	/* Sticky too: what privileged writes gave is never loaded alone. */
	if (!capable(CAP_NET_ADMIN))
		ret = -EPERM;
	else if (count > KWASM_MAX_PROG_SIZE - up->len)
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

static int kwasm_release(struct inode *inode, struct file *file)
{
	struct kwasm_upload *up = file->private_data;
	struct kwasm_load_params params;
	char *err;
	int ret;

	if (!up->len && !up->error)
		goto out;

	err = kzalloc(KWASM_ERR_LEN, GFP_KERNEL);
	if (!err)
		goto out;
	kwasm_load_params_default(&params, "write");
	ret = up->error;
	if (ret == -EFBIG)
		snprintf(err, KWASM_ERR_LEN, "program is larger than %u bytes",
			 KWASM_MAX_PROG_SIZE);
	else if (ret == -EPERM)
		snprintf(err, KWASM_ERR_LEN,
			 "a write() without CAP_NET_ADMIN was refused");
	else if (ret)
		snprintf(err, KWASM_ERR_LEN, "a write() failed (%d)", ret);
	else
		ret = kwasm_prog_load(up->buf, up->len, &params, err,
				      KWASM_ERR_LEN);
	kwasm_status_set_last_load(ret, params.opts.name, err);
	kfree(err);
out:
	kwasm_invoke_file_release(&up->invoke);
	kvfree(up->buf);
	kfree(up);
	return 0;
}

/* Copy a program from user space, refusing one over the size limit. */
u8 *kwasm_copy_prog(u64 uptr, u32 len, char *err, size_t err_len)
{
	if (len > KWASM_MAX_PROG_SIZE) {
		snprintf(err, err_len, "program is %u bytes, the limit is %u",
			 len, KWASM_MAX_PROG_SIZE);
		return ERR_PTR(-EFBIG);
	}
	return vmemdup_user(u64_to_user_ptr(uptr), len);
}

static long kwasm_load_ioctl(void __user *arg)
{
	struct kwasm_load_params params;
	struct kwasm_load *req;
	u8 *wasm = NULL;
	long ret;

	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);
	memset(req->err, 0, sizeof(req->err));
	req->name[sizeof(req->name) - 1] = '\0';
	kwasm_load_params_default(&params, req->name[0] ? req->name : "prog");

	ret = -EINVAL;
	if (req->flags & ~KWASM_LOAD_ALL_FLAGS) {
		snprintf(req->err, sizeof(req->err), "unknown flags %#x",
			 req->flags & ~KWASM_LOAD_ALL_FLAGS);
		goto reply;
	}
	if (req->flags & KWASM_LOAD_HOOK) {
		if (req->hook >= NF_INET_NUMHOOKS) {
			snprintf(req->err, sizeof(req->err),
				 "hook %u does not exist (0..%d)", req->hook,
				 NF_INET_NUMHOOKS - 1);
			goto reply;
		}
		params.hook = req->hook;
	}
	if (req->flags & KWASM_LOAD_PRIORITY)
		params.priority = req->priority;
	if (req->flags & KWASM_LOAD_SNAPLEN) {
		if (req->snaplen > KWASM_MAX_SNAPLEN) {
			snprintf(req->err, sizeof(req->err),
				 "snaplen %u is above the limit %u",
				 req->snaplen, KWASM_MAX_SNAPLEN);
			goto reply;
		}
		params.opts.snaplen = req->snaplen;
	}
	if (req->flags & KWASM_LOAD_DEFAULT) {
		if (req->default_verdict > KWASM_ACCEPT) {
			snprintf(req->err, sizeof(req->err),
				 "default verdict %u is neither drop (0) nor accept (1)",
				 req->default_verdict);
			goto reply;
		}
		params.opts.default_verdict = req->default_verdict;
	}
	if (req->flags & KWASM_LOAD_FUEL) {
		if (!req->fuel || req->fuel > KWASM_MAX_FUEL) {
			snprintf(req->err, sizeof(req->err),
				 "fuel %llu is outside 1..%llu", req->fuel,
				 KWASM_MAX_FUEL);
			goto reply;
		}
		params.opts.fuel = req->fuel;
	}
	wasm = kwasm_copy_prog(req->prog, req->prog_len, req->err,
			       sizeof(req->err));
	if (IS_ERR(wasm)) {
		ret = PTR_ERR(wasm);
		wasm = NULL;
		goto reply;
	}
	ret = kwasm_prog_load(wasm, req->prog_len, &params, req->err,
			      sizeof(req->err));
	kwasm_status_set_last_load(ret, params.opts.name, req->err);
reply:
	if (copy_to_user(arg, req, sizeof(*req)))
		ret = -EFAULT;
	kvfree(wasm);
	kfree(req);
	return ret;
}

static long kwasm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kwasm_upload *up = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	switch (cmd) {
	case KWASM_IOC_LOAD:
		return kwasm_load_ioctl(uarg);
	case KWASM_IOC_UNLOAD:
		return kwasm_prog_unload();
	case KWASM_IOC_TEST_RUN:
		return kwasm_test_run_ioctl(uarg);
	case KWASM_IOC_INVOKE_LOAD:
		return kwasm_invoke_load_ioctl(&up->invoke, uarg);
	case KWASM_IOC_INVOKE:
		return kwasm_invoke_ioctl(&up->invoke, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kwasm_fops = {
	.owner = THIS_MODULE,
	.open = kwasm_open,
	.write = kwasm_write,
	.release = kwasm_release,
	.unlocked_ioctl = kwasm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kwasm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kwasm",
	.fops = &kwasm_fops,
	.mode = 0600,
};

int kwasm_dev_init(void)
{
	return misc_register(&kwasm_misc);
}

void kwasm_dev_exit(void)
{
	misc_deregister(&kwasm_misc);
}
