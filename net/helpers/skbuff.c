// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for socket buffers (linux/skbuff.h), for net/skbuff.rs. */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/skbuff.h>

#include "skbuff.h"

void rnet_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

struct sk_buff *rnet_alloc_skb_kernel(unsigned int size)
{
	return alloc_skb(size, GFP_KERNEL);
}

/* consume_skb() is static inline without CONFIG_TRACEPOINTS (the bench kernel). */
void rnet_consume_skb(struct sk_buff *skb)
{
	consume_skb(skb);
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

/* The flow hash (computed now if the stack has none yet) and whether it covers L4 ports. */
u32 rnet_skb_get_hash(const struct sk_buff *skb, bool *l4)
{
	/* skb_get_hash() only fills skb->hash and its flags: the caller holds the skb alone. */
	u32 hash = skb_get_hash((struct sk_buff *)skb);

	*l4 = skb->l4_hash;
	return hash;
}

u64 rnet_skb_hw_timestamp(const struct sk_buff *skb)
{
	return ktime_to_ns(skb_hwtstamps((struct sk_buff *)skb)->hwtstamp);
}

/* The out-of-band VLAN tag: protocol in host order; false if there is none. */
bool rnet_skb_vlan_tag(const struct sk_buff *skb, u16 *proto, u16 *tci)
{
	if (__vlan_hwaccel_get_tag(skb, tci))
		return false;
	*proto = ntohs(skb->vlan_proto);
	return true;
}
