/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for netlink attributes (net/netlink.h), for net/attr.rs. */
#ifndef RVETH_NET_HELPERS_NETLINK_H
#define RVETH_NET_HELPERS_NETLINK_H

#include <net/netlink.h>

struct nlattr *rnet_nla_nest_start(struct sk_buff *skb, int attrtype);
void rnet_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void rnet_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);

#endif
