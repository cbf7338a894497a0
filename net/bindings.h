/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel headers the net/ abstractions bind to; bindgen reads this file. */
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/skbuff.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <net/rtnetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/gro.h>
#include <net/netdev_queues.h>
#include <linux/netfilter_netdev.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/if_ether.h>
#include <linux/socket.h>
#include <kunit/test.h>
#include "helpers/helpers.h"
