// SPDX-License-Identifier: GPL-2.0
/*
 * XDP, device-bound: reads the metadata kfuncs (rx hash, timestamp, VLAN tag) of every IPv4
 * UDP packet to port config[0] and keeps the last answers in `meta` (index: enum slot);
 * passes everything. A companion tc program (skb_hash.bpf.c) records the hash the stack
 * then sees, to compare.
 */
#include "udp_port.h"

/* include/net/xdp.h (not uapi); the kfuncs' prototypes are checked against vmlinux BTF. */
enum xdp_rss_hash_type {
	XDP_RSS_TYPE_NONE = 0,
};

extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

enum slot {
	SEEN,		/* packets matched */
	HASH_RET,	/* the kfuncs' return values, as s64 */
	HASH,
	RSS_TYPE,
	TS_RET,
	TS,
	VLAN_RET,
	VLAN_PROTO,	/* host order */
	VLAN_TCI,
	SLOTS,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} meta SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
	__u64 *p = bpf_map_lookup_elem(&meta, &slot);

	if (p)
		*p = value;
}

SEC("xdp")
int xdp_metadata(struct xdp_md *ctx)
{
	enum xdp_rss_hash_type rss_type = 0;
	__u16 tci = 0;
	__be16 proto = 0;
	__u64 ts = 0;
	__u32 hash = 0, key;
	__u64 *seen;
	int ret;

	if (!is_watched_udp((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;

	ret = bpf_xdp_metadata_rx_hash(ctx, &hash, &rss_type);
	put(HASH_RET, (__s64)ret);
	put(HASH, hash);
	put(RSS_TYPE, rss_type);
	ret = bpf_xdp_metadata_rx_timestamp(ctx, &ts);
	put(TS_RET, (__s64)ret);
	put(TS, ts);
	ret = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
	put(VLAN_RET, (__s64)ret);
	put(VLAN_PROTO, bpf_ntohs(proto));
	put(VLAN_TCI, tci);
	key = SEEN;
	seen = bpf_map_lookup_elem(&meta, &key);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
