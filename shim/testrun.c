// SPDX-License-Identifier: GPL-2.0
/*
 * KWASM_IOC_TEST_RUN: run the attached program, or one given with the request,
 * on a packet from user space, without real traffic (like BPF_PROG_TEST_RUN).
 */
#include <linux/bottom_half.h>
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/netfilter.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "attach.h"
#include "hook.h"
#include "kwasm_core.h"
#include "stack.h"
#include "testrun.h"
#include "upload.h"

/* What a test-run measured besides the result of its last run. */
struct kwasm_test_run_figures {
	u64 ns;			/* time of all runs */
	size_t stack_used;	/* deepest native stack below this loop */
};

/*
 * Run @repeat times: @prog when given, else the loaded program of @net
 * with @id. As
 * BPF_PROG_TEST_RUN does, the runs share one section with bottom halves
 * disabled, left only to reschedule or run pending softirqs (not timed) or
 * to end early on a fatal signal, so that the time per run is the
 * program's, not the loop's. The
 * stack below this frame is painted first, so that the deepest use of all
 * runs can be read back.
 */
static noinline int kwasm_test_run_loop(struct kwasm_prog *prog,
					struct net *net, u32 id, u32 repeat,
					const struct kwasm_pkt *pkt,
					struct kwasm_run_result *res,
					struct kwasm_test_run_figures *fig)
{
	u64 start, ns = 0;
	int ret = 0;
	u32 i;

	kwasm_stack_paint();
	local_bh_disable();
	start = ktime_get_ns();
	for (i = 0; i < repeat; i++) {
		if (prog) {
			kwasm_run(prog, pkt, res);
		} else {
			ret = kwasm_prog_run(net, id, pkt, res);
			if (ret)
				break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/*
		 * Leave the section for the scheduler, and for softirqs raised
		 * meanwhile (timers, RCU, the network), which local_bh_enable()
		 * runs: neither waits for more than one run.
		 */
		if (need_resched() || local_softirq_pending()) {
			ns += ktime_get_ns() - start;
			local_bh_enable();
			cond_resched();
			local_bh_disable();
			start = ktime_get_ns();
		}
	}
	ns += ktime_get_ns() - start;
	local_bh_enable();
	if (ret)
		return ret;
	fig->ns = ns;
	fig->stack_used = kwasm_stack_used();
	return 0;
}

/*
 * The options of a program given with @req, checked by the core as a load's
 * are: named "test-run", its snap length and fuel when set (non-zero), the
 * defaults for the rest.
 */
static int kwasm_test_run_opts(const struct kwasm_test_run *req,
			       struct kwasm_prog_opts *opts,
			       char *err, size_t err_len)
{
	struct kwasm_load *load;
	int ret;

	load = kzalloc(sizeof(*load), GFP_KERNEL);
	if (!load)
		return -ENOMEM;
	strscpy(load->name, "test-run", sizeof(load->name));
	if (req->snaplen) {
		load->flags |= KWASM_LOAD_SNAPLEN;
		load->snaplen = req->snaplen;
	}
	if (req->fuel) {
		load->flags |= KWASM_LOAD_FUEL;
		load->fuel = req->fuel;
	}
	ret = kwasm_core_load_opts(load, opts, err, err_len);
	kfree(load);
	return ret;
}

/* Build the program given with the request, run it, free it. */
static int kwasm_test_run_given(const struct kwasm_test_run *req,
				const struct kwasm_prog_opts *opts,
				const struct kwasm_pkt *pkt,
				struct kwasm_run_result *res,
				struct kwasm_test_run_figures *fig,
				char *err, size_t err_len)
{
	struct kwasm_prog *prog;
	u8 *wasm;
	int ret;

	wasm = kwasm_upload_copy(req->prog, req->prog_len, err, err_len);
	if (IS_ERR(wasm))
		return PTR_ERR(wasm);
	ret = kwasm_core_prog_new(wasm, req->prog_len, opts, &prog,
				  err, err_len);
	kvfree(wasm);
	if (ret)
		return ret;

	ret = kwasm_test_run_loop(prog, NULL, 0, req->repeat, pkt, res, fig);
	kwasm_core_prog_free(prog);
	return ret;
}

long kwasm_test_run_ioctl(struct net *net, void __user *arg)
{
	struct kwasm_test_run_figures fig = {};
	struct kwasm_run_result res = {};
	struct kwasm_prog_opts opts;
	struct kwasm_test_run *req;
	struct kwasm_pkt pkt = {};
	u32 id = 0;
	u8 *data;
	long ret;

	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);
	memset(req->err, 0, sizeof(req->err));

	/* The run's own fields; a given program's options are the core's. */
	if (!req->repeat || req->pkt_len > KWASM_MAX_PKT_SIZE ||
	    req->hook >= NF_INET_NUMHOOKS) {
		snprintf(req->err, sizeof(req->err),
			 "repeat must be at least 1, packet at most %u bytes, hook below %d",
			 KWASM_MAX_PKT_SIZE, NF_INET_NUMHOOKS);
		ret = -EINVAL;
		goto reply;
	}
	if (req->fuel && !req->prog) {
		strscpy(req->err, "fuel is for a given program only",
			sizeof(req->err));
		ret = -EINVAL;
		goto reply;
	}
	if (req->prog && req->prog_id) {
		strscpy(req->err, "prog_id is for a loaded program only (prog 0)",
			sizeof(req->err));
		ret = -EINVAL;
		goto reply;
	}
	if (!req->prog) {
		ret = kwasm_prog_resolve(net, req->prog_id, &id, req->err,
					 sizeof(req->err));
		if (ret)
			goto reply;
	}
	/* Checked even without a given program, which ignores them. */
	ret = kwasm_test_run_opts(req, &opts, req->err, sizeof(req->err));
	if (ret)
		goto reply;
	data = vmemdup_user(u64_to_user_ptr(req->pkt), req->pkt_len);
	if (IS_ERR(data)) {
		ret = PTR_ERR(data);
		goto out;
	}
	pkt = (struct kwasm_pkt) {
		.data = data,
		.len = req->pkt_len,
		.hook = req->hook,
		.ifindex_in = req->ifindex_in,
		.ifindex_out = req->ifindex_out,
		.mark = req->mark,
	};

	if (req->prog) {
		ret = kwasm_test_run_given(req, &opts, &pkt, &res, &fig,
					   req->err, sizeof(req->err));
	} else {
		ret = kwasm_test_run_loop(NULL, net, id, req->repeat, &pkt,
					  &res, &fig);
		if (ret == -ENOENT)
			snprintf(req->err, sizeof(req->err),
				 "program %u was unloaded during the test-run",
				 id);
	}
	if (!ret) {
		req->verdict = res.verdict;
		req->outcome = res.outcome;
		req->trap = res.trap;
		req->retval = res.retval;
		req->duration_ns = fig.ns;
		req->stack_used = min_t(size_t, fig.stack_used, U32_MAX);
		req->fuel_used = res.fuel_used;
		strscpy(req->trap_name, res.trap ?
			kwasm_core_trap_name(res.trap) : "",
			sizeof(req->trap_name));
	}
	kvfree(data);
reply:
	if (copy_to_user(arg, req, sizeof(*req)))
		ret = -EFAULT;
out:
	kfree(req);
	return ret;
}
