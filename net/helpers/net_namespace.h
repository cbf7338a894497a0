/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for network namespaces (net/net_namespace.h): net/netns.rs, pernet.rs. */
#ifndef RVETH_NET_HELPERS_NET_NAMESPACE_H
#define RVETH_NET_HELPERS_NET_NAMESPACE_H

#include <linux/netdevice.h>

void rnet_put_net(struct net *net);
void *rnet_net_generic(const struct net *net, unsigned int id);
struct proc_dir_entry *rnet_net_proc_dir(const struct net *net);
struct net_device *rnet_first_netdev_rcu(struct net *net);
struct net_device *rnet_next_netdev_rcu(struct net *net, struct net_device *dev);

#endif
