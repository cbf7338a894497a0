// SPDX-License-Identifier: GPL-2.0
/*
 * tc: records skb->hash (computed if not yet) of the last IPv4 UDP packet to port
 * config[0] in hash[0], and counts them in hash[1]; lets everything through.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

SEC("tc")
int skb_hash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 key = 0, *port;
	__u64 *p;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	port = bpf_map_lookup_elem(&config, &key);
	if (!port || bpf_ntohs(udp->dest) != *port)
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
