/* SPDX-License-Identifier: GPL-2.0 */
/* The program ioctls, KWASM_IOC_PROG_* (progs.c). */
#ifndef KWASM_PROGS_H
#define KWASM_PROGS_H

#include <linux/compiler_types.h>
#include <net/net_namespace.h>

/* Is @cmd a program request (of any structure size)? */
bool kwasm_progs_ioctl_cmd(unsigned int cmd);
long kwasm_progs_ioctl(struct net *net, unsigned int cmd, void __user *arg);

#endif /* KWASM_PROGS_H */
