/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for RCU read-side sections (linux/rcupdate.h), for net/rcu.rs. */
#ifndef RVETH_NET_HELPERS_RCU_H
#define RVETH_NET_HELPERS_RCU_H

void rnet_rcu_read_lock(void);
void rnet_rcu_read_unlock(void);
void rnet_kvfree_rcu_mightsleep(void *ptr);

#endif
