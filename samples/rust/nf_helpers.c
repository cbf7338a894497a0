// SPDX-License-Identifier: GPL-2.0
/* The net/ C helpers, compiled into the sample module too (each module needs its own copy). */
#include "../../net/helpers/helpers.c"
