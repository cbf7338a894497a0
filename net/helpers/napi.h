/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for NAPI contexts (linux/netdevice.h), for net/napi.rs. */
#ifndef RVETH_NET_HELPERS_NAPI_H
#define RVETH_NET_HELPERS_NAPI_H

#include <linux/netdevice.h>

void rnet_netif_napi_del(struct napi_struct *napi);
bool rnet_napi_del_unregistering(struct napi_struct *napi);
struct net_device *rnet_napi_dev(const struct napi_struct *napi);
void rnet_napi_gro_receive_own(struct napi_struct *napi, struct sk_buff *skb);
void rnet_napi_receive_skb(struct napi_struct *napi, struct sk_buff *skb);
void rnet_rxq_clear_napi(struct napi_struct *napi, unsigned int index);

#endif
