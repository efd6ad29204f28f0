// SPDX-License-Identifier: GPL-2.0
/*
 * Network namespaces: each has its own set of programs, as each has its own
 * netfilter hooks. The set lives in the namespace's generic data; when the
 * namespace goes away (or the module, which unregisters these operations
 * and so runs the exit of every namespace), its programs are detached and
 * freed.
 */
#include <linux/list.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "attach.h"
#include "netns.h"

static unsigned int kwasm_net_id __read_mostly;

struct kwasm_net *kwasm_net(const struct net *net)
{
	return net_generic(net, kwasm_net_id);
}

struct net *kwasm_current_net(void)
{
	return current->nsproxy->net_ns;
}

static int __net_init kwasm_net_init(struct net *net)
{
	struct kwasm_net *kn = kwasm_net(net);

	INIT_LIST_HEAD(&kn->slots);
	kn->count = 0;
	return 0;
}

static void __net_exit kwasm_net_exit(struct net *net)
{
	kwasm_detach_all(net);
}

static struct pernet_operations kwasm_net_ops = {
	.init = kwasm_net_init,
	.exit = kwasm_net_exit,
	.id = &kwasm_net_id,
	.size = sizeof(struct kwasm_net),
};

int kwasm_netns_init(void)
{
	return register_pernet_subsys(&kwasm_net_ops);
}

void kwasm_netns_exit(void)
{
	unregister_pernet_subsys(&kwasm_net_ops);
}
