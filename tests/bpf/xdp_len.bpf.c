// SPDX-License-Identifier: GPL-2.0
/*
 * XDP with multi-buffer support (xdp.frags): passes everything and records, for IPv4 frames,
 * how many it saw (lens[0]) and the longest, all buffers counted (lens[1]).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} lens SEC(".maps");

SEC("xdp.frags")
int xdp_len(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 seen = 0, longest = 1;
	__u64 len = bpf_xdp_get_buff_len(ctx);
	__u64 *count, *max;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	count = bpf_map_lookup_elem(&lens, &seen);
	max = bpf_map_lookup_elem(&lens, &longest);
	if (!count || !max)
		return XDP_PASS;
	__sync_fetch_and_add(count, 1);
	if (len > *max)
		*max = len;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
