// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/strata.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "genl.h"

#include <uapi/linux/strata.h>

/* STRATA_CMD_MOUNT_GET - do */
const struct nla_policy strata_mount_get_nl_policy[STRATA_A_MOUNT_FD + 1] = {
	[STRATA_A_MOUNT_ID] = { .type = NLA_U32, },
	[STRATA_A_MOUNT_FD] = { .type = NLA_S32, },
};

/* Ops table for strata */
const struct genl_ops strata_nl_ops[1] = {
	{
		.cmd		= STRATA_CMD_MOUNT_GET,
		.doit		= strata_nl_mount_get_doit,
		.dumpit		= strata_nl_mount_get_dumpit,
		.policy		= strata_mount_get_nl_policy,
		.maxattr	= STRATA_A_MOUNT_FD,
	},
};

static const struct genl_multicast_group strata_nl_mcgrps[] = {
	[STRATA_NLGRP_MONITOR] = { "monitor", },
};
