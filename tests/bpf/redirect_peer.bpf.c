// SPDX-License-Identifier: GPL-2.0
/*
 * tc ingress: hands every packet to the peer of the device in config[0] with
 * bpf_redirect_peer(), as Cilium's host routing does. The peer must be in another network
 * namespace; the redirect fails (TC_ACT_SHOT) if the device has no ndo_get_peer_dev.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

SEC("tc")
int redirect_peer(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u32 *ifindex = bpf_map_lookup_elem(&config, &key);

	if (!ifindex || !*ifindex)
		return TC_ACT_OK;
	return bpf_redirect_peer(*ifindex, 0);
}

char _license[] SEC("license") = "GPL";
