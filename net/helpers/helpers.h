/* SPDX-License-Identifier: GPL-2.0 */
/* The helpers' prototypes, for bindgen (net/bindings.h) and helpers.c. Sorted alphabetically. */
#ifndef RVETH_NET_HELPERS_H
#define RVETH_NET_HELPERS_H

#include "bottom_half.h"
#include "cpumask.h"
#include "gro.h"
#include "napi.h"
#include "net_namespace.h"
#include "netdevice.h"
#include "netlink.h"
#include "rcu.h"
#include "seq_file.h"
#include "skbuff.h"
#include "xdp.h"

#endif
