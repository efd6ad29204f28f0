/* SPDX-License-Identifier: GPL-2.0 */
/* KWASM_IOC_TEST_RUN (testrun.c). */
#ifndef KWASM_TESTRUN_H
#define KWASM_TESTRUN_H

#include <linux/compiler_types.h>
#include <net/net_namespace.h>

long kwasm_test_run_ioctl(struct net *net, void __user *arg);

#endif /* KWASM_TESTRUN_H */
