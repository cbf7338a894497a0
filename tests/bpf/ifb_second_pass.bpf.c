// SPDX-License-Identifier: GPL-2.0
/*
 * tc egress (direct action) on the container end for the IFB bypass test: a packet IFB
 * re-injects (skb_iif = the IFB's ifindex) is let go with no action run, so it keeps IFB's
 * tc_skip_classify mark; everything else falls through to the next filter (the mirred
 * redirect to the IFB).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#ifndef IFB_IFINDEX
#define IFB_IFINDEX 4242
#endif

SEC("tc")
int ifb_second_pass(struct __sk_buff *skb)
{
	return skb->ingress_ifindex == IFB_IFINDEX ? TC_ACT_OK : TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
