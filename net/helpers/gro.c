// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for GRO (net/gro.h and the protocols' GRO handlers), for net/gro.rs. */
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/udp.h>

#include "gro.h"

/*
 * Whether udp4_gro_receive() may merge a UDP datagram @skb received on skb->dev: for a socket
 * that asked for UDP GRO or encapsulation, looked up only once such a socket exists (the
 * static key), or on a device with rx-gro-list or rx-udp-gro-forwarding. Otherwise GRO hands
 * it on unmerged.
 * re-check on rebase: net/ipv4/udp_offload.c udp4_gro_receive(), udp_gro_receive()
 */
bool rnet_udp4_gro_may_merge(const struct sk_buff *skb)
{
	return (skb->dev->features & (NETIF_F_GRO_FRAGLIST | NETIF_F_GRO_UDP_FWD)) ||
	       static_branch_unlikely(&udp_encap_needed_key);
}

/*
 * The same for udp6_gro_receive().
 * re-check on rebase: net/ipv6/udp_offload.c udp6_gro_receive(), net/ipv4/udp_offload.c
 * udp_gro_receive()
 */
bool rnet_udp6_gro_may_merge(const struct sk_buff *skb)
{
	return (skb->dev->features & (NETIF_F_GRO_FRAGLIST | NETIF_F_GRO_UDP_FWD)) ||
	       static_branch_unlikely(&udpv6_encap_needed_key);
}
