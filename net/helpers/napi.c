// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for NAPI contexts (linux/netdevice.h), for net/napi.rs. */
#include <linux/netdevice.h>
#include <net/busy_poll.h>
#include <net/netdev_rx_queue.h>

#include "napi.h"

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
 * re-check on rebase: net/core/dev.c unregister_netdevice_many_notify()
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

/*
 * GRO appends other packets' fragments to a held skb's shared info. For a clone that info is
 * also the original's, and a local TCP sender keeps the original of every segment it sends
 * until it is acked: merging into it corrupted the sender's retransmit queue (kernel BUG in
 * skb_shift() on the next SACK, seen under make stress). A NIC never receives clones; a pair
 * device receives the sender's. So a clone first gets a head of its own; if that allocation
 * fails it skips GRO rather than being dropped.
 */
void rnet_napi_gro_receive_own(struct napi_struct *napi, struct sk_buff *skb)
{
	if (unlikely(skb_unclone(skb, GFP_ATOMIC))) {
		netif_receive_skb(skb);
		return;
	}
	napi_gro_receive(napi, skb);
}

/* Past GRO, as GRO hands on what it does not merge (gro_normal_one() marks it too). */
void rnet_napi_receive_skb(struct napi_struct *napi, struct sk_buff *skb)
{
	skb_mark_napi_id(skb, napi);
	netif_receive_skb(skb);
}

/*
 * Clears rx queue @index's link to @napi, if it is still that. A registered device needs
 * RTNL (netif_queue_set_napi() asserts it); one that is not (never registered, or gone) can
 * no longer be looked up, so the pointer is cleared directly.
 * re-check on rebase: net/core/dev.c netif_queue_set_napi()
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
