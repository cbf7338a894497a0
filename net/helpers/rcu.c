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
