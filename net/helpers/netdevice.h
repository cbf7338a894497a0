/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for network devices (linux/netdevice.h, etherdevice.h): net/device.rs. */
#ifndef RVETH_NET_HELPERS_NETDEVICE_H
#define RVETH_NET_HELPERS_NETDEVICE_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>

struct net *rnet_dev_net(const struct net_device *dev);
void rnet_eth_hw_addr_random(struct net_device *dev);
void rnet_dev_core_stats64(struct net_device *dev, struct rtnl_link_stats64 *storage);
void rnet_dev_sw_netstats_rx_add(struct net_device *dev, unsigned int len);
void rnet_dev_sw_netstats_tx_add(struct net_device *dev, unsigned int packets,
				 unsigned int len);
void rnet_dev_core_stats_tx_dropped_inc(struct net_device *dev);
void rnet_netdev_set_lltx(struct net_device *dev);
void rnet_netdev_set_tstats(struct net_device *dev);
void rnet_netdev_add_priv_flags(struct net_device *dev, unsigned long long flags);
void rnet_netdev_set_destructor(struct net_device *dev,
				void (*destructor)(struct net_device *dev));
void rnet_netdev_hold(struct net_device *dev, netdevice_tracker *tracker);
void rnet_netdev_put(struct net_device *dev, netdevice_tracker *tracker);
void rnet_netdev_remove_priv_flags(struct net_device *dev, unsigned long long flags);
void rnet_netdev_set_tso_max_unlimited(struct net_device *dev);
void rnet_dev_addr(const struct net_device *dev, u8 *out);
enum skb_drop_reason rnet_dev_forward_skb(struct net_device *dev, struct sk_buff *skb);
void rnet_netdev_set_mpls_features(struct net_device *dev, netdev_features_t features);

#endif
