/* SPDX-License-Identifier: GPL-2.0 */
/* Out-of-line wrappers for seq_file (linux/seq_file_net.h), for net/proc.rs. */
#ifndef RVETH_NET_HELPERS_SEQ_FILE_H
#define RVETH_NET_HELPERS_SEQ_FILE_H

#include <linux/seq_file.h>

struct net *rnet_seq_file_single_net(struct seq_file *seq);

#endif
