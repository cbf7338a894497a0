/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for socket buffers (linux/skbuff.h), for net/skbuff.rs. */
#ifndef RVETH_NET_HELPERS_SKBUFF_H
#define RVETH_NET_HELPERS_SKBUFF_H

#include <linux/skbuff.h>

/* Where skb->protocol is: Rust reads it without a call (bindgen names its struct group). */
enum { RNET_SKB_PROTOCOL_OFFSET = offsetof(struct sk_buff, protocol) };

void rnet_kfree_skb(struct sk_buff *skb);
struct sk_buff *rnet_alloc_skb_kernel(unsigned int size);
void rnet_consume_skb(struct sk_buff *skb);
const void *rnet_skb_header_pointer(const struct sk_buff *skb, int offset, int len,
				    void *buffer);
u16 rnet_skb_protocol(const struct sk_buff *skb);
bool rnet_skb_vlan_tag_present(const struct sk_buff *skb);
const void *rnet_skb_eth_frame(const struct sk_buff *skb, void *buf, unsigned int max,
			       unsigned int *len);
void rnet_kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason);
enum skb_drop_reason rnet_pskb_may_pull_reason(struct sk_buff *skb, unsigned int len);
void rnet_skb_tx_timestamp(struct sk_buff *skb);
u32 rnet_skb_get_hash(const struct sk_buff *skb, bool *l4);
u64 rnet_skb_hw_timestamp(const struct sk_buff *skb);
bool rnet_skb_vlan_tag(const struct sk_buff *skb, u16 *proto, u16 *tci);

#endif
