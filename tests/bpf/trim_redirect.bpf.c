// SPDX-License-Identifier: GPL-2.0
/*
 * tc egress of an L3 device: cuts every packet to config[1] bytes and redirects it, as is,
 * to the egress of the device in config[0]. A packet socket cannot send less than an
 * Ethernet header on netkit (min_header_len 14): this makes the headless runt that act_mirred
 * or a tunnel could hand to a pair, to check it is dropped, never parsed.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

SEC("tc")
int trim_redirect(struct __sk_buff *skb)
{
	__u32 k0 = 0, k1 = 1;
	__u32 *ifindex = bpf_map_lookup_elem(&config, &k0);
	__u32 *len = bpf_map_lookup_elem(&config, &k1);

	if (!ifindex || !*ifindex || !len)
		return TC_ACT_OK;
	if (bpf_skb_change_tail(skb, *len, 0))
		return TC_ACT_SHOT;
	return bpf_redirect(*ifindex, 0);
}

char _license[] SEC("license") = "GPL";
