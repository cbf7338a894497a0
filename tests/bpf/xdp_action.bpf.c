// SPDX-License-Identifier: GPL-2.0
/*
 * XDP: returns the action in config[0] minus one (0, the default, passes), for every packet.
 * XDP_TX swaps the MAC addresses first (the frame goes back to its sender); XDP_REDIRECT
 * goes to the device in devmap[0].
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} devmap SEC(".maps");

static __always_inline void swap_macs(struct ethhdr *eth)
{
	unsigned char tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

SEC("xdp")
int xdp_action(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 key = 0;
	__u32 *act = bpf_map_lookup_elem(&config, &key);

	if (!act || *act == 0)
		return XDP_PASS;
	switch (*act - 1) {
	case XDP_TX:
		if ((void *)(eth + 1) > data_end)
			return XDP_ABORTED;
		swap_macs(eth);
		return XDP_TX;
	case XDP_REDIRECT:
		return bpf_redirect_map(&devmap, 0, 0);
	default:
		return *act - 1;
	}
}

char _license[] SEC("license") = "GPL";
