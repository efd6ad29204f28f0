/* SPDX-License-Identifier: GPL-2.0 */
/* Requests that start with their size (request.c). */
#ifndef KWASM_REQUEST_H
#define KWASM_REQUEST_H

#include <linux/compiler_types.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <net/net_namespace.h>

/*
 * One kind of sized request: its structure's size, where its err[] is, and
 * what to do once it is copied in and its size checked. @run writes its
 * reason to the request's err[]; the request goes back to user space
 * whatever it returns.
 */
struct kwasm_req_type {
	size_t size;
	size_t err;
	size_t err_len;
	long (*run)(struct net *net, void *req, u32 op);
};

/* Each kind of request starts with its size, a u32. */
#define KWASM_REQ_TYPE(name, fn) {				\
	.size = sizeof(struct name),				\
	.err = offsetof(struct name, err),			\
	.err_len = sizeof_field(struct name, err),		\
	.run = fn,						\
}

long kwasm_req_ioctl(const struct kwasm_req_type *type, struct net *net,
		     void __user *arg, u32 op);

#endif /* KWASM_REQUEST_H */
