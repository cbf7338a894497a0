// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for static inline kernel functions (see helpers.h). */
#include <linux/bottom_half.h>
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/if_vlan.h>
#include <linux/proc_fs.h>
#include <linux/seq_file_net.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/busy_poll.h>
#include <net/netdev_rx_queue.h>
#include <net/ipv6.h>
#include <net/udp.h>

#include "helpers.h"

struct net *rnet_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

void rnet_eth_hw_addr_random(struct net_device *dev)
{
	eth_hw_addr_random(dev);
}

void rnet_dev_sw_netstats_rx_add(struct net_device *dev, unsigned int len)
{
	dev_sw_netstats_rx_add(dev, len);
}

void rnet_dev_sw_netstats_tx_add(struct net_device *dev, unsigned int packets,
				 unsigned int len)
{
	dev_sw_netstats_tx_add(dev, packets, len);
}

/*
 * veth's delivery (__dev_forward_skb done): this CPU's backlog, then the sender's tx and the
 * receiver's rx counters. One call for three: under TCG every call and return ends a
 * translation block.
 */
bool rnet_netif_rx_counted(struct sk_buff *skb, struct net_device *from,
			   struct net_device *to, unsigned int len)
{
	if (netif_rx(skb) != NET_RX_SUCCESS)
		return false;
	dev_sw_netstats_tx_add(from, 1, len);
	dev_sw_netstats_rx_add(to, len);
	return true;
}

void rnet_dev_core_stats_tx_dropped_inc(struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
}

void rnet_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* consume_skb() is static inline without CONFIG_TRACEPOINTS (the bench kernel). */
void rnet_consume_skb(struct sk_buff *skb)
{
	consume_skb(skb);
}

void rnet_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rnet_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

/* The flags below live in bitfields and struct groups bindgen cannot write. */
void rnet_netdev_set_lltx(struct net_device *dev)
{
	dev->lltx = true;
}

void rnet_netdev_set_tstats(struct net_device *dev)
{
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
}

void rnet_netdev_add_priv_flags(struct net_device *dev, unsigned long long flags)
{
	dev->priv_flags |= flags;
}

void rnet_netdev_set_destructor(struct net_device *dev,
				void (*destructor)(struct net_device *dev))
{
	dev->needs_free_netdev = true;
	dev->priv_destructor = destructor;
}

void rnet_netdev_hold(struct net_device *dev, netdevice_tracker *tracker)
{
	netdev_hold(dev, tracker, GFP_KERNEL);
}

void rnet_netdev_put(struct net_device *dev, netdevice_tracker *tracker)
{
	netdev_put(dev, tracker);
}

void rnet_netif_napi_del(struct napi_struct *napi)
{
	netif_napi_del(napi);
}

/*
 * Unlinks @napi without a grace period of its own if its device is being unregistered:
 * unregister_netdevice_many() calls synchronize_net() after ndo_uninit, before the private
 * state that owns the context can be freed (priv_destructor), so that one wait covers every
 * context. netif_napi_del() from priv_destructor waited a full synchronize_rcu() per context
 * (RTNL is not held there). Returns whether it unlinked.
 */
bool rnet_napi_del_unregistering(struct napi_struct *napi)
{
	if (napi->dev->reg_state != NETREG_UNREGISTERING)
		return false;
	__netif_napi_del(napi);
	return true;
}

struct net_device *rnet_napi_dev(const struct napi_struct *napi)
{
	return napi->dev;
}

void rnet_put_net(struct net *net)
{
	put_net(net);
}

void rnet_netdev_remove_priv_flags(struct net_device *dev, unsigned long long flags)
{
	dev->priv_flags &= ~flags;
}

void rnet_netdev_set_tso_max_unlimited(struct net_device *dev)
{
	netif_set_tso_max_size(dev, GSO_MAX_SIZE);
}

void rnet_local_bh_disable(void)
{
	local_bh_disable();
}

void rnet_local_bh_enable(void)
{
	local_bh_enable();
}

struct net *rnet_seq_file_single_net(struct seq_file *seq)
{
	return seq_file_single_net(seq);
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

const void *rnet_skb_header_pointer(const struct sk_buff *skb, int offset, int len,
				    void *buffer)
{
	return skb_header_pointer(skb, offset, len, buffer);
}

u16 rnet_skb_protocol(const struct sk_buff *skb)
{
	return ntohs(skb->protocol);
}

bool rnet_skb_vlan_tag_present(const struct sk_buff *skb)
{
	return skb_vlan_tag_present(skb);
}

/*
 * The received frame from its Ethernet header: up to @max bytes, in place when linear, else
 * copied to @buf; *@len is how many. NULL unless the MAC header is ETH_HLEN bytes before the
 * data (as eth_type_trans leaves it).
 */
const void *rnet_skb_eth_frame(const struct sk_buff *skb, void *buf, unsigned int max,
			       unsigned int *len)
{
	if (!skb_mac_header_was_set(skb) || skb_mac_offset(skb) != -ETH_HLEN)
		return NULL;
	*len = min_t(unsigned int, skb->len + ETH_HLEN, max);
	return skb_header_pointer(skb, -ETH_HLEN, *len, buf);
}

void rnet_dev_addr(const struct net_device *dev, u8 *out)
{
	memcpy(out, dev->dev_addr, ETH_ALEN);
}

struct nlattr *rnet_nla_nest_start(struct sk_buff *skb, int attrtype)
{
	return nla_nest_start_noflag(skb, attrtype);
}

void rnet_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void rnet_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

/*
 * Whether GRO would hand @skb (received: skb->dev and skb->protocol set) on unmerged anyway.
 * GRO has no handler for ARP, ICMP, IGMP and ICMPv6 (also behind the one hop-by-hop header
 * of an MLD report): they pass through dev_gro_receive() as GRO_NORMAL. A UDP datagram is
 * merged only for a socket that asked for UDP GRO or encapsulation (udp[46]_gro_receive look
 * one up only when such a socket exists: the static keys below) or on a device with
 * rx-udp-gro-forwarding or rx-gro-list. Other traffic may be merged (TCP, tunnels).
 */
bool rnet_skb_gro_passes_through(const struct sk_buff *skb)
{
	bool udp_merges = skb->dev->features & (NETIF_F_GRO_FRAGLIST | NETIF_F_GRO_UDP_FWD);
	const u8 *proto;
	u8 _proto;

	switch (skb->protocol) {
	case htons(ETH_P_ARP):
		return true;
	case htons(ETH_P_IP):
		proto = skb_header_pointer(skb, offsetof(struct iphdr, protocol), sizeof(_proto),
					   &_proto);
		if (!proto)
			return false;
		if (*proto == IPPROTO_ICMP || *proto == IPPROTO_IGMP)
			return true;
		return *proto == IPPROTO_UDP && !udp_merges &&
		       !static_branch_unlikely(&udp_encap_needed_key);
	case htons(ETH_P_IPV6):
		proto = skb_header_pointer(skb, offsetof(struct ipv6hdr, nexthdr), sizeof(_proto),
					   &_proto);
		if (!proto)
			return false;
		if (*proto == NEXTHDR_HOP) {
			/* The hop-by-hop header starts with its next header. */
			proto = skb_header_pointer(skb, sizeof(struct ipv6hdr), sizeof(_proto),
						   &_proto);
			return proto && *proto == IPPROTO_ICMPV6;
		}
		if (*proto == IPPROTO_ICMPV6)
			return true;
		return *proto == IPPROTO_UDP && !udp_merges &&
		       !static_branch_unlikely(&udpv6_encap_needed_key);
	}
	return false;
}

/*
 * GRO appends other packets' fragments to a held skb's shared info. For a clone that info is
 * also the original's, and a local TCP sender keeps the original of every segment it sends
 * until it is acked: merging into it corrupted the sender's retransmit queue (kernel BUG in
 * skb_shift() on the next SACK, seen under make stress). A NIC never receives clones; a pair
 * device receives the sender's. So a clone first gets a head of its own; if that allocation
 * fails it skips GRO rather than being dropped.
 *
 * A packet GRO would pass through unmerged goes straight to the stack, as GRO would send it,
 * when nothing is held or queued in this context that it could overtake.
 */
void rnet_napi_gro_receive_own(struct napi_struct *napi, struct sk_buff *skb)
{
	if (!napi->gro_bitmask && !napi->rx_count && rnet_skb_gro_passes_through(skb)) {
		skb_mark_napi_id(skb, napi);
		netif_receive_skb(skb);
		return;
	}
	if (unlikely(skb_unclone(skb, GFP_ATOMIC))) {
		netif_receive_skb(skb);
		return;
	}
	napi_gro_receive(napi, skb);
}

/*
 * __dev_forward_skb() with a drop reason: it frees what it cannot forward with
 * kfree_skb() (NOT_SPECIFIED), so the checks it would fail are made here first. Frees
 * @skb on failure and counts it in @dev's rx_dropped, as __dev_forward_skb() does.
 */
enum skb_drop_reason rnet_dev_forward_skb(struct net_device *dev, struct sk_buff *skb)
{
	enum skb_drop_reason reason;

	if (!(dev->flags & IFF_UP)) {
		reason = SKB_DROP_REASON_DEV_READY;
	} else if (!is_skb_forwardable(dev, skb)) {
		reason = SKB_DROP_REASON_PKT_TOO_BIG;
	} else {
		/* Left to fail: copying zero-copy user frags (skb_orphan_frags) without memory. */
		if (__dev_forward_skb(dev, skb))
			return SKB_DROP_REASON_NOMEM;
#ifdef CONFIG_NET_XGRESS
		/*
		 * Classified again on @dev: IFB marks what it re-injects with tc_skip_classify,
		 * which would make @dev's receive path skip tc ingress and the netfilter
		 * ingress hook.
		 */
		skb->tc_skip_classify = 0;
#endif
		return SKB_NOT_DROPPED_YET;
	}
	dev_core_stats_rx_dropped_inc(dev);
	kfree_skb_reason(skb, reason);
	return reason;
}

void rnet_kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason)
{
	kfree_skb_reason(skb, reason);
}

enum skb_drop_reason rnet_pskb_may_pull_reason(struct sk_buff *skb, unsigned int len)
{
	return pskb_may_pull_reason(skb, len);
}

void rnet_skb_tx_timestamp(struct sk_buff *skb)
{
	skb_tx_timestamp(skb);
}

unsigned int rnet_num_possible_cpus(void)
{
	return num_possible_cpus();
}

void rnet_netdev_set_mpls_features(struct net_device *dev, netdev_features_t features)
{
	dev->mpls_features = features;
}

/*
 * Clears rx queue @index's link to @napi, if it is still that. A registered device needs
 * RTNL (netif_queue_set_napi() asserts it); one that is not (never registered, or gone) can
 * no longer be looked up, so the pointer is cleared directly.
 */
void rnet_rxq_clear_napi(struct napi_struct *napi, unsigned int index)
{
	struct net_device *dev = napi->dev;

	if (index >= dev->num_rx_queues || __netif_get_rx_queue(dev, index)->napi != napi)
		return;
	if (dev->reg_state == NETREG_REGISTERED)
		netif_queue_set_napi(dev, index, NETDEV_QUEUE_TYPE_RX, NULL);
	else
		__netif_get_rx_queue(dev, index)->napi = NULL;
}
