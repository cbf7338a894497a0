// SPDX-License-Identifier: GPL-2.0
/*
 * tc: records skb->hash (computed if not yet) of the last IPv4 UDP packet to port
 * config[0] in hash[0], and counts them in hash[1]; lets everything through.
 */
#include <linux/pkt_cls.h>
#include "udp_port.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

SEC("tc")
int skb_hash(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *p;

	if (!is_watched_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	p = bpf_map_lookup_elem(&hash, &key);
	if (p)
		*p = bpf_get_hash_recalc(skb);
	key = 1;
	p = bpf_map_lookup_elem(&hash, &key);
	if (p)
		__sync_fetch_and_add(p, 1);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
