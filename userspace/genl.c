// SPDX-License-Identifier: GPL-2.0
/*
 * genl.c - family resolution through the generic netlink controller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"
#include "nlattr.h"
#include "nlmsg.h"

static const struct nla_spec ctrl_spec[] = {
	[CTRL_ATTR_FAMILY_ID]	= { "family-id", MNL_TYPE_U16 },
	[CTRL_ATTR_FAMILY_NAME]	= { "family-name", MNL_TYPE_NUL_STRING },
	[CTRL_ATTR_VERSION]	= { "version", MNL_TYPE_U32 },
	[CTRL_ATTR_OPS]		= { "ops", MNL_TYPE_NESTED },
	[CTRL_ATTR_MCAST_GROUPS] = { "mcast-groups", MNL_TYPE_NESTED },
};

static const struct nla_spec op_spec[] = {
	[CTRL_ATTR_OP_ID]	= { "id", MNL_TYPE_U32 },
	[CTRL_ATTR_OP_FLAGS]	= { "flags", MNL_TYPE_U32 },
};

static const struct nla_spec grp_spec[] = {
	[CTRL_ATTR_MCAST_GRP_NAME] = { "name", MNL_TYPE_NUL_STRING },
	[CTRL_ATTR_MCAST_GRP_ID] = { "id", MNL_TYPE_U32 },
};

static void set_why(char **why, const char *text, const struct nla_table *t)
{
	if (why && !*why) {
		if (asprintf(why, "%s%s%s", text, t && t->why ? ": " : "",
			     t && t->why ? t->why : "") < 0)
			*why = NULL;
	}
}

/* The array nests of CTRL_ATTR_OPS: one nest per command. */
static int parse_ops(const struct nlattr *ops, struct genl_family_info *info,
		     char **why)
{
	const struct nlattr *op;

	info->has_ops = true;
	mnl_attr_for_each_nested(op, ops) {
		NLA_TABLE(t, "op", op_spec);
		uint32_t id;

		if (nla_parse_nested(op, &t) || !t.tb[CTRL_ATTR_OP_ID]) {
			set_why(why, "bad nlctrl operation", &t);
			nla_table_done(&t);
			return -1;
		}
		id = mnl_attr_get_u32(t.tb[CTRL_ATTR_OP_ID]);
		if (id < GENL_MAX_CMDS) {
			info->ops[id].present = true;
			if (t.tb[CTRL_ATTR_OP_FLAGS])
				info->ops[id].flags =
					mnl_attr_get_u32(t.tb[CTRL_ATTR_OP_FLAGS]);
		}
		nla_table_done(&t);
	}
	return 0;
}

static int parse_groups(const struct nlattr *grps, struct genl_family_info *info,
			char **why)
{
	const struct nlattr *g;

	mnl_attr_for_each_nested(g, grps) {
		NLA_TABLE(t, "mcast-group", grp_spec);

		if (nla_parse_nested(g, &t) || !t.tb[CTRL_ATTR_MCAST_GRP_NAME] ||
		    !t.tb[CTRL_ATTR_MCAST_GRP_ID]) {
			set_why(why, "bad nlctrl multicast group", &t);
			nla_table_done(&t);
			return -1;
		}
		if (info->ngroups < GENL_MAX_GROUPS) {
			snprintf(info->groups[info->ngroups].name, GENL_NAMSIZ, "%s",
				 mnl_attr_get_str(t.tb[CTRL_ATTR_MCAST_GRP_NAME]));
			info->groups[info->ngroups].id =
				mnl_attr_get_u32(t.tb[CTRL_ATTR_MCAST_GRP_ID]);
			info->ngroups++;
		}
		nla_table_done(&t);
	}
	return 0;
}

int genl_family_parse(const struct nlmsghdr *nlh, struct genl_family_info *info,
		      char **why)
{
	NLA_TABLE(t, "nlctrl", ctrl_spec);
	int ret = -1;

	memset(info, 0, sizeof(*info));
	if (nla_parse_msg(nlh, GENL_HDRLEN, &t)) {
		set_why(why, "bad nlctrl reply", &t);
		goto out;
	}
	if (!t.tb[CTRL_ATTR_FAMILY_ID] || !t.tb[CTRL_ATTR_FAMILY_NAME]) {
		set_why(why, "nlctrl reply without family id or name", NULL);
		goto out;
	}
	info->id = mnl_attr_get_u16(t.tb[CTRL_ATTR_FAMILY_ID]);
	snprintf(info->name, sizeof(info->name), "%s",
		 mnl_attr_get_str(t.tb[CTRL_ATTR_FAMILY_NAME]));
	if (t.tb[CTRL_ATTR_VERSION])
		info->version = mnl_attr_get_u32(t.tb[CTRL_ATTR_VERSION]);
	if (t.tb[CTRL_ATTR_OPS] && parse_ops(t.tb[CTRL_ATTR_OPS], info, why))
		goto out;
	if (t.tb[CTRL_ATTR_MCAST_GROUPS] &&
	    parse_groups(t.tb[CTRL_ATTR_MCAST_GROUPS], info, why))
		goto out;
	ret = 0;
out:
	nla_table_done(&t);
	if (ret)
		errno = EBADMSG;
	return ret;
}

struct get_family_ctx {
	struct genl_family_info *info;
	char *why;
	bool found;
};

static int get_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_family_ctx *c = data;

	if (nlh->nlmsg_type != GENL_ID_CTRL)
		return MNL_CB_OK;
	if (genl_family_parse(nlh, c->info, &c->why))
		return MNL_CB_ERROR;
	c->found = true;
	return MNL_CB_OK;
}

int genl_get_family(struct nl_sock *s, const char *name,
		    struct genl_family_info *info)
{
	struct get_family_ctx c = { .info = info };
	struct nlmsg_buf m = {};
	int ret = -1;

	genlmsg_start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
	if (nlmsg_put_strz(&m, CTRL_ATTR_FAMILY_NAME, name)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if (nl_transact(s, m.nlh, get_family_cb, &c))
		goto out;
	if (!c.found) {
		errno = ENOENT;
		goto out;
	}
	ret = 0;
out:
	if (c.why && s->debug)
		fprintf(stderr, "-- nlctrl: %s\n", c.why);
	free(c.why);
	nlmsg_free(&m);
	return ret;
}

uint32_t genl_group_id(const struct genl_family_info *info, const char *name)
{
	unsigned int i;

	for (i = 0; i < info->ngroups; i++)
		if (!strcmp(info->groups[i].name, name))
			return info->groups[i].id;
	return 0;
}

bool genl_has_op(const struct genl_family_info *info, unsigned int cmd,
		 uint32_t cap)
{
	if (!info->has_ops)
		return true;	/* nothing listed: assume, the kernel will say */
	if (cmd >= GENL_MAX_CMDS || !info->ops[cmd].present)
		return false;
	return !cap || (info->ops[cmd].flags & cap);
}
