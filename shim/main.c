// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: WebAssembly packet filters in the kernel.
 *
 * Module entry and exit. The device comes last at init and goes first at
 * exit, so no load can race with the rest being set up or torn down; exit
 * ends with a check that nothing allocated through kwasm_alloc() leaked.
 * The network namespace operations come between: every namespace, the
 * initial one included, has its programs, detached when it goes.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/printk.h>

#include "attach.h"
#include "device.h"
#include "kwasm_m3_compat.h"
#include "services.h"
#include "status.h"

static int __init kwasm_init(void)
{
	int ret;

	ret = kwasm_status_init();
	if (ret)
		return ret;
	ret = kwasm_attach_init();
	if (ret)
		goto err_status;
	ret = kwasm_device_init();
	if (ret)
		goto err_attach;
	pr_info("kwasm: ready, load programs through /dev/kwasm\n");
	return 0;

err_attach:
	kwasm_attach_exit();
err_status:
	kwasm_status_exit();
	return ret;
}

/*
 * Once the device is gone and the program detached, nothing the core or
 * wasm3 allocated may remain: say how much did, and WARN so that a test
 * kernel booted with panic_on_warn stops on it.
 */
static void kwasm_check_leaks(void)
{
	long blocks, bytes, m3_blocks, m3_bytes;

	kwasm_alloc_stats(&blocks, &bytes);
	if (!blocks && !bytes)
		return;
	kwasm_m3_mem_stats(&m3_blocks, &m3_bytes);
	pr_err("kwasm: leak: %ld blocks, %ld bytes still allocated at unload (wasm3 heap: %ld blocks, %ld bytes)\n",
	       blocks, bytes, m3_blocks, m3_bytes);
	WARN(1, "kwasm: memory leaked\n");
}

static void __exit kwasm_exit(void)
{
	kwasm_device_exit();
	/*
	 * No open file can be left (each holds the module): nothing races.
	 * Every namespace's programs go with the pernet operations.
	 */
	kwasm_attach_exit();
	kwasm_status_exit();
	kwasm_check_leaks();
	pr_info("kwasm: unloaded\n");
}

module_init(kwasm_init);
module_exit(kwasm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("WebAssembly packet filters run by the wasm3 interpreter");
MODULE_AUTHOR("kwasm developers");
