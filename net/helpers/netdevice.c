// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for network devices (linux/netdevice.h, etherdevice.h): net/device.rs. */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "netdevice.h"

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
 * What the core counted for a device that reports its own totals: the legacy stats and, with
 * tstats, the per-cpu counters (bpf_redirect_peer() counts the peer's rx there).
 */
void rnet_dev_core_stats64(struct net_device *dev, struct rtnl_link_stats64 *storage)
{
	if (dev->pcpu_stat_type == NETDEV_PCPU_STAT_TSTATS)
		dev_get_tstats64(dev, storage);
	else
		netdev_stats_to_stats64(storage, &dev->stats);
}

void rnet_dev_core_stats_tx_dropped_inc(struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
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

void rnet_netdev_remove_priv_flags(struct net_device *dev, unsigned long long flags)
{
	dev->priv_flags &= ~flags;
}

void rnet_netdev_set_tso_max_unlimited(struct net_device *dev)
{
	netif_set_tso_max_size(dev, GSO_MAX_SIZE);
}

void rnet_dev_addr(const struct net_device *dev, u8 *out)
{
	memcpy(out, dev->dev_addr, ETH_ALEN);
}

/*
 * __dev_forward_skb() with a drop reason: it frees what it cannot forward with
 * kfree_skb() (NOT_SPECIFIED), so the checks it would fail are made here first. Frees
 * @skb on failure and counts it in @dev's rx_dropped, as __dev_forward_skb() does.
 * re-check on rebase: net/core/dev.c __dev_forward_skb2(), include/linux/netdevice.h
 * __is_skb_forwardable(); only a packet longer than its MTU allows can be too big, so most
 * make no call for that check.
 */
enum skb_drop_reason rnet_dev_forward_skb(struct net_device *dev, struct sk_buff *skb)
{
	enum skb_drop_reason reason;

	if (!(dev->flags & IFF_UP)) {
		reason = SKB_DROP_REASON_DEV_READY;
	} else if (unlikely(skb->len > dev->mtu + dev->hard_header_len + VLAN_HLEN) &&
		   !is_skb_forwardable(dev, skb)) {
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

void rnet_netdev_set_mpls_features(struct net_device *dev, netdev_features_t features)
{
	dev->mpls_features = features;
}
