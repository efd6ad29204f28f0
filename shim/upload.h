/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A program's bytes from user space (upload.c), never more than
 * KWASM_MAX_PROG_SIZE: copied in one piece from a user pointer (the
 * ioctls), or gathered over the write()s to an open file.
 */
#ifndef KWASM_UPLOAD_H
#define KWASM_UPLOAD_H

#include <linux/compiler_types.h>
#include <linux/mutex.h>
#include <linux/types.h>

u8 *kwasm_upload_copy(u64 uptr, u32 len, char *err, size_t err_len);

/* A program being written to an open file; loaded when it is closed. */
struct kwasm_upload {
	struct mutex lock;	/* serialises writers sharing the file */
	u8 *buf;
	size_t len;
	size_t cap;
	int error;		/* sticky: a failed upload is never loaded */
};

void kwasm_upload_init(struct kwasm_upload *up);
ssize_t kwasm_upload_write(struct kwasm_upload *up, const char __user *data,
			   size_t count);
void kwasm_upload_refuse(struct kwasm_upload *up, int error);
void kwasm_upload_free(struct kwasm_upload *up);

#endif /* KWASM_UPLOAD_H */
