/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for CPU masks (linux/cpumask.h). */
#ifndef RVETH_NET_HELPERS_CPUMASK_H
#define RVETH_NET_HELPERS_CPUMASK_H

unsigned int rnet_num_possible_cpus(void);

#endif
