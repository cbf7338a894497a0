// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline XDP/BPF kernel functions (see xdp.h). The skb <->
 * xdp_buff conversions follow drivers/net/veth.c (veth_convert_skb_to_xdp_buff,
 * veth_xdp_rcv_skb, veth_xdp_rcv_one) line for line, so their rules (headroom, copy into a
 * page_pool page, frags, metadata) stay veth's.
 * re-check on rebase: drivers/net/veth.c veth_convert_skb_to_xdp_buff(), veth_xdp_rcv_skb(),
 * veth_xdp_rcv_one(), veth_xdp_set(), veth_xdp_xmit()
 */
#include <linux/bpf.h>
#include <linux/bpf_trace.h>
#include <linux/filter.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/skbuff_ref.h>
#include <net/page_pool/helpers.h>
#include <net/xdp.h>

#include "xdp.h"

/* veth's VETH_XDP_HEADROOM: what a received frame keeps in front of its data. */
#define RNET_XDP_HEADROOM (XDP_PACKET_HEADROOM + NET_IP_ALIGN)

bool rnet_netdev_bpf_is_setup_prog(const struct netdev_bpf *bpf)
{
	return bpf->command == XDP_SETUP_PROG;
}

struct bpf_prog *rnet_netdev_bpf_prog(const struct netdev_bpf *bpf)
{
	return bpf->prog;
}

struct netlink_ext_ack *rnet_netdev_bpf_extack(const struct netdev_bpf *bpf)
{
	return bpf->extack;
}

void rnet_bpf_prog_inc(struct bpf_prog *prog)
{
	bpf_prog_inc(prog);
}

void rnet_bpf_prog_put(struct bpf_prog *prog)
{
	bpf_prog_put(prog);
}

bool rnet_bpf_prog_has_frags(const struct bpf_prog *prog)
{
	return prog->aux->xdp_has_frags;
}

u32 rnet_bpf_prog_id(const struct bpf_prog *prog)
{
	return prog->aux->id;
}

/*
 * Everything veth supports, and ndo_xdp_xmit always: a device whose NAPI always runs can take
 * redirected frames whether or not its peer has a program or GRO (veth cannot).
 */
void rnet_netdev_set_xdp_features(struct net_device *dev)
{
	dev->xdp_features = NETDEV_XDP_ACT_BASIC | NETDEV_XDP_ACT_REDIRECT |
			    NETDEV_XDP_ACT_RX_SG | NETDEV_XDP_ACT_NDO_XMIT |
			    NETDEV_XDP_ACT_NDO_XMIT_SG;
}

/* veth_xdp_set(): the largest MTU the peer may have for a program on this end. */
unsigned int rnet_xdp_max_mtu(const struct net_device *peer, bool frags)
{
	unsigned int max_mtu = SKB_WITH_OVERHEAD(PAGE_SIZE - RNET_XDP_HEADROOM) -
			       peer->hard_header_len;

	if (frags)
		max_mtu += PAGE_SIZE * MAX_SKB_FRAGS;
	return max_mtu;
}

struct page_pool *rnet_xdp_page_pool_create(struct net_device *dev, unsigned int size)
{
	struct page_pool_params pp_params = {
		.order = 0,
		.pool_size = size,
		.nid = NUMA_NO_NODE,
		.dev = &dev->dev,
	};

	return page_pool_create(&pp_params);
}

void rnet_page_pool_destroy(struct page_pool *pool)
{
	page_pool_destroy(pool);
}

int rnet_xdp_rxq_reg(struct xdp_rxq_info *rxq, struct net_device *dev, u32 index,
		     unsigned int napi_id)
{
	int err = xdp_rxq_info_reg(rxq, dev, index, napi_id);

	if (err < 0)
		return err;
	err = xdp_rxq_info_reg_mem_model(rxq, MEM_TYPE_PAGE_SHARED, NULL);
	if (err < 0)
		xdp_rxq_info_unreg(rxq);
	return err;
}

/* A frame's TX/redirect borrows rxq->mem (veth does too): restore the model registered. */
static void rnet_xdp_rxq_mem_reset(struct xdp_rxq_info *rxq)
{
	rxq->mem.type = MEM_TYPE_PAGE_SHARED;
	rxq->mem.id = 0;
}

void rnet_xdp_rxq_unreg(struct xdp_rxq_info *rxq)
{
	rnet_xdp_rxq_mem_reset(rxq);
	xdp_rxq_info_unreg(rxq);
}

/*
 * veth_convert_skb_to_xdp_buff(). Sets every field of @b (which may be uninitialised) on
 * success, none on failure. On success @b owns the packet (@skb or, when it had to be
 * copied, its copy: @skb is then freed); on failure @skb is still the caller's.
 */
int rnet_xdp_buff_from_skb(struct rnet_xdp_buff *b, struct sk_buff *skb,
			   struct xdp_rxq_info *rxq, struct page_pool *pool)
{
	struct xdp_buff *xdp = &b->xdp;
	u32 frame_sz;

	__skb_push(skb, skb->data - skb_mac_header(skb));
	if (skb_shared(skb) || skb_head_is_locked(skb) || skb_is_nonlinear(skb) ||
	    skb_headroom(skb) < XDP_PACKET_HEADROOM) {
		struct sk_buff *nskb = skb;

		if (skb_pp_cow_data(pool, &nskb, XDP_PACKET_HEADROOM))
			return -ENOMEM;
		skb = nskb;
	}

	/* The skb head always has tailroom for skb_shared_info. */
	frame_sz = skb_end_pointer(skb) - skb->head;
	frame_sz += SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	xdp_init_buff(xdp, frame_sz, rxq);
	xdp_prepare_buff(xdp, skb->head, skb_headroom(skb), skb_headlen(skb), true);
	if (skb_shinfo(skb)->nr_frags) {
		skb_shinfo(skb)->xdp_frags_size = skb->data_len;
		xdp_buff_set_frags_flag(xdp);
	} else {
		xdp_buff_clear_frags_flag(xdp);
	}
	xdp->txq = NULL;
	rnet_xdp_rxq_mem_reset(rxq);
	b->skb = skb;
	b->frame = NULL;
	b->orig_data = xdp->data;
	b->orig_data_end = xdp->data_end;
	return 0;
}

void rnet_xdp_buff_from_frame(struct rnet_xdp_buff *b, struct xdp_frame *frame,
			      struct xdp_rxq_info *rxq)
{
	xdp_convert_frame_to_buff(frame, &b->xdp);
	b->xdp.rxq = rxq;
	b->xdp.txq = NULL;
	b->skb = NULL;
	b->frame = frame;
	b->orig_data = b->xdp.data;
	b->orig_data_end = b->xdp.data_end;
}

u32 rnet_xdp_run(const struct bpf_prog *prog, struct rnet_xdp_buff *b)
{
	return bpf_prog_run_xdp(prog, &b->xdp);
}

/* XDP_PASS: the skb with the program's changes to head, tail and metadata (veth_xdp_rcv_skb). */
static struct sk_buff *rnet_xdp_pass_skb(struct rnet_xdp_buff *b, struct net_device *dev)
{
	struct xdp_buff *xdp = &b->xdp;
	struct sk_buff *skb = b->skb;
	u32 metalen;
	int off;

	off = b->orig_data - xdp->data;
	if (off > 0)
		__skb_push(skb, off);
	else if (off < 0)
		__skb_pull(skb, -off);
	skb_reset_mac_header(skb);

	/* Frags may have changed (bpf_xdp_adjust_tail): recount them. */
	skb->len -= skb->data_len;
	if (xdp_buff_has_frags(xdp)) {
		skb->data_len = skb_shinfo(skb)->xdp_frags_size;
		skb->len += skb->data_len;
	} else {
		skb->data_len = 0;
	}

	off = xdp->data_end - b->orig_data_end;
	if (off != 0) {
		skb_set_tail_pointer(skb, xdp->data_end - xdp->data);
		skb->len += off;
	}

	skb->protocol = eth_type_trans(skb, dev);
	metalen = xdp->data - xdp->data_meta;
	if (metalen)
		skb_metadata_set(skb, metalen);
	return skb;
}

/* XDP_PASS, or no program: an skb for the stack, NULL (everything freed) if none can be had. */
struct sk_buff *rnet_xdp_pass(struct rnet_xdp_buff *b, struct net_device *dev)
{
	struct xdp_frame *frame = b->frame;
	struct sk_buff *skb;

	if (b->skb)
		return rnet_xdp_pass_skb(b, dev);
	if (xdp_update_frame_from_buff(&b->xdp, frame)) {
		xdp_return_frame(frame);
		return NULL;
	}
	skb = xdp_build_skb_from_frame(frame, dev);
	if (!skb)
		xdp_return_frame(frame);
	return skb;
}

/* veth_xdp_get(): the pages outlive the skb they came in. */
static void rnet_xdp_get(struct xdp_buff *xdp)
{
	struct skb_shared_info *sinfo = xdp_get_shared_info_from_buff(xdp);
	int i;

	get_page(virt_to_page(xdp->data));
	if (likely(!xdp_buff_has_frags(xdp)))
		return;
	for (i = 0; i < sinfo->nr_frags; i++)
		__skb_frag_ref(&sinfo->frags[i]);
}

/* Hands the pages of an skb-built buffer over to the buffer itself. */
static void rnet_xdp_detach_skb(struct rnet_xdp_buff *b)
{
	rnet_xdp_get(&b->xdp);
	consume_skb(b->skb);
	b->skb = NULL;
	rnet_xdp_rxq_mem_reset(b->xdp.rxq);
}

/* XDP_TX: the buffer as a frame to transmit; NULL (everything freed) if it has no room. */
struct xdp_frame *rnet_xdp_to_frame(struct rnet_xdp_buff *b)
{
	struct xdp_frame *frame;

	if (b->skb) {
		rnet_xdp_detach_skb(b);
		frame = xdp_convert_buff_to_frame(&b->xdp);
		if (unlikely(!frame))
			xdp_return_buff(&b->xdp);
		return frame;
	}
	/* Same memory as b->frame; unchanged when the conversion fails. */
	b->xdp.rxq->mem = b->frame->mem;
	frame = xdp_convert_buff_to_frame(&b->xdp);
	if (unlikely(!frame))
		xdp_return_frame(b->frame);
	return frame;
}

/* XDP_REDIRECT: 0 if the target took the packet; otherwise everything is freed. */
int rnet_xdp_redirect(struct rnet_xdp_buff *b, struct net_device *dev, struct bpf_prog *prog)
{
	struct xdp_frame orig_frame;
	int err;

	if (b->skb) {
		rnet_xdp_detach_skb(b);
		err = xdp_do_redirect(dev, &b->xdp, prog);
		if (err)
			xdp_return_buff(&b->xdp);
		return err;
	}
	orig_frame = *b->frame;
	b->xdp.rxq->mem = b->frame->mem;
	err = xdp_do_redirect(dev, &b->xdp, prog);
	if (err)
		xdp_return_frame(&orig_frame);
	return err;
}

void rnet_xdp_free(struct rnet_xdp_buff *b)
{
	if (b->skb)
		kfree_skb(b->skb);
	else if (b->frame)
		xdp_return_frame(b->frame);
}

void rnet_xdp_exception(struct net_device *dev, const struct bpf_prog *prog, u32 act)
{
	trace_xdp_exception(dev, prog, act);
}

void rnet_xdp_warn_action(struct net_device *dev, struct bpf_prog *prog, u32 act)
{
	bpf_warn_invalid_xdp_action(dev, prog, act);
}

void rnet_xdp_poll_begin(void)
{
	xdp_set_return_frame_no_direct();
}

void rnet_xdp_poll_end(bool redirected)
{
	if (redirected)
		xdp_do_flush();
	xdp_clear_return_frame_no_direct();
}

/*
 * The skb behind the buffer a metadata kfunc was called on. The core calls a device's
 * xdp_metadata_ops only from programs bound to that device and run by its driver (no generic
 * mode, no maps, no test runs: dev_xdp_attach, bpf_prog_map_compatible, test_run), so `ctx`
 * is the xdp_buff rnet_xdp_run() ran them on, inside its rnet_xdp_buff (as veth_xdp_buff).
 */
const struct sk_buff *rnet_xdp_md_skb(const struct xdp_md *ctx)
{
	return container_of((const struct xdp_buff *)ctx, struct rnet_xdp_buff, xdp)->skb;
}

void rnet_netdev_set_xdp_metadata_ops(struct net_device *dev,
				      const struct xdp_metadata_ops *ops)
{
	dev->xdp_metadata_ops = ops;
}

unsigned int rnet_xdp_frame_len(const struct xdp_frame *frame)
{
	return xdp_get_frame_len(frame);
}

void rnet_xdp_return_frame(struct xdp_frame *frame)
{
	xdp_return_frame(frame);
}

struct sk_buff *rnet_xdp_frame_to_skb(struct xdp_frame *frame, struct net_device *dev)
{
	return xdp_build_skb_from_frame(frame, dev);
}

/* veth_xdp_xmit(): the largest frame the device's peer takes. */
unsigned int rnet_xdp_max_frame_len(const struct net_device *dev)
{
	return dev->mtu + dev->hard_header_len + VLAN_HLEN;
}

/* ndo_xdp_xmit runs with BH (so preemption) disabled: the CPU is stable for the call. */
u32 rnet_xdp_this_cpu(void)
{
	return smp_processor_id();
}
