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

/* STRATA_CMD_BRANCH_ADD - do */
const struct nla_policy strata_branch_add_nl_policy[STRATA_A_BRANCH_OP_MODE + 1] = {
	[STRATA_A_BRANCH_OP_MOUNT_ID] = { .type = NLA_U32, },
	[STRATA_A_BRANCH_OP_MOUNT_FD] = { .type = NLA_S32, },
	[STRATA_A_BRANCH_OP_INDEX] = { .type = NLA_U32, },
	[STRATA_A_BRANCH_OP_PATH] = { .type = NLA_NUL_STRING, },
	[STRATA_A_BRANCH_OP_DIR_FD] = { .type = NLA_S32, },
	[STRATA_A_BRANCH_OP_MODE] = NLA_POLICY_MAX(NLA_U32, 2),
};

/* STRATA_CMD_BRANCH_DEL - do */
const struct nla_policy strata_branch_del_nl_policy[STRATA_A_BRANCH_OP_INDEX + 1] = {
	[STRATA_A_BRANCH_OP_MOUNT_ID] = { .type = NLA_U32, },
	[STRATA_A_BRANCH_OP_MOUNT_FD] = { .type = NLA_S32, },
	[STRATA_A_BRANCH_OP_INDEX] = { .type = NLA_U32, },
};

/* STRATA_CMD_BRANCH_SET - do */
const struct nla_policy strata_branch_set_nl_policy[STRATA_A_BRANCH_OP_MODE + 1] = {
	[STRATA_A_BRANCH_OP_MOUNT_ID] = { .type = NLA_U32, },
	[STRATA_A_BRANCH_OP_MOUNT_FD] = { .type = NLA_S32, },
	[STRATA_A_BRANCH_OP_INDEX] = { .type = NLA_U32, },
	[STRATA_A_BRANCH_OP_MODE] = NLA_POLICY_MAX(NLA_U32, 2),
};

/* Ops table for strata */
const struct genl_ops strata_nl_ops[4] = {
	{
		.cmd		= STRATA_CMD_MOUNT_GET,
		.doit		= strata_nl_mount_get_doit,
		.dumpit		= strata_nl_mount_get_dumpit,
		.policy		= strata_mount_get_nl_policy,
		.maxattr	= STRATA_A_MOUNT_FD,
	},
	{
		.cmd		= STRATA_CMD_BRANCH_ADD,
		.doit		= strata_nl_branch_add_doit,
		.policy		= strata_branch_add_nl_policy,
		.maxattr	= STRATA_A_BRANCH_OP_MODE,
	},
	{
		.cmd		= STRATA_CMD_BRANCH_DEL,
		.doit		= strata_nl_branch_del_doit,
		.policy		= strata_branch_del_nl_policy,
		.maxattr	= STRATA_A_BRANCH_OP_INDEX,
	},
	{
		.cmd		= STRATA_CMD_BRANCH_SET,
		.doit		= strata_nl_branch_set_doit,
		.policy		= strata_branch_set_nl_policy,
		.maxattr	= STRATA_A_BRANCH_OP_MODE,
	},
};

static const struct genl_multicast_group strata_nl_mcgrps[] = {
	[STRATA_NLGRP_MONITOR] = { "monitor", },
};
