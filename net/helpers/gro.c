// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for GRO (net/gro.h and the protocols' GRO handlers). */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/ipv6.h>
#include <net/udp.h>

#include "gro.h"

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
