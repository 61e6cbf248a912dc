// SPDX-License-Identifier: GPL-2.0
/*
 * strata_nl.c - requests to and replies from the strata netlink family.
 *
 * A union with more branches than one message holds arrives in several
 * messages with the same id: the first carries everything, the next ones
 * the head again and more branches.  Parsing therefore merges by id and
 * only the final check (strata_mount_list_finish) decides whether every
 * branch arrived exactly once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kmod.h"
#include "nlattr.h"
#include "strata_nl.h"
#include "util.h"

static const struct nla_spec mount_spec[] = {
	[STRATA_A_MOUNT_ID]		= { "id", MNL_TYPE_U32 },
	[STRATA_A_MOUNT_FD]		= { "fd", MNL_TYPE_U32 },
	[STRATA_A_MOUNT_MOUNTPOINT]	= { "mountpoint", MNL_TYPE_NUL_STRING },
	[STRATA_A_MOUNT_DEV]		= { "dev", MNL_TYPE_U32 },
	[STRATA_A_MOUNT_OPTIONS]	= { "options", MNL_TYPE_NUL_STRING },
	[STRATA_A_MOUNT_WHITEOUT]	= { "whiteout", MNL_TYPE_U32 },
	[STRATA_A_MOUNT_READONLY]	= { "readonly", MNL_TYPE_FLAG },
	[STRATA_A_MOUNT_BRANCH]		= { "branch", MNL_TYPE_NESTED, true },
	[STRATA_A_MOUNT_COUNTERS]	= { "counters", MNL_TYPE_NESTED },
};

static const struct nla_spec branch_spec[] = {
	[STRATA_A_BRANCH_INDEX]		= { "index", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_PATH]		= { "path", MNL_TYPE_NUL_STRING },
	[STRATA_A_BRANCH_MODE]		= { "mode", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_FSTYPE]	= { "fstype", MNL_TYPE_NUL_STRING },
};

static const struct nla_spec counters_spec[] = {
	[STRATA_A_COUNTERS_LOOKUPS]	= { "lookups", MNL_TYPE_U64 },
	[STRATA_A_COUNTERS_COPY_UPS]	= { "copy-ups", MNL_TYPE_U64 },
	[STRATA_A_COUNTERS_COPY_BYTES]	= { "copy-bytes", MNL_TYPE_U64 },
	[STRATA_A_COUNTERS_WHITEOUTS]	= { "whiteouts", MNL_TYPE_U64 },
	[STRATA_A_COUNTERS_BRANCH_CHANGES] = { "branch-changes", MNL_TYPE_U64 },
};

static const struct nla_spec copy_up_spec[] = {
	[STRATA_A_COPY_UP_MOUNT_ID]	= { "mount-id", MNL_TYPE_U32 },
	[STRATA_A_COPY_UP_PATH]		= { "path", MNL_TYPE_NUL_STRING },
	[STRATA_A_COPY_UP_SIZE]		= { "size", MNL_TYPE_U64 },
	[STRATA_A_COPY_UP_DURATION_NS]	= { "duration-ns", MNL_TYPE_U64 },
};

static const struct nla_spec branch_op_spec[] = {
	[STRATA_A_BRANCH_OP_MOUNT_ID]	= { "mount-id", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_OP_MOUNT_FD]	= { "mount-fd", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_OP_INDEX]	= { "index", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_OP_PATH]	= { "path", MNL_TYPE_NUL_STRING },
	[STRATA_A_BRANCH_OP_DIR_FD]	= { "dir-fd", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_OP_MODE]	= { "mode", MNL_TYPE_U32 },
	[STRATA_A_BRANCH_OP_CHANGE]	= { "change", MNL_TYPE_U32 },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *strata_mode_name(uint32_t mode)
{
	switch (mode) {
	case STRATA_BRANCH_MODE_RW: return "rw";
	case STRATA_BRANCH_MODE_RO: return "ro";
	case STRATA_BRANCH_MODE_RR: return "rr";
	}
	return "?";
}

int strata_mode_parse(const char *s, uint32_t *mode)
{
	uint32_t i;

	for (i = STRATA_BRANCH_MODE_RW; i <= STRATA_BRANCH_MODE_RR; i++) {
		if (!strcmp(s, strata_mode_name(i))) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

const char *strata_change_name(uint32_t change)
{
	switch (change) {
	case STRATA_BRANCH_CHANGE_ADD: return "add";
	case STRATA_BRANCH_CHANGE_DEL: return "del";
	case STRATA_BRANCH_CHANGE_SET: return "set";
	}
	return "?";
}

const char *strata_whiteout_name(uint32_t whiteout)
{
	switch (whiteout) {
	case STRATA_WHITEOUT_FORMAT_AUFS: return "aufs";
	case STRATA_WHITEOUT_FORMAT_OVERLAY: return "overlay";
	}
	return "?";
}

static int fail(char **why, const struct nla_table *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set *why (first problem wins) from @fmt and t->why; errno EBADMSG. */
static int fail(char **why, const struct nla_table *t, const char *fmt, ...)
{
	char *head;
	va_list ap;

	if (why && !*why) {
		va_start(ap, fmt);
		if (vasprintf(&head, fmt, ap) < 0)
			head = NULL;
		va_end(ap);
		if (head && t && t->why) {
			*why = xasprintf("%s: %s", head, t->why);
			free(head);
		} else {
			*why = head;
		}
	}
	errno = EBADMSG;
	return -1;
}

/* ---- requests ---- */

static struct nlmsghdr *start(struct nlmsg_buf *m, uint16_t family,
			      uint16_t flags)
{
	return genlmsg_start(m, family, STRATA_CMD_MOUNT_GET,
			     STRATA_FAMILY_VERSION, NLM_F_ACK | flags);
}

struct nlmsghdr *strata_req_get_fd(struct nlmsg_buf *m, uint16_t family, int fd)
{
	start(m, family, 0);
	return nlmsg_put_s32(m, STRATA_A_MOUNT_FD, fd) ? NULL : m->nlh;
}

struct nlmsghdr *strata_req_get_id(struct nlmsg_buf *m, uint16_t family, uint32_t id)
{
	start(m, family, 0);
	return nlmsg_put_u32(m, STRATA_A_MOUNT_ID, id) ? NULL : m->nlh;
}

struct nlmsghdr *strata_req_dump(struct nlmsg_buf *m, uint16_t family)
{
	return start(m, family, NLM_F_DUMP);
}

static bool is_branch_cmd(uint8_t cmd)
{
	return cmd == STRATA_CMD_BRANCH_ADD || cmd == STRATA_CMD_BRANCH_DEL ||
	       cmd == STRATA_CMD_BRANCH_SET;
}

struct nlmsghdr *strata_req_branch(struct nlmsg_buf *m, uint16_t family,
				   const struct strata_branch_req *r)
{
	bool add = r->cmd == STRATA_CMD_BRANCH_ADD;
	bool fail;

	/* Refuse here what the kernel would only refuse with EINVAL. */
	if (!is_branch_cmd(r->cmd) ||
	    (add && !r->path == (r->dir_fd < 0)) ||
	    (!add && !r->has_index) ||
	    (r->cmd == STRATA_CMD_BRANCH_SET && !r->has_mode)) {
		errno = EINVAL;
		return NULL;
	}
	genlmsg_start(m, family, r->cmd, STRATA_FAMILY_VERSION, NLM_F_ACK);
	if (r->mount_fd >= 0)
		fail = nlmsg_put_s32(m, STRATA_A_BRANCH_OP_MOUNT_FD, r->mount_fd);
	else
		fail = nlmsg_put_u32(m, STRATA_A_BRANCH_OP_MOUNT_ID, r->mount_id);
	if (!fail && r->has_index)
		fail = nlmsg_put_u32(m, STRATA_A_BRANCH_OP_INDEX, r->index);
	if (!fail && add && r->path)
		fail = nlmsg_put_strz(m, STRATA_A_BRANCH_OP_PATH, r->path);
	else if (!fail && add)
		fail = nlmsg_put_s32(m, STRATA_A_BRANCH_OP_DIR_FD, r->dir_fd);
	if (!fail && r->has_mode)
		fail = nlmsg_put_u32(m, STRATA_A_BRANCH_OP_MODE, r->mode);
	if (fail) {
		errno = ENOMEM;
		return NULL;
	}
	return m->nlh;
}

const char *strata_req_attr_name(const struct nlmsghdr *req, uint32_t offs)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(req);
	const struct nla_spec *spec = mount_spec;
	size_t n = ARRAY_LEN(mount_spec);
	const struct nlattr *a;
	unsigned int type;

	if (mnl_nlmsg_get_payload_len(req) < GENL_HDRLEN)
		return NULL;
	/* The attribute set follows from the command. */
	if (is_branch_cmd(g->cmd)) {
		spec = branch_op_spec;
		n = ARRAY_LEN(branch_op_spec);
	}
	mnl_attr_for_each(a, req, GENL_HDRLEN) {
		if ((uint32_t)((const char *)a - (const char *)req) != offs)
			continue;
		type = mnl_attr_get_type(a);
		return type < n ? spec[type].name : NULL;
	}
	return NULL;
}

/* ---- replies ---- */

struct strata_mount_info *strata_mount_find(struct strata_mount_list *l, uint32_t id)
{
	size_t i;

	/* A continued mount is nearly always the last one added. */
	for (i = l->n; i-- > 0;)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

static struct strata_mount_info *mount_add(struct strata_mount_list *l, uint32_t id)
{
	struct strata_mount_info *m;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	m = &l->v[l->n++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	return m;
}

static int parse_branch(const struct nlattr *nest, struct strata_mount_info *m,
			char **why)
{
	NLA_TABLE(t, "branch", branch_spec);
	struct strata_branch_info *b;
	int ret;

	if (nla_parse_nested(nest, &t)) {
		ret = fail(why, &t, "union %u", m->id);
		goto out;
	}
	if (!t.tb[STRATA_A_BRANCH_INDEX] || !t.tb[STRATA_A_BRANCH_PATH] ||
	    !t.tb[STRATA_A_BRANCH_MODE]) {
		ret = fail(why, NULL, "union %u: branch without index, path or mode",
			   m->id);
		goto out;
	}
	if (m->nbr == m->brcap) {
		m->brcap = m->brcap ? 2 * m->brcap : 8;
		m->br = xrealloc(m->br, m->brcap * sizeof(*m->br));
	}
	b = &m->br[m->nbr++];
	b->index = mnl_attr_get_u32(t.tb[STRATA_A_BRANCH_INDEX]);
	b->mode = mnl_attr_get_u32(t.tb[STRATA_A_BRANCH_MODE]);
	b->path = xstrdup(mnl_attr_get_str(t.tb[STRATA_A_BRANCH_PATH]));
	b->fstype = t.tb[STRATA_A_BRANCH_FSTYPE] ?
		xstrdup(mnl_attr_get_str(t.tb[STRATA_A_BRANCH_FSTYPE])) : NULL;
	ret = 0;
out:
	nla_table_done(&t);
	return ret;
}

static int parse_counters(const struct nlattr *nest, struct strata_mount_info *m,
			  char **why)
{
	NLA_TABLE(t, "counters", counters_spec);
	struct strata_counters *c = &m->counters;
	const struct nlattr **tb = t_tb;

	if (nla_parse_nested(nest, &t)) {
		fail(why, &t, "union %u", m->id);
		nla_table_done(&t);
		return -1;
	}
#define U64(attr) (tb[attr] ? mnl_attr_get_u64(tb[attr]) : 0)
	c->lookups = U64(STRATA_A_COUNTERS_LOOKUPS);
	c->copy_ups = U64(STRATA_A_COUNTERS_COPY_UPS);
	c->copy_bytes = U64(STRATA_A_COUNTERS_COPY_BYTES);
	c->whiteouts = U64(STRATA_A_COUNTERS_WHITEOUTS);
	c->branch_changes = U64(STRATA_A_COUNTERS_BRANCH_CHANGES);
#undef U64
	m->has_counters = true;
	return 0;
}

int strata_mount_parse(const struct nlmsghdr *nlh, struct strata_mount_list *l,
		       char **why)
{
	NLA_TABLE(t, "mount", mount_spec);
	const struct nlattr **tb = t_tb;
	struct strata_mount_info *m;
	const struct nlattr *a;
	int ret = -1;
	uint32_t id;

	if (nla_parse_msg(nlh, GENL_HDRLEN, &t)) {
		fail(why, &t, "mount message");
		goto out;
	}
	if (!tb[STRATA_A_MOUNT_ID]) {
		fail(why, NULL, "mount message without an id");
		goto out;
	}
	id = mnl_attr_get_u32(tb[STRATA_A_MOUNT_ID]);
	m = strata_mount_find(l, id);
	if (!m) {
		if (!tb[STRATA_A_MOUNT_DEV]) {
			fail(why, NULL, "union %u: no device number", id);
			goto out;
		}
		m = mount_add(l, id);
	}
	if (tb[STRATA_A_MOUNT_DEV])
		m->dev = mnl_attr_get_u32(tb[STRATA_A_MOUNT_DEV]);
	if (tb[STRATA_A_MOUNT_MOUNTPOINT] && !m->mountpoint)
		m->mountpoint = xstrdup(mnl_attr_get_str(tb[STRATA_A_MOUNT_MOUNTPOINT]));
	if (tb[STRATA_A_MOUNT_OPTIONS] && !m->options)
		m->options = xstrdup(mnl_attr_get_str(tb[STRATA_A_MOUNT_OPTIONS]));
	if (tb[STRATA_A_MOUNT_WHITEOUT])
		m->whiteout = mnl_attr_get_u32(tb[STRATA_A_MOUNT_WHITEOUT]);
	m->readonly = tb[STRATA_A_MOUNT_READONLY] != NULL;
	if (tb[STRATA_A_MOUNT_COUNTERS] &&
	    parse_counters(tb[STRATA_A_MOUNT_COUNTERS], m, why))
		goto out;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == STRATA_A_MOUNT_BRANCH &&
		    parse_branch(a, m, why))
			goto out;
	}
	ret = 0;
out:
	nla_table_done(&t);
	return ret;
}

static int cmp_branch(const void *a, const void *b)
{
	const struct strata_branch_info *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_mount(const void *a, const void *b)
{
	const struct strata_mount_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int strata_mount_list_finish(struct strata_mount_list *l, char **why)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		struct strata_mount_info *m = &l->v[i];

		qsort(m->br, m->nbr, sizeof(*m->br), cmp_branch);
		for (j = 0; j < m->nbr; j++) {
			if (m->br[j].index == j)
				continue;
			if (m->br[j].index < j)
				return fail(why, NULL, "union %u: branch %u listed twice",
					    m->id, m->br[j].index);
			return fail(why, NULL, "union %u: branch %zu missing",
				    m->id, j);
		}
	}
	qsort(l->v, l->n, sizeof(*l->v), cmp_mount);
	return 0;
}

static void mount_free(struct strata_mount_info *m)
{
	size_t i;

	for (i = 0; i < m->nbr; i++) {
		free(m->br[i].path);
		free(m->br[i].fstype);
	}
	free(m->br);
	free(m->mountpoint);
	free(m->options);
}

void strata_mount_list_free(struct strata_mount_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		mount_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int strata_copy_up_parse(const struct nlmsghdr *nlh, struct strata_copy_up_info *ev,
			 char **why)
{
	NLA_TABLE(t, "copy-up", copy_up_spec);
	const struct nlattr **tb = t_tb;
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (nla_parse_msg(nlh, GENL_HDRLEN, &t)) {
		fail(why, &t, "copy-up event");
		goto out;
	}
	if (!tb[STRATA_A_COPY_UP_MOUNT_ID] || !tb[STRATA_A_COPY_UP_PATH]) {
		fail(why, NULL, "copy-up event without mount id or path");
		goto out;
	}
	ev->mount_id = mnl_attr_get_u32(tb[STRATA_A_COPY_UP_MOUNT_ID]);
	ev->path = xstrdup(mnl_attr_get_str(tb[STRATA_A_COPY_UP_PATH]));
	if (tb[STRATA_A_COPY_UP_SIZE])
		ev->size = mnl_attr_get_u64(tb[STRATA_A_COPY_UP_SIZE]);
	if (tb[STRATA_A_COPY_UP_DURATION_NS])
		ev->duration_ns = mnl_attr_get_u64(tb[STRATA_A_COPY_UP_DURATION_NS]);
	ret = 0;
out:
	nla_table_done(&t);
	return ret;
}

void strata_copy_up_free(struct strata_copy_up_info *ev)
{
	free(ev->path);
	ev->path = NULL;
}

int strata_branch_change_parse(const struct nlmsghdr *nlh,
			       struct strata_branch_change_info *ev, char **why)
{
	NLA_TABLE(t, "branch-op", branch_op_spec);
	const struct nlattr **tb = t_tb;
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (nla_parse_msg(nlh, GENL_HDRLEN, &t)) {
		fail(why, &t, "branch-change event");
		goto out;
	}
	if (!tb[STRATA_A_BRANCH_OP_MOUNT_ID] || !tb[STRATA_A_BRANCH_OP_CHANGE] ||
	    !tb[STRATA_A_BRANCH_OP_INDEX] || !tb[STRATA_A_BRANCH_OP_PATH]) {
		fail(why, NULL,
		     "branch-change event without mount id, change, index or path");
		goto out;
	}
	ev->mount_id = mnl_attr_get_u32(tb[STRATA_A_BRANCH_OP_MOUNT_ID]);
	ev->change = mnl_attr_get_u32(tb[STRATA_A_BRANCH_OP_CHANGE]);
	ev->index = mnl_attr_get_u32(tb[STRATA_A_BRANCH_OP_INDEX]);
	ev->path = xstrdup(mnl_attr_get_str(tb[STRATA_A_BRANCH_OP_PATH]));
	if (tb[STRATA_A_BRANCH_OP_MODE]) {
		ev->has_mode = true;
		ev->mode = mnl_attr_get_u32(tb[STRATA_A_BRANCH_OP_MODE]);
	}
	ret = 0;
out:
	nla_table_done(&t);
	return ret;
}

void strata_branch_change_free(struct strata_branch_change_info *ev)
{
	free(ev->path);
	ev->path = NULL;
}

int strata_mount_del_parse(const struct nlmsghdr *nlh, uint32_t *id, char **why)
{
	NLA_TABLE(t, "mount", mount_spec);
	int ret = -1;

	if (nla_parse_msg(nlh, GENL_HDRLEN, &t)) {
		fail(why, &t, "umount event");
		goto out;
	}
	if (!t.tb[STRATA_A_MOUNT_ID]) {
		fail(why, NULL, "umount event without an id");
		goto out;
	}
	*id = mnl_attr_get_u32(t.tb[STRATA_A_MOUNT_ID]);
	ret = 0;
out:
	nla_table_done(&t);
	return ret;
}

/* ---- the client ---- */

#define FAMILY_OBJECT "netlink family " STRATA_FAMILY_NAME

static struct strata_nl *client_new(int rcvbuf)
{
	struct strata_nl *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = nl_sock_open(NETLINK_GENERIC, rcvbuf);
	if (!c->s) {
		free(c);
		return NULL;
	}
	return c;
}

struct strata_nl *strata_nl_try_open(int rcvbuf)
{
	struct strata_nl *c = client_new(rcvbuf);
	int saved;

	if (!c)
		return NULL;
	if (genl_get_family(c->s, STRATA_FAMILY_NAME, &c->fam)) {
		saved = errno;
		strata_nl_close(c);
		errno = saved;
		return NULL;
	}
	return c;
}

struct strata_nl *strata_nl_open(const struct strata_nl_opts *o)
{
	struct strata_nl *c = client_new(o->rcvbuf);

	if (!c) {
		err_errno("netlink socket", errno);
		return NULL;
	}
	if (!genl_get_family(c->s, STRATA_FAMILY_NAME, &c->fam))
		goto found;
	if (errno != ENOENT) {
		err_errno(FAMILY_OBJECT, errno);
		goto fail;
	}
	if (!o->load) {
		err_msg(FAMILY_OBJECT, "not registered (the strata module is not loaded)");
		goto fail;
	}
	/* The filesystem without the family: a module without the channel. */
	if (fs_is_registered("strata") == 1) {
		err_msg(FAMILY_OBJECT, "not registered, but the strata filesystem is: "
			"the loaded module has no control channel (too old?)");
		goto fail;
	}
	if (module_load(o->module))
		goto fail;
	if (genl_get_family(c->s, STRATA_FAMILY_NAME, &c->fam)) {
		err_msg(FAMILY_OBJECT, "not registered after loading the module: %s",
			strerror(errno));
		goto fail;
	}
found:
	if (!genl_has_op(&c->fam, STRATA_CMD_MOUNT_GET, 0)) {
		err_msg(FAMILY_OBJECT, "the module does not offer mount-get");
		goto fail;
	}
	return c;
fail:
	strata_nl_close(c);
	return NULL;
}

void strata_nl_close(struct strata_nl *c)
{
	if (!c)
		return;
	nl_sock_close(c->s);
	nlmsg_free(&c->req);
	free(c->why);
	free(c);
}

struct mount_cb_ctx {
	struct strata_nl *c;
	struct strata_mount_list *l;
};

static int mount_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mount_cb_ctx *x = data;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != x->c->fam.id ||
	    mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN ||
	    g->cmd != STRATA_CMD_MOUNT_GET)
		return MNL_CB_OK;
	return strata_mount_parse(nlh, x->l, &x->c->why) ? MNL_CB_ERROR : MNL_CB_OK;
}

static int run(struct strata_nl *c, struct nlmsghdr *req,
	       struct strata_mount_list *l)
{
	struct mount_cb_ctx x = { .c = c, .l = l };

	free(c->why);
	c->why = NULL;
	if (!req) {
		errno = ENOMEM;
		return -1;
	}
	return nl_transact(c->s, req, mount_cb, &x);
}

/*
 * The kernel truncates a single reply that would be too large and says so
 * in a warning: then the dump, which has no such limit, supplies the
 * branches.
 */
static int complete_from_dump(struct strata_nl *c, struct strata_mount_list *l)
{
	struct strata_mount_list all = {};
	struct strata_mount_info *m, *d;
	struct strata_branch_info *br;
	size_t i, nbr, cap;

	if (!l->n || !c->s->ack.msg[0])
		return 0;
	if (run(c, strata_req_dump(&c->req, c->fam.id), &all))
		goto fail;
	for (i = 0; i < l->n; i++) {
		m = &l->v[i];
		d = strata_mount_find(&all, m->id);
		if (!d)
			continue;	/* unmounted meanwhile: keep what we have */
		/* Take the dump's branch array, which is complete. */
		br = m->br;
		nbr = m->nbr;
		cap = m->brcap;
		m->br = d->br;
		m->nbr = d->nbr;
		m->brcap = d->brcap;
		d->br = br;
		d->nbr = nbr;
		d->brcap = cap;
	}
	strata_mount_list_free(&all);
	return 0;
fail:
	strata_mount_list_free(&all);
	return -1;
}

/*
 * The union of @fd out of a dump, matched by device number: for when the
 * single reply is unusable.  Returns 0 when found.
 */
static int by_fd_from_dump(struct strata_nl *c, int fd, struct strata_mount_list *l)
{
	struct strata_mount_list all = {};
	struct strata_mount_info *m;
	struct stat st;
	size_t i;

	if (fstat(fd, &st) || strata_dump(c, &all))
		goto fail;
	for (i = 0; i < all.n; i++) {
		m = &all.v[i];
		if (major(m->dev) != major(st.st_dev) || minor(m->dev) != minor(st.st_dev))
			continue;
		strata_mount_list_free(l);
		/* Move the one union over; the rest is freed with the list. */
		l->v = xmalloc(sizeof(*l->v));
		l->v[0] = *m;
		l->n = l->cap = 1;
		all.v[i] = all.v[--all.n];
		strata_mount_list_free(&all);
		return 0;
	}
fail:
	strata_mount_list_free(&all);
	return -1;
}

int strata_get_by_fd(struct strata_nl *c, int fd, struct strata_mount_list *l)
{
	char *why;

	if (run(c, strata_req_get_fd(&c->req, c->fam.id, fd), l) ||
	    complete_from_dump(c, l) || strata_mount_list_finish(l, &c->why)) {
		if (errno != EBADMSG)
			return -1;
		/*
		 * Some kernels garble the single reply of a union whose
		 * options exceed what one attribute holds (64 KiB); the dump
		 * leaves them out instead.  Say what was wrong if that fails.
		 */
		why = c->why;
		c->why = NULL;
		if (by_fd_from_dump(c, fd, l)) {
			free(c->why);
			c->why = why;
			errno = EBADMSG;
			return -1;
		}
		free(why);
	}
	return 0;
}

int strata_get_by_id(struct strata_nl *c, uint32_t id, struct strata_mount_list *l)
{
	if (run(c, strata_req_get_id(&c->req, c->fam.id, id), l) ||
	    complete_from_dump(c, l))
		return -1;
	return strata_mount_list_finish(l, &c->why);
}

int strata_dump(struct strata_nl *c, struct strata_mount_list *l)
{
	if (run(c, strata_req_dump(&c->req, c->fam.id), l))
		return -1;
	return strata_mount_list_finish(l, &c->why);
}

int strata_branch_op(struct strata_nl *c, const struct strata_branch_req *r)
{
	struct nlmsghdr *req;

	free(c->why);
	c->why = NULL;
	memset(&c->s->ack, 0, sizeof(c->s->ack));
	if (!genl_has_op(&c->fam, r->cmd, GENL_CMD_CAP_DO)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	req = strata_req_branch(&c->req, c->fam.id, r);
	if (!req)
		return -1;
	/* A do without a reply: only the ACK comes back. */
	return nl_transact(c->s, req, NULL, NULL);
}

const char *strata_nl_strerror(struct strata_nl *c, int err, char *buf, size_t len)
{
	const struct nl_ext_ack *ack = &c->s->ack;
	const char *attr = NULL;
	size_t n;

	if (err == EBADMSG && c->why) {
		snprintf(buf, len, "malformed reply from the kernel: %s", c->why);
		return buf;
	}
	n = snprintf(buf, len, "%s", strerror(err));
	if (ack->error != err || n >= len)
		return buf;
	if (ack->has_offs && c->req.nlh)
		attr = strata_req_attr_name(c->req.nlh, ack->offs);
	if (ack->msg[0] && attr)
		snprintf(buf + n, len - n, " (kernel: %s, attribute %s)", ack->msg, attr);
	else if (ack->msg[0])
		snprintf(buf + n, len - n, " (kernel: %s)", ack->msg);
	else if (attr)
		snprintf(buf + n, len - n, " (attribute %s)", attr);
	return buf;
}
