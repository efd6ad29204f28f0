// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kwasm: each open file, and the requests made through it.
 *
 * A program is loaded by ioctl (KWASM_IOC_LOAD) or by writing it to the
 * file, loaded when the file is closed (load.c); KWASM_IOC_UNLOAD detaches
 * them all, the program ioctls list them and unload one (progs.c),
 * KWASM_IOC_TEST_RUN runs one on a given packet (testrun.c), the map
 * ioctls read and change a program's maps (map.c), and the invoke ioctls
 * use a module instance of the file's own (invoke.c).
 *
 * Requests act in the network namespace of the task that opened the file,
 * as a socket's do: the file holds a reference to it.
 *
 * Every operation needs CAP_NET_ADMIN: checked at open, and again for each
 * write() and ioctl, so a file descriptor passed to (or kept by) a process
 * without the capability can do nothing with it.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/net_namespace.h>

#include "attach.h"
#include "device.h"
#include "events.h"
#include "invoke.h"
#include "load.h"
#include "map.h"
#include "progs.h"
#include "testrun.h"
#include "uapi/kwasm.h"
#include "upload.h"

/* The state of one open file. */
struct kwasm_file {
	struct kwasm_upload upload;	/* what write() gave, loaded at close */
	struct kwasm_invoke_slot invoke;	/* the invoke ioctls' instance */
	struct net *net;		/* the opener's network namespace */
};

static int kwasm_open(struct inode *inode, struct file *file)
{
	struct kwasm_file *f;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	kwasm_upload_init(&f->upload);
	kwasm_invoke_slot_init(&f->invoke);
	f->net = get_net(current->nsproxy->net_ns);
	file->private_data = f;
	return 0;
}

static ssize_t kwasm_write(struct file *file, const char __user *data,
			   size_t count, loff_t *ppos)
{
	struct kwasm_file *f = file->private_data;

	if (!capable(CAP_NET_ADMIN)) {
		/* Sticky: what privileged writes gave is never loaded alone. */
		kwasm_upload_refuse(&f->upload, -EPERM);
		return -EPERM;
	}
	return kwasm_upload_write(&f->upload, data, count);
}

static int kwasm_release(struct inode *inode, struct file *file)
{
	struct kwasm_file *f = file->private_data;

	kwasm_load_upload(f->net, &f->upload);
	kwasm_invoke_slot_release(&f->invoke);
	kwasm_upload_free(&f->upload);
	put_net(f->net);
	kfree(f);
	return 0;
}

static long kwasm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kwasm_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	switch (cmd) {
	case KWASM_IOC_LOAD:
		return kwasm_load_ioctl(f->net, uarg);
	case KWASM_IOC_UNLOAD:
		return kwasm_detach_all(f->net);
	case KWASM_IOC_TEST_RUN:
		return kwasm_test_run_ioctl(f->net, uarg);
	case KWASM_IOC_INVOKE_LOAD:
		return kwasm_invoke_load_ioctl(&f->invoke, uarg);
	case KWASM_IOC_INVOKE:
		return kwasm_invoke_ioctl(&f->invoke, uarg);
	case KWASM_IOC_EVENTS_OPEN:
		return kwasm_events_open_ioctl(f->net, uarg);
	default:
		break;
	}
	/* Matched without the size field: the structures may grow. */
	if (kwasm_map_ioctl_cmd(cmd))
		return kwasm_map_ioctl(f->net, cmd, uarg);
	if (kwasm_progs_ioctl_cmd(cmd))
		return kwasm_progs_ioctl(f->net, cmd, uarg);
	return -ENOTTY;
}

static const struct file_operations kwasm_fops = {
	.owner = THIS_MODULE,
	.open = kwasm_open,
	.write = kwasm_write,
	.release = kwasm_release,
	.unlocked_ioctl = kwasm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kwasm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kwasm",
	.fops = &kwasm_fops,
	.mode = 0600,
};

int kwasm_device_init(void)
{
	return misc_register(&kwasm_misc);
}

void kwasm_device_exit(void)
{
	misc_deregister(&kwasm_misc);
}
