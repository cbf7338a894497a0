/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rveth netlink ABI: the attributes of IFLA_LINKINFO/IFLA_INFO_DATA for kind "rveth".
 * The one place these numbers are written: the driver reads this header through bindgen
 * (drivers/net/rveth/uapi.rs), the iproute2 plugin through bindgen in its build
 * (tools/link_rveth/build.rs), the selftests by parsing it (tests/lib/uapi.py).
 */
#ifndef _UAPI_LINUX_RVETH_H
#define _UAPI_LINUX_RVETH_H

#include <linux/types.h>

enum {
	IFLA_RVETH_UNSPEC,
	/* Nested, as veth's VETH_INFO_PEER: struct ifinfomsg, then IFLA_* attributes of the
	 * peer (IFLA_IFNAME, IFLA_ADDRESS, IFLA_MTU, IFLA_NET_NS_FD/PID, IFLA_NUM_*_QUEUES...).
	 * Only on creation. */
	IFLA_RVETH_PEER,
	/* Nested list of IFLA_RVETH_GUARD_PREFIX: the source guard of this device. On newlink
	 * and changelink; an empty nest turns the guard off; absent on changelink = unchanged.
	 * fill_info always reports it (empty when off). */
	IFLA_RVETH_GUARD,
	/* Same format as IFLA_RVETH_GUARD, for the peer; only on creation (change the peer's
	 * guard later with changelink on the peer itself). */
	IFLA_RVETH_PEER_GUARD,
	__IFLA_RVETH_MAX
};
#define IFLA_RVETH_MAX (__IFLA_RVETH_MAX - 1)

enum {
	IFLA_RVETH_GUARD_UNSPEC,
	IFLA_RVETH_GUARD_PREFIX,	/* struct rveth_prefix */
	__IFLA_RVETH_GUARD_MAX
};

/* One allowed source prefix. Rejected (EINVAL + extack message): a family other than
 * AF_INET/AF_INET6, prefixlen above 32/128, host bits set beyond prefixlen, non-zero pad or
 * unused address bytes, a payload that is not exactly sizeof(struct rveth_prefix), more
 * than RVETH_GUARD_MAX entries. A rejected request leaves the old list in place. */
struct rveth_prefix {
	__u8 family;		/* AF_INET (2) or AF_INET6 (10) */
	__u8 prefixlen;		/* 0..32 or 0..128 */
	__u8 pad[2];		/* zero */
	__u8 addr[16];		/* network byte order; IPv4 in addr[0..3], the rest zero */
};

#define RVETH_GUARD_MAX 64

/*
 * What a guarded device lets in (packets its peer sent; netfilter NF_NETDEV_INGRESS hook,
 * so it holds before a bridge or the IP layer sees the packet, and before conntrack):
 *  - IPv4 whose source address lies in an allowed IPv4 prefix;
 *  - ARP (Ethernet/IPv4) whose sender protocol address lies in an allowed IPv4 prefix
 *    (0.0.0.0 is let through as sender of an ARP probe, RFC 5227);
 *  - IPv6 whose source lies in an allowed IPv6 prefix. Link-local sources (fe80::/10) pass
 *    only when a listed prefix covers them. The unspecified source :: passes only for
 *    duplicate address detection: ICMPv6 Neighbour Solicitation, and MLDv2 Reports (RFC 3810
 *    5.2.13), possibly behind a hop-by-hop options header;
 *  - nothing else: other EtherTypes (VLAN-tagged frames included) are dropped.
 * Drops are counted per device (ethtool -S: guard_drop_ipv4/ipv6/arp/other) and per network
 * namespace (/proc/net/rveth).
 */

#endif /* _UAPI_LINUX_RVETH_H */
