// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for bottom halves (linux/bottom_half.h), for net/bh.rs. */
#include <linux/bottom_half.h>

#include "bottom_half.h"

void rnet_local_bh_disable(void)
{
	local_bh_disable();
}

void rnet_local_bh_enable(void)
{
	local_bh_enable();
}
