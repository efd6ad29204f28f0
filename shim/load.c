// SPDX-License-Identifier: GPL-2.0
/*
 * Loading a program, by ioctl or by write().
 *
 * KWASM_IOC_LOAD takes the whole module and its options, and returns an
 * errno plus a reason. A program written to an open file is loaded with the
 * default options and the name "write" when the file is closed; the outcome
 * goes to the kernel log and /proc/kwasm. Either way the core checks the
 * options (kwasm_core_load_opts(), the one place they are checked) before
 * the program's bytes are looked at, and attach.c builds and attaches it.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "attach.h"
#include "kwasm_core.h"
#include "load.h"
#include "status.h"
#include "upload.h"

long kwasm_load_ioctl(struct net *net, void __user *arg)
{
	struct kwasm_prog_opts opts;
	struct kwasm_load *req;
	u8 *wasm;
	long ret;

	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);
	memset(req->err, 0, sizeof(req->err));

	ret = kwasm_core_load_opts(req, &opts, req->err, sizeof(req->err));
	if (ret)
		goto reply;
	wasm = kwasm_upload_copy(req->prog, req->prog_len, req->err,
				 sizeof(req->err));
	if (IS_ERR(wasm)) {
		ret = PTR_ERR(wasm);
		goto reply;
	}
	ret = kwasm_attach(net, wasm, req->prog_len, &opts, req->err,
			   sizeof(req->err));
	kvfree(wasm);
	kwasm_status_set_last_load(ret, opts.name, req->err);
reply:
	if (copy_to_user(arg, req, sizeof(*req)))
		ret = -EFAULT;
	kfree(req);
	return ret;
}

/* Why a write() upload failed, for the log and /proc/kwasm. */
static void kwasm_upload_reason(int error, char *err, size_t err_len)
{
	if (error == -EFBIG)
		snprintf(err, err_len, "program is larger than %u bytes",
			 KWASM_MAX_PROG_SIZE);
	else if (error == -EPERM)
		snprintf(err, err_len,
			 "a write() without CAP_NET_ADMIN was refused");
	else
		snprintf(err, err_len, "a write() failed (%d)", error);
}

/*
 * Load what was written to a file being closed, if anything was. Nobody is
 * left to tell but the log and /proc/kwasm.
 */
void kwasm_load_upload(struct net *net, const struct kwasm_upload *up)
{
	struct kwasm_prog_opts opts;
	struct kwasm_load *req;
	int ret;

	if (!up->len && !up->error)
		return;
	/* A request with no flags: every option at its default. */
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return;
	strscpy(req->name, "write", sizeof(req->name));
	ret = kwasm_core_load_opts(req, &opts, req->err, sizeof(req->err));
	if (ret)
		goto out;
	ret = up->error;
	if (ret)
		kwasm_upload_reason(ret, req->err, sizeof(req->err));
	else
		ret = kwasm_attach(net, up->buf, up->len, &opts, req->err,
				   sizeof(req->err));
out:
	kwasm_status_set_last_load(ret, req->name, req->err);
	kfree(req);
}
