/* SPDX-License-Identifier: GPL-2.0 */
/* The map ioctls, KWASM_IOC_MAP_* (map.c). */
#ifndef KWASM_MAP_H
#define KWASM_MAP_H

#include <linux/compiler_types.h>
#include <net/net_namespace.h>

/* Is @cmd a map request (of any structure size)? */
bool kwasm_map_ioctl_cmd(unsigned int cmd);
long kwasm_map_ioctl(struct net *net, unsigned int cmd, void __user *arg);

#endif /* KWASM_MAP_H */
