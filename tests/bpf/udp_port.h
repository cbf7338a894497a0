/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the programs watching one IPv4 UDP flow share: the port they watch (config[0], set by
 * the test) and the test for a frame of that flow.
 */
#ifndef RVETH_TESTS_BPF_UDP_PORT_H
#define RVETH_TESTS_BPF_UDP_PORT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

/* Whether the Ethernet frame in [data, data_end) is IPv4 UDP (no IP options) to config[0]. */
static __always_inline int is_watched_udp(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 key = 0, *port;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return 0;
	port = bpf_map_lookup_elem(&config, &key);
	return port && bpf_ntohs(udp->dest) == *port;
}

#endif
