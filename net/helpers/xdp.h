/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for the static inline XDP/BPF functions net/xdp.rs calls. */
#ifndef RVETH_NET_HELPERS_XDP_H
#define RVETH_NET_HELPERS_XDP_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/xdp.h>

struct page_pool;

/*
 * An xdp_buff and what it was built from (veth's veth_xdp_buff): the skb is what the metadata
 * kfuncs read; exactly one of skb and frame is set while the buffer owns its packet.
 */
struct rnet_xdp_buff {
	struct xdp_buff xdp;
	struct sk_buff *skb;
	struct xdp_frame *frame;
	void *orig_data;
	void *orig_data_end;
};

struct bpf_prog *rnet_netdev_bpf_prog(const struct netdev_bpf *bpf);
struct netlink_ext_ack *rnet_netdev_bpf_extack(const struct netdev_bpf *bpf);
bool rnet_netdev_bpf_is_setup_prog(const struct netdev_bpf *bpf);
void rnet_bpf_prog_inc(struct bpf_prog *prog);
void rnet_bpf_prog_put(struct bpf_prog *prog);
bool rnet_bpf_prog_has_frags(const struct bpf_prog *prog);
u32 rnet_bpf_prog_id(const struct bpf_prog *prog);
void rnet_netdev_set_xdp_features(struct net_device *dev);
unsigned int rnet_xdp_max_mtu(const struct net_device *peer, bool frags);

struct page_pool *rnet_xdp_page_pool_create(struct net_device *dev, unsigned int size);
void rnet_page_pool_destroy(struct page_pool *pool);
int rnet_xdp_rxq_reg(struct xdp_rxq_info *rxq, struct net_device *dev, u32 index,
		     unsigned int napi_id);
void rnet_xdp_rxq_unreg(struct xdp_rxq_info *rxq);

int rnet_xdp_buff_from_skb(struct rnet_xdp_buff *b, struct sk_buff *skb,
			   struct xdp_rxq_info *rxq, struct page_pool *pool);
void rnet_xdp_buff_from_frame(struct rnet_xdp_buff *b, struct xdp_frame *frame,
			      struct xdp_rxq_info *rxq);
u32 rnet_xdp_run(const struct bpf_prog *prog, struct rnet_xdp_buff *b);
struct sk_buff *rnet_xdp_pass(struct rnet_xdp_buff *b, struct net_device *dev);
struct xdp_frame *rnet_xdp_to_frame(struct rnet_xdp_buff *b);
int rnet_xdp_redirect(struct rnet_xdp_buff *b, struct net_device *dev,
		      struct bpf_prog *prog);
void rnet_xdp_free(struct rnet_xdp_buff *b);
void rnet_xdp_exception(struct net_device *dev, const struct bpf_prog *prog, u32 act);
void rnet_xdp_warn_action(struct net_device *dev, struct bpf_prog *prog, u32 act);
void rnet_xdp_poll_begin(void);
void rnet_xdp_poll_end(bool redirected);

const struct sk_buff *rnet_xdp_md_skb(const struct xdp_md *ctx);
void rnet_netdev_set_xdp_metadata_ops(struct net_device *dev,
				      const struct xdp_metadata_ops *ops);

unsigned int rnet_xdp_frame_len(const struct xdp_frame *frame);
void rnet_xdp_return_frame(struct xdp_frame *frame);
struct sk_buff *rnet_xdp_frame_to_skb(struct xdp_frame *frame, struct net_device *dev);
unsigned int rnet_xdp_max_frame_len(const struct net_device *dev);
u32 rnet_xdp_this_cpu(void);

#endif
