/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for GRO (net/gro.h and the protocols' GRO handlers), for net/gro.rs. */
#ifndef RVETH_NET_HELPERS_GRO_H
#define RVETH_NET_HELPERS_GRO_H

#include <linux/skbuff.h>

bool rnet_udp4_gro_may_merge(const struct sk_buff *skb);
bool rnet_udp6_gro_may_merge(const struct sk_buff *skb);

#endif
