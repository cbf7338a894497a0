// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for network namespaces (net/net_namespace.h): net/netns.rs, pernet.rs. */
#include <linux/netdevice.h>
#include <linux/rculist.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "net_namespace.h"

void rnet_put_net(struct net *net)
{
	put_net(net);
}

void *rnet_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

struct proc_dir_entry *rnet_net_proc_dir(const struct net *net)
{
	return net->proc_net;
}

struct net_device *rnet_first_netdev_rcu(struct net *net)
{
	return list_first_or_null_rcu(&net->dev_base_head, struct net_device, dev_list);
}

struct net_device *rnet_next_netdev_rcu(struct net *net, struct net_device *dev)
{
	return list_next_or_null_rcu(&net->dev_base_head, &dev->dev_list, struct net_device,
				     dev_list);
}
