/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of the kwasm shim. The interface to the
 * Rust core is include/kwasm_core.h; the user-space one include/uapi/kwasm.h.
 */
#ifndef KWASM_SHIM_H
#define KWASM_SHIM_H

#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include "kwasm_core.h"
#include "uapi/kwasm.h"

/* Load parameters: what the ioctl (or the write() path) asked for. */
struct kwasm_load_params {
	struct kwasm_prog_opts opts;
	unsigned int hook;
	int priority;
};

void kwasm_load_params_default(struct kwasm_load_params *p, const char *name);

/*
 * A program published to the packet path: the core's program plus the
 * netfilter hook it was loaded on. Owned by prog.c.
 */
struct kwasm_loaded {
	struct kwasm_prog *core;
	struct nf_hook_ops ops;
};

/* The program packets see; NULL when none. Written under prog.c's mutex. */
extern struct kwasm_loaded __rcu *kwasm_active;

/* prog.c: the loaded program and its life cycle */
int kwasm_prog_load(const u8 *wasm, size_t len,
		    const struct kwasm_load_params *params,
		    char *err, size_t err_len);
int kwasm_prog_unload(void);
void kwasm_prog_exit(void);
int kwasm_prog_show(struct seq_file *m);
int kwasm_prog_run_active(const struct kwasm_pkt *pkt,
			  struct kwasm_run_result *res);

/* hook.c: the packet path */
void kwasm_hook_init_ops(struct nf_hook_ops *ops, unsigned int hook,
			 int priority, void *priv);
void kwasm_run(struct kwasm_prog *prog, const struct kwasm_pkt *pkt,
	       struct kwasm_run_result *res);
const char *kwasm_hook_name(unsigned int hook);

/* testrun.c: KWASM_IOC_TEST_RUN */
long kwasm_test_run_ioctl(void __user *arg);

/* stack.c: the native stack under a run */
#define KWASM_STACK_RESERVE	(10 * 1024)
size_t kwasm_stack_left(void);
void kwasm_stack_paint(void);
size_t kwasm_stack_used(void);

/* invoke.c: KWASM_IOC_INVOKE_LOAD and KWASM_IOC_INVOKE, per open file */
struct kwasm_invoke_file {
	struct mutex lock;	/* serialises loads and calls on the instance */
	struct kwasm_invoker *inv;	/* NULL until a module is loaded */
};

void kwasm_invoke_file_init(struct kwasm_invoke_file *f);
void kwasm_invoke_file_release(struct kwasm_invoke_file *f);
long kwasm_invoke_load_ioctl(struct kwasm_invoke_file *f, void __user *arg);
long kwasm_invoke_ioctl(struct kwasm_invoke_file *f, void __user *arg);

/* dev.c: /dev/kwasm */
u8 *kwasm_copy_prog(u64 uptr, u32 len, char *err, size_t err_len);
int kwasm_dev_init(void);
void kwasm_dev_exit(void);

/* status.c: /proc/kwasm */
int kwasm_status_init(void);
void kwasm_status_exit(void);
void kwasm_status_set_last_load(int ret, const char *name, const char *err);

#endif /* KWASM_SHIM_H */
