/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for bottom halves (linux/bottom_half.h), for net/bh.rs. */
#ifndef RVETH_NET_HELPERS_BOTTOM_HALF_H
#define RVETH_NET_HELPERS_BOTTOM_HALF_H

void rnet_local_bh_disable(void);
void rnet_local_bh_enable(void);

#endif
