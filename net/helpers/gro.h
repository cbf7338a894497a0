/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for GRO (net/gro.h and the protocols' GRO handlers). */
#ifndef RVETH_NET_HELPERS_GRO_H
#define RVETH_NET_HELPERS_GRO_H

#include <linux/skbuff.h>

bool rnet_skb_gro_passes_through(const struct sk_buff *skb);

#endif
