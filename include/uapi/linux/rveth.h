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
	/* Nested IFLA_RVETH_GUARD_MAC_MODE/_MAC/_DHCP/_TUNNELS: the guard's options. On newlink
	 * and changelink; an absent option keeps its value (defaults: peer, dhcp on, tunnels
	 * off). fill_info always reports all of them (_MAC unless the mode is any). */
	IFLA_RVETH_GUARD_OPTS,
	/* Same format as IFLA_RVETH_GUARD_OPTS, for the peer; only on creation. */
	IFLA_RVETH_PEER_GUARD_OPTS,
	__IFLA_RVETH_MAX
};
#define IFLA_RVETH_MAX (__IFLA_RVETH_MAX - 1)

enum {
	IFLA_RVETH_GUARD_UNSPEC,
	IFLA_RVETH_GUARD_PREFIX,	/* struct rveth_prefix */
	IFLA_RVETH_GUARD_DENY,		/* flag: guarded with no prefix; not with prefixes */
	__IFLA_RVETH_GUARD_MAX
};

enum {
	IFLA_RVETH_GUARD_OPT_UNSPEC,
	IFLA_RVETH_GUARD_MAC_MODE,	/* u8, enum rveth_guard_mac_mode */
	IFLA_RVETH_GUARD_MAC,		/* 6 bytes, unicast: the bound MAC (implies mode fixed) */
	IFLA_RVETH_GUARD_DHCP,		/* u8 0/1: DHCPv4/DHCPv6 client messages allowed */
	IFLA_RVETH_GUARD_TUNNELS,	/* u8 0/1: IPIP, 6in4/sit, GRE allowed */
	__IFLA_RVETH_GUARD_OPT_MAX
};

enum rveth_guard_mac_mode {
	RVETH_GUARD_MAC_PEER,	/* the peer's address when the guard is set (re-read on every
				 * guard change) */
	RVETH_GUARD_MAC_FIXED,	/* IFLA_RVETH_GUARD_MAC */
	RVETH_GUARD_MAC_ANY,	/* any unicast source; ARP/ND/DHCP must repeat it */
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
 * The guard (port security) on what a device receives from its peer: a netfilter
 * NF_NETDEV_INGRESS hook on the device, after generic XDP, packet taps and tc ingress, before
 * a bridge, the IP layer and conntrack. It is on when a list or DENY is set. Then every frame:
 *  - Ethernet source = the bound MAC (never multicast or zero); VLAN-tagged frames dropped;
 *  - ARP: Ethernet/IPv4, request or reply, sender MAC = bound MAC, sender IP owned or
 *    0.0.0.0 (RFC 5227 probe); RARP dropped;
 *  - IPv4: source owned; DHCPv4 client messages (UDP 68->67, BOOTREQUEST, chaddr = bound
 *    MAC, from 0.0.0.0 to 255.255.255.255 or from an owned address) pass when DHCP is on;
 *    anything from or to the DHCP server/client ports otherwise is dropped;
 *  - IPv6: source owned, where the EUI-64 link-local address of the bound MAC is owned
 *    implicitly; from :: only DAD (NS to the target's solicited-node group, no source
 *    link-layer option), RS without a source link-layer option, and MLDv2 reports;
 *    NS/RS from an owned address; NA from an owned address for an owned target; every
 *    source/target link-layer option must carry the bound MAC; fragmented ND dropped;
 *    RA and Redirect always dropped; DHCPv6 client messages (link-local:546 ->
 *    ff02::1:2:547) pass when DHCP is on; server and relay messages are dropped;
 *  - IPIP, IPv6-in-IP (sit/6in4) and GRE are dropped unless tunnels are on;
 *  - anything else (other EtherTypes) is dropped.
 * Drops are counted per class (mac, arp, nd, ra, dhcp, tunnel, ipv4, ipv6, other) per device
 * (ethtool -S guard_drop_<class>) and per network namespace (/proc/net/rveth); the kernel
 * reports them as SKB_DROP_REASON_NETFILTER_DROP.
 * A device whose guard hook cannot be registered is not created (newlink fails) and does
 * not come up (open fails): the guard fails closed.
 */

#endif /* _UAPI_LINUX_RVETH_H */
