/* SPDX-License-Identifier: GPL-2.0 */
/*
 * genl.h - generic netlink families: resolve a name through the nlctrl
 * family (id, version, multicast groups, which commands exist).
 */
#ifndef STRATA_GENL_H
#define STRATA_GENL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/genetlink.h>

#include "nlsock.h"

#define GENL_MAX_GROUPS 8
#define GENL_MAX_CMDS 64

struct genl_family_info {
	char name[GENL_NAMSIZ];
	uint16_t id;
	uint32_t version;
	unsigned int ngroups;
	struct {
		char name[GENL_NAMSIZ];
		uint32_t id;
	} groups[GENL_MAX_GROUPS];
	bool has_ops;			/* the kernel listed its commands */
	struct {
		bool present;
		uint32_t flags;		/* GENL_CMD_CAP_DO, _DUMP, ... */
	} ops[GENL_MAX_CMDS];
};

/*
 * Decode a CTRL_CMD_NEWFAMILY message (a reply or a notification) into
 * @info.  Returns 0, or -1 with errno EBADMSG and *why (malloc'ed) set.
 */
int genl_family_parse(const struct nlmsghdr *nlh, struct genl_family_info *info,
		      char **why);

/*
 * CTRL_CMD_GETFAMILY for @name.  Returns 0, or -1 with errno set (ENOENT:
 * no such family).
 */
int genl_get_family(struct nl_sock *s, const char *name,
		    struct genl_family_info *info);

/* The id of multicast group @name, 0 when the family has none by that name. */
uint32_t genl_group_id(const struct genl_family_info *info, const char *name);

/* Does the family have command @cmd with capability @cap (GENL_CMD_CAP_*)? */
bool genl_has_op(const struct genl_family_info *info, unsigned int cmd,
		 uint32_t cap);

#endif /* STRATA_GENL_H */
