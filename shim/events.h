/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events files (events.c): KWASM_IOC_EVENTS_OPEN, and the waker of
 * include/kwasm_core.h that the core's rings kick.
 */
#ifndef KWASM_EVENTS_H
#define KWASM_EVENTS_H

#include <linux/compiler_types.h>
#include <net/net_namespace.h>

long kwasm_events_open_ioctl(struct net *net, void __user *uarg);

#endif /* KWASM_EVENTS_H */
