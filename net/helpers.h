/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the static inline kernel functions the net/
 * abstractions call; bindgen cannot bind inline functions.
 */
#ifndef RVETH_NET_HELPERS_H
#define RVETH_NET_HELPERS_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>

void *rnet_netdev_priv(const struct net_device *dev);
struct net *rnet_dev_net(const struct net_device *dev);
void rnet_eth_hw_addr_random(struct net_device *dev);
bool rnet_netif_running(const struct net_device *dev);
bool rnet_netif_carrier_ok(const struct net_device *dev);
void rnet_dev_sw_netstats_rx_add(struct net_device *dev, unsigned int len);
void rnet_dev_sw_netstats_tx_add(struct net_device *dev, unsigned int packets,
				 unsigned int len);
void rnet_dev_core_stats_tx_dropped_inc(struct net_device *dev);
void rnet_kfree_skb(struct sk_buff *skb);
unsigned int rnet_skb_len(const struct sk_buff *skb);
void rnet_rcu_read_lock(void);
void rnet_rcu_read_unlock(void);
void rnet_netdev_set_lltx(struct net_device *dev);
void rnet_netdev_set_tstats(struct net_device *dev);
void rnet_netdev_add_priv_flags(struct net_device *dev, unsigned long long flags);
void rnet_netdev_set_destructor(struct net_device *dev,
				void (*destructor)(struct net_device *dev));

#endif
