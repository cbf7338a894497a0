// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for netlink attributes (net/netlink.h), for net/attr.rs. */
#include <net/netlink.h>

#include "netlink.h"

struct nlattr *rnet_nla_nest_start(struct sk_buff *skb, int attrtype)
{
	return nla_nest_start_noflag(skb, attrtype);
}

void rnet_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void rnet_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}
