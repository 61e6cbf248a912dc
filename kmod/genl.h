/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/strata.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_STRATA_GEN_H
#define _LINUX_STRATA_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/strata.h>

extern const struct nla_policy strata_mount_get_nl_policy[STRATA_A_MOUNT_FD + 1];

extern const struct nla_policy strata_branch_add_nl_policy[STRATA_A_BRANCH_OP_MODE + 1];

extern const struct nla_policy strata_branch_del_nl_policy[STRATA_A_BRANCH_OP_INDEX + 1];

extern const struct nla_policy strata_branch_set_nl_policy[STRATA_A_BRANCH_OP_MODE + 1];

/* Ops table for strata */
extern const struct genl_ops strata_nl_ops[4];

int strata_nl_mount_get_doit(struct sk_buff *skb, struct genl_info *info);
int strata_nl_mount_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int strata_nl_branch_add_doit(struct sk_buff *skb, struct genl_info *info);
int strata_nl_branch_del_doit(struct sk_buff *skb, struct genl_info *info);
int strata_nl_branch_set_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	STRATA_NLGRP_MONITOR,
};

#endif /* _LINUX_STRATA_GEN_H */
