// SPDX-License-Identifier: GPL-2.0
/*
 * XDP: redirects every packet into the AF_XDP socket of its receive queue (xsks[rx queue
 * index]); a queue without a socket in the map passes (bpf_redirect_map's fallback action).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
