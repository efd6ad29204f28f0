// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: WebAssembly packet filters in the kernel.
 *
 * Module entry and exit. The device comes last at init and goes first at
 * exit, so no load can race with the rest being set up or torn down.
 */
#include <linux/module.h>

#include "kwasm.h"

static int __init kwasm_init(void)
{
	int ret;

	ret = kwasm_status_init();
	if (ret)
		return ret;
	ret = kwasm_dev_init();
	if (ret)
		goto err_status;
	pr_info("kwasm: ready, load programs through /dev/kwasm\n");
	return 0;

err_status:
	kwasm_status_exit();
	return ret;
}

static void __exit kwasm_exit(void)
{
	kwasm_dev_exit();
	kwasm_prog_exit();
	kwasm_status_exit();
	pr_info("kwasm: unloaded\n");
}

module_init(kwasm_init);
module_exit(kwasm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("WebAssembly packet filters run by the wasm3 interpreter");
MODULE_AUTHOR("kwasm developers");
