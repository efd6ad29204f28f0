/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a program (load.c): KWASM_IOC_LOAD, and the program written to
 * an open file, loaded when it is closed.
 */
#ifndef KWASM_LOAD_H
#define KWASM_LOAD_H

#include <linux/compiler_types.h>
#include <net/net_namespace.h>

#include "upload.h"

long kwasm_load_ioctl(struct net *net, void __user *arg);
void kwasm_load_upload(struct net *net, const struct kwasm_upload *up);

#endif /* KWASM_LOAD_H */
