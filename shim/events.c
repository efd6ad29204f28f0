// SPDX-License-Identifier: GPL-2.0
/*
 * Events files: KWASM_IOC_EVENTS_OPEN gives user space an anon_inode file
 * that reads the attached program's events ring (docs/ABI.md, "Events"),
 * and the waker its producers kick.
 *
 * The ring is the core's (maps/ring.rs); this file holds the core's reader
 * handle and does the plumbing: copies to user space through a bounce
 * buffer, sleeping, poll, the file's lifetime. Producers run in any hook
 * context and must not take a wait-queue lock there (LOCAL_OUT runs under
 * socket locks): they kick an irq_work, only when the reader said it
 * waits, and the irq_work's handler wakes the readers up.
 *
 * The file pins the module (fops.owner) and holds its ring: when the
 * program goes away the ring is detached, the reader drains it and then
 * reads the end (0). Everything is freed at the file's release.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "attach.h"
#include "events.h"
#include "kwasm_core.h"
#include "services.h"

/* Largest read copied at once: more than the largest record. */
#define KWASM_EVENTS_BOUNCE	(64U << 10)

struct kwasm_waker {
	struct irq_work work;
	wait_queue_head_t wq;
};

static void kwasm_waker_fn(struct irq_work *work)
{
	struct kwasm_waker *waker = container_of(work, struct kwasm_waker, work);

	wake_up_all(&waker->wq);
}

struct kwasm_waker *kwasm_waker_new(void)
{
	struct kwasm_waker *waker = kwasm_zalloc(sizeof(*waker));

	if (!waker)
		return NULL;
	init_irq_work(&waker->work, kwasm_waker_fn);
	init_waitqueue_head(&waker->wq);
	return waker;
}

/* Any context: irq_work_queue() takes no lock a hook could hold. */
void kwasm_waker_kick(struct kwasm_waker *waker)
{
	irq_work_queue(&waker->work);
}

void kwasm_waker_free(struct kwasm_waker *waker)
{
	if (!waker)
		return;
	irq_work_sync(&waker->work);
	kwasm_free(waker);
}

/* An open events file. */
struct kwasm_events_file {
	struct kwasm_events *ev;	/* the core's reader of the ring */
	struct kwasm_waker *waker;	/* the ring's, alive as long as ev */
	struct mutex lock;		/* one read at a time */
	u8 *buf;			/* bounce buffer of buf_len bytes */
	size_t buf_len;
};

/* Gives the reader back (freeing the ring if its program is gone). */
static void kwasm_events_file_free(struct kwasm_events_file *f)
{
	kwasm_core_events_close(f->ev);
	mutex_destroy(&f->lock);
	kwasm_free(f->buf);
	kwasm_free(f);
}

static int kwasm_events_release(struct inode *inode, struct file *file)
{
	kwasm_events_file_free(file->private_data);
	return 0;
}

/* Bytes of whole records copied to @ubuf; 0 at the end; -errno. */
static ssize_t kwasm_events_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct kwasm_events_file *f = file->private_data;
	size_t len = min(count, f->buf_len);
	ssize_t n;
	u32 state;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	for (;;) {
		n = kwasm_core_events_peek(f->ev, f->buf, len);
		if (n)
			break;
		/* Marks the reader waiting: a commit after this kicks. */
		state = kwasm_core_events_poll(f->ev);
		if (state & KWASM_CORE_EVENTS_READABLE)
			continue;
		if (state & KWASM_CORE_EVENTS_DETACHED)
			break;
		if (file->f_flags & O_NONBLOCK) {
			n = -EAGAIN;
			break;
		}
		if (wait_event_interruptible(f->waker->wq,
					     kwasm_core_events_poll(f->ev))) {
			n = -ERESTARTSYS;
			break;
		}
	}
	if (n > 0) {
		if (copy_to_user(ubuf, f->buf, n))
			n = -EFAULT;
		else
			kwasm_core_events_consume(f->ev, n);
	}
	mutex_unlock(&f->lock);
	return n;
}

static __poll_t kwasm_events_poll(struct file *file, poll_table *wait)
{
	struct kwasm_events_file *f = file->private_data;
	__poll_t mask = 0;
	u32 state;

	poll_wait(file, &f->waker->wq, wait);
	state = kwasm_core_events_poll(f->ev);
	if (state & KWASM_CORE_EVENTS_READABLE)
		mask |= EPOLLIN | EPOLLRDNORM;
	/* Detached: read() gives what is left, then the end. */
	if (state & KWASM_CORE_EVENTS_DETACHED)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	return mask;
}

static long kwasm_events_stats_ioctl(struct kwasm_events_file *f,
				     void __user *uarg)
{
	struct kwasm_events_stats st = {};
	struct kwasm_events_info info;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(st))
		return -EINVAL;
	ret = copy_struct_from_user(&st, sizeof(st), uarg, usize);
	if (ret)
		return ret;
	kwasm_core_events_stats(f->ev, &info);
	st.size = sizeof(st);
	st.ring_size = info.ring_size;
	st.written = info.written;
	st.dropped = info.dropped;
	st.used = info.used;
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long kwasm_events_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	switch (cmd) {
	case KWASM_EVENTS_IOC_STATS:
		return kwasm_events_stats_ioctl(file->private_data,
						(void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kwasm_events_fops = {
	.owner = THIS_MODULE,
	.read = kwasm_events_read,
	.poll = kwasm_events_poll,
	.release = kwasm_events_release,
	.unlocked_ioctl = kwasm_events_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* The file state of @ev with its bounce buffer; NULL without memory. */
static struct kwasm_events_file *kwasm_events_file_new(struct kwasm_events *ev,
						       u32 ring_size)
{
	struct kwasm_events_file *f;

	f = kwasm_zalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->buf_len = min(ring_size, KWASM_EVENTS_BOUNCE);
	f->buf = kwasm_alloc(f->buf_len);
	if (!f->buf) {
		kwasm_free(f);
		return NULL;
	}
	mutex_init(&f->lock);
	f->ev = ev;
	f->waker = kwasm_core_events_waker(ev);
	return f;
}

/* Fill @req's outputs, make the file and its descriptor. */
static int kwasm_events_install(struct kwasm_events_open *req,
				void __user *uarg, struct kwasm_events *ev,
				const struct kwasm_events_info *info)
{
	struct kwasm_events_file *f;
	struct file *file;
	int fd, ret;

	f = kwasm_events_file_new(ev, info->ring_size);
	if (!f) {
		kwasm_core_events_close(ev);
		strscpy(req->err, "out of memory", sizeof(req->err));
		return -ENOMEM;
	}
	fd = get_unused_fd_flags(O_RDONLY |
				 (req->flags & KWASM_EVENTS_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		ret = fd;
		snprintf(req->err, sizeof(req->err), "no file descriptor: %d", ret);
		goto err_file;
	}
	file = anon_inode_getfile("[kwasm-events]", &kwasm_events_fops, f,
				  O_RDONLY |
				  (req->flags & KWASM_EVENTS_NONBLOCK ? O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		snprintf(req->err, sizeof(req->err), "cannot make the file: %d", ret);
		goto err_fd;
	}
	/* From here on the file owns f: fput() releases it. */
	req->fd = fd;
	req->ring_size = info->ring_size;
	req->max_record = info->max_record;
	memcpy(req->value_fmt, info->value_fmt, sizeof(req->value_fmt));
	req->value_fmt[sizeof(req->value_fmt) - 1] = '\0';
	if (copy_to_user(uarg, req, sizeof(*req))) {
		fput(file);
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_file:
	kwasm_events_file_free(f);
	return ret;
}

long kwasm_events_open_ioctl(struct net *net, void __user *uarg)
{
	struct kwasm_events_open req = {};
	struct kwasm_events_info info;
	struct kwasm_events *ev;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(req))
		return -EINVAL;
	ret = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (ret)
		return ret;
	memset(req.err, 0, sizeof(req.err));
	req.fd = -1;
	if (req.flags & ~KWASM_EVENTS_ALL_FLAGS) {
		snprintf(req.err, sizeof(req.err),
			 "flags %#x: unknown bits %#x (KWASM_EVENTS_NONBLOCK, KWASM_EVENTS_CLOEXEC)",
			 req.flags, req.flags & ~KWASM_EVENTS_ALL_FLAGS);
		ret = -EINVAL;
	} else {
		ret = kwasm_prog_events_open(net, req.prog_id, &ev, &info,
					     req.err, sizeof(req.err));
	}
	if (!ret)
		ret = kwasm_events_install(&req, uarg, ev, &info);
	if (ret && ret != -EFAULT &&
	    copy_to_user(uarg, &req, min_t(size_t, usize, sizeof(req))))
		return -EFAULT;
	return ret;
}
