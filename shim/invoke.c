// SPDX-License-Identifier: GPL-2.0
/*
 * KWASM_IOC_INVOKE_LOAD and KWASM_IOC_INVOKE: a module instantiated for one
 * open file, whose exported functions user space calls by name (the
 * WebAssembly spec test runner uses it). Separate from packet filtering:
 * no hook, no per-CPU instances, process context only.
 */
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "invoke.h"
#include "kwasm_core.h"
#include "upload.h"

void kwasm_invoke_slot_init(struct kwasm_invoke_slot *slot)
{
	mutex_init(&slot->lock);
	slot->inv = NULL;
}

void kwasm_invoke_slot_release(struct kwasm_invoke_slot *slot)
{
	kwasm_core_invoke_free(slot->inv);
	slot->inv = NULL;
	mutex_destroy(&slot->lock);
}

long kwasm_invoke_load_ioctl(struct kwasm_invoke_slot *slot,
			     void __user *arg)
{
	struct kwasm_invoke_load *req;
	struct kwasm_invoker *inv = NULL;
	u8 *wasm = NULL;
	long ret;

	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);
	memset(req->err, 0, sizeof(req->err));
	if (req->pad) {
		snprintf(req->err, sizeof(req->err), "pad must be 0");
		ret = -EINVAL;
		goto reply;
	}
	wasm = kwasm_upload_copy(req->prog, req->prog_len, req->err,
				 sizeof(req->err));
	if (IS_ERR(wasm)) {
		ret = PTR_ERR(wasm);
		wasm = NULL;
		goto reply;
	}
	/* Built outside the lock: a call on the old instance may be running. */
	ret = kwasm_core_invoke_new(wasm, req->prog_len, &inv, req->err,
				    sizeof(req->err));
	if (ret)
		goto reply;
	ret = mutex_lock_killable(&slot->lock);
	if (ret) {
		kwasm_core_invoke_free(inv);
		goto reply;
	}
	swap(slot->inv, inv);
	mutex_unlock(&slot->lock);
	/* The previous instance, if any. */
	kwasm_core_invoke_free(inv);
reply:
	if (copy_to_user(arg, req, sizeof(*req)))
		ret = -EFAULT;
	kvfree(wasm);
	kfree(req);
	return ret;
}

/* The request and the core's result, allocated together. */
struct kwasm_invoke_call {
	struct kwasm_invoke req;
	struct kwasm_invoke_result res;
};

long kwasm_invoke_ioctl(struct kwasm_invoke_slot *slot, void __user *arg)
{
	struct kwasm_invoke_call *call;
	struct kwasm_invoke *req;
	size_t name_len;
	u32 i;
	long ret;

	call = kzalloc(sizeof(*call), GFP_KERNEL);
	if (!call)
		return -ENOMEM;
	req = &call->req;
	if (copy_from_user(req, arg, sizeof(*req))) {
		kfree(call);
		return -EFAULT;
	}
	memset(req->err, 0, sizeof(req->err));
	memset(req->trap_name, 0, sizeof(req->trap_name));
	req->outcome = KWASM_INVOKE_RETURNED;
	req->trap = 0;
	req->nresults = 0;

	ret = -EINVAL;
	name_len = strnlen(req->name, sizeof(req->name));
	if (name_len == sizeof(req->name)) {
		snprintf(req->err, sizeof(req->err),
			 "export name is not NUL-terminated within %d bytes",
			 KWASM_INVOKE_NAME_LEN);
		goto reply;
	}
	if (req->nargs > KWASM_INVOKE_MAX_VALUES) {
		snprintf(req->err, sizeof(req->err),
			 "%u arguments, at most %d are supported", req->nargs,
			 KWASM_INVOKE_MAX_VALUES);
		goto reply;
	}
	ret = mutex_lock_killable(&slot->lock);
	if (ret)
		goto reply;
	if (slot->inv) {
		ret = kwasm_core_invoke_call(slot->inv, req->name, name_len,
					     req->args, req->nargs, &call->res,
					     req->err, sizeof(req->err));
	} else {
		strscpy(req->err, "no module: use KWASM_IOC_INVOKE_LOAD first",
			sizeof(req->err));
		ret = -ENOENT;
	}
	mutex_unlock(&slot->lock);
	if (ret)
		goto reply;

	if (call->res.trap) {
		req->outcome = KWASM_INVOKE_TRAPPED;
		req->trap = call->res.trap;
		strscpy(req->trap_name, kwasm_core_trap_name(call->res.trap),
			sizeof(req->trap_name));
	} else {
		req->nresults = min_t(u32, call->res.nresults,
				      KWASM_INVOKE_MAX_VALUES);
		for (i = 0; i < req->nresults; i++) {
			req->results[i] = call->res.results[i];
			req->result_types[i] = call->res.types[i];
		}
	}
reply:
	if (copy_to_user(arg, req, sizeof(*req)))
		ret = -EFAULT;
	kfree(call);
	return ret;
}
