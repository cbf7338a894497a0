// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline kernel functions and macros the net/
 * abstractions call: bindgen cannot bind them. One file per subsystem, as the kernel's
 * rust/helpers/; this file, the one object built, includes them.
 *
 * Sorted alphabetically.
 */

#include "bottom_half.c"
#include "cpumask.c"
#include "gro.c"
#include "napi.c"
#include "net_namespace.c"
#include "netdevice.c"
#include "netlink.c"
#include "rcu.c"
#include "seq_file.c"
#include "skbuff.c"
#include "xdp.c"
