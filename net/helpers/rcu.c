// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for RCU read-side sections (linux/rcupdate.h), for net/rcu.rs. */
#include <linux/rcupdate.h>

#include "rcu.h"

void rnet_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rnet_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

/* Frees @ptr (kmalloc'ed or vmalloc'ed) after a grace period; process context. */
void rnet_kvfree_rcu_mightsleep(void *ptr)
{
	kvfree_rcu_mightsleep(ptr);
}
