/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the static inline kernel functions the net/
 * abstractions call; bindgen cannot bind inline functions.
 */
#ifndef RVETH_NET_HELPERS_H
#define RVETH_NET_HELPERS_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/seq_file.h>
#include <net/netlink.h>

struct net *rnet_dev_net(const struct net_device *dev);
void rnet_eth_hw_addr_random(struct net_device *dev);
void rnet_dev_sw_netstats_rx_add(struct net_device *dev, unsigned int len);
bool rnet_netif_rx_counted(struct sk_buff *skb, struct net_device *from,
			   struct net_device *to, unsigned int len);
void rnet_dev_sw_netstats_tx_add(struct net_device *dev, unsigned int packets,
				 unsigned int len);
void rnet_dev_core_stats_tx_dropped_inc(struct net_device *dev);
void rnet_kfree_skb(struct sk_buff *skb);
void rnet_consume_skb(struct sk_buff *skb);
void rnet_rcu_read_lock(void);
void rnet_rcu_read_unlock(void);
void rnet_netdev_set_lltx(struct net_device *dev);
void rnet_netdev_set_tstats(struct net_device *dev);
void rnet_netdev_add_priv_flags(struct net_device *dev, unsigned long long flags);
void rnet_netdev_set_destructor(struct net_device *dev,
				void (*destructor)(struct net_device *dev));
void rnet_netdev_hold(struct net_device *dev, netdevice_tracker *tracker);
void rnet_netdev_put(struct net_device *dev, netdevice_tracker *tracker);
void rnet_netif_napi_del(struct napi_struct *napi);
bool rnet_napi_del_unregistering(struct napi_struct *napi);
void rnet_napi_gro_receive_own(struct napi_struct *napi, struct sk_buff *skb);
bool rnet_skb_gro_passes_through(const struct sk_buff *skb);
struct net_device *rnet_napi_dev(const struct napi_struct *napi);
void rnet_put_net(struct net *net);
void rnet_netdev_remove_priv_flags(struct net_device *dev, unsigned long long flags);
void rnet_netdev_set_tso_max_unlimited(struct net_device *dev);
void rnet_local_bh_disable(void);
void rnet_local_bh_enable(void);
struct net *rnet_seq_file_single_net(struct seq_file *seq);
void *rnet_net_generic(const struct net *net, unsigned int id);
struct proc_dir_entry *rnet_net_proc_dir(const struct net *net);
struct net_device *rnet_first_netdev_rcu(struct net *net);
struct net_device *rnet_next_netdev_rcu(struct net *net, struct net_device *dev);
const void *rnet_skb_header_pointer(const struct sk_buff *skb, int offset, int len,
				    void *buffer);
u16 rnet_skb_protocol(const struct sk_buff *skb);
bool rnet_skb_vlan_tag_present(const struct sk_buff *skb);
const void *rnet_skb_eth_frame(const struct sk_buff *skb, void *buf, unsigned int max,
			       unsigned int *len);
void rnet_dev_addr(const struct net_device *dev, u8 *out);
struct nlattr *rnet_nla_nest_start(struct sk_buff *skb, int attrtype);
void rnet_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void rnet_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);
enum skb_drop_reason rnet_dev_forward_skb(struct net_device *dev, struct sk_buff *skb);
void rnet_kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason);
enum skb_drop_reason rnet_pskb_may_pull_reason(struct sk_buff *skb, unsigned int len);
void rnet_skb_tx_timestamp(struct sk_buff *skb);
unsigned int rnet_num_possible_cpus(void);
void rnet_netdev_set_mpls_features(struct net_device *dev, netdev_features_t features);
void rnet_rxq_clear_napi(struct napi_struct *napi, unsigned int index);

#endif
