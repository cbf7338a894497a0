// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers for CPU masks (linux/cpumask.h). */
#include <linux/cpumask.h>

#include "cpumask.h"

unsigned int rnet_num_possible_cpus(void)
{
	return num_possible_cpus();
}
