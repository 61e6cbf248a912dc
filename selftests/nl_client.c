// SPDX-License-Identifier: GPL-2.0
/*
 * nl_client.c - see nl_client.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl_client.h"
#include "../uapi/linux/strata.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

void reply_free(struct reply *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int nlsk_open(struct nlsk *s, int rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -1;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &len) ||
	    setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one))) {
		close(s->fd);
		return -1;
	}
	/* Large doit replies must fit next to their ACK (root only). */
	if (rcvbuf)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	s->portid = sa.nl_pid;
	s->cap = 65536;
	s->buf = malloc(s->cap);
	return s->buf ? 0 : -1;
}

void nlsk_close(struct nlsk *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	s->fd = -1;
	s->buf = NULL;
}

/* One datagram, whatever its size.  Returns its length or -errno. */
ssize_t nlsk_recv(struct nlsk *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	ssize_t n;

	if (timeout_ms >= 0) {
		n = poll(&p, 1, timeout_ms);
		if (n <= 0)
			return n ? -errno : -ETIMEDOUT;
	}
	n = recv(s->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n < 0)
		return -errno;
	if ((size_t)n > s->cap) {
		s->buf = realloc(s->buf, n);
		if (!s->buf)
			return -ENOMEM;
		s->cap = n;
	}
	n = recv(s->fd, s->buf, s->cap, 0);
	return n < 0 ? -errno : n;
}

/* Attributes in @len bytes at @p into tb[0..max]; -1 if malformed. */
int attrs(const void *p, size_t len, const struct nlattr **tb, int max)
{
	const char *c = p;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)c;
		size_t step;
		int type;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -1;
		type = a->nla_type & NLA_TYPE_MASK;
		if (type <= max && !tb[type])
			tb[type] = a;
		step = NLA_ALIGN(a->nla_len);
		if (step > len)
			step = len;
		c += step;
		len -= step;
	}
	return len ? -1 : 0;
}

const void *pl(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

size_t plen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

bool is_u32(const struct nlattr *a)
{
	return a && plen(a) == 4;
}

bool is_u64(const struct nlattr *a)
{
	return a && plen(a) == 8;
}

uint32_t u32_of(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, pl(a), 4);
	return v;
}

uint64_t u64_of(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, pl(a), 8);
	return v;
}

/* A string attribute: NUL-terminated, exactly one NUL. */
const char *str_of(const struct nlattr *a)
{
	const char *s = pl(a);

	if (!a || !plen(a) || s[plen(a) - 1] || strlen(s) != plen(a) - 1)
		return NULL;
	return s;
}

/*
 * Walk @len bytes of attributes at @p (checked with attrs() first):
 * for (a = first(p, len, &rem); a; a = next(a, &rem)).
 */
const struct nlattr *next(const struct nlattr *a, size_t *rem)
{
	size_t step = NLA_ALIGN(a->nla_len);

	if (step >= *rem)
		return NULL;
	*rem -= step;
	a = (const void *)((const char *)a + step);
	return *rem >= NLA_HDRLEN ? a : NULL;
}

const struct nlattr *first(const void *p, size_t len, size_t *rem)
{
	*rem = len;
	return len >= NLA_HDRLEN ? p : NULL;
}

/* Genl attributes of @nlh into tb; -1 if malformed. */
int msg_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb, int max)
{
	size_t hl = NLMSG_HDRLEN + GENL_HDRLEN;

	if (nlh->nlmsg_len < hl)
		return -1;
	return attrs((const char *)nlh + hl, nlh->nlmsg_len - hl, tb, max);
}

void parse_ack(const struct nlmsghdr *nlh, struct reply *r)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off, len = nlh->nlmsg_len - NLMSG_HDRLEN;
	const char *p = NLMSG_DATA(nlh);
	int err;

	memcpy(&err, p, sizeof(err));
	r->error = err < 0 ? -err : 0;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		off = sizeof(int);
	} else {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off > len ||
	    attrs(p + off, len - off, tb, NLMSGERR_ATTR_MAX))
		return;
	if (tb[NLMSGERR_ATTR_MSG] && str_of(tb[NLMSGERR_ATTR_MSG])) {
		size_t n = plen(tb[NLMSGERR_ATTR_MSG]);

		if (n > sizeof(r->msg))
			n = sizeof(r->msg);
		memcpy(r->msg, pl(tb[NLMSGERR_ATTR_MSG]), n);
		r->msg[n - 1] = 0;
	}
	if (is_u32(tb[NLMSGERR_ATTR_OFFS])) {
		r->has_offs = true;
		r->offs = u32_of(tb[NLMSGERR_ATTR_OFFS]);
	}
}

void req_init(struct req *q, uint16_t family, uint8_t cmd, uint16_t flags)
{
	memset(q, 0, sizeof(*q));
	q->h.nlmsg_type = family;
	q->h.nlmsg_flags = NLM_F_REQUEST | flags;
	q->g.cmd = cmd;
	q->g.version = STRATA_FAMILY_VERSION;
}

/* Append an attribute; its offset in the message is returned. */
uint32_t req_put(struct req *q, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
	uint32_t off = NLMSG_HDRLEN + GENL_HDRLEN + q->alen;

	memcpy(q->attrs + q->alen, &a, sizeof(a));
	memcpy(q->attrs + q->alen + NLA_HDRLEN, data, len);
	q->alen += NLA_ALIGN(NLA_HDRLEN + len);
	return off;
}

/*
 * Send @q and collect the replies until the ACK, NLMSG_DONE or an error.
 * Returns 0 when the exchange completed (r->error holds the kernel's
 * verdict), or -errno when the socket failed.
 */
int transact(struct nlsk *s, struct req *q, struct reply *r)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	uint32_t seq = ++s->seq;

	memset(r, 0, sizeof(*r));
	q->h.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + q->alen;
	q->h.nlmsg_seq = seq;
	if (sendto(s->fd, q, q->h.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nlsk_recv(s, 30000);
		struct nlmsghdr *nlh;

		if (n < 0) {
			/* The ACK after a reply larger than the buffer is dropped. */
			if (n == -ENOBUFS && r->n && !(q->h.nlmsg_flags & NLM_F_DUMP))
				return 0;
			return n;
		}
		r->datagrams++;
		for (nlh = (void *)s->buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
				parse_ack(nlh, r);
				return 0;
			}
			r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
			r->v[r->n] = malloc(nlh->nlmsg_len);
			memcpy(r->v[r->n++], nlh, nlh->nlmsg_len);
		}
	}
}

int resolve(struct nlsk *s, struct family *f)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *in[CTRL_ATTR_MAX + 1];
	const struct nlattr *a;
	struct reply r;
	struct req q;
	size_t rem;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	req_init(&q, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	req_put(&q, CTRL_ATTR_FAMILY_NAME, STRATA_FAMILY_NAME, sizeof(STRATA_FAMILY_NAME));
	if (transact(s, &q, &r) || r.error || r.n != 1 ||
	    msg_attrs(r.v[0], tb, CTRL_ATTR_MAX) || !tb[CTRL_ATTR_FAMILY_ID])
		goto out;
	memcpy(&f->id, pl(tb[CTRL_ATTR_FAMILY_ID]), 2);
	if (is_u32(tb[CTRL_ATTR_VERSION]))
		f->version = u32_of(tb[CTRL_ATTR_VERSION]);
	a = tb[CTRL_ATTR_MCAST_GROUPS];
	if (a && attrs(pl(a), plen(a), in, 0))
		goto out;
	for (a = a ? first(pl(a), plen(a), &rem) : NULL; a; a = next(a, &rem)) {
		if (attrs(pl(a), plen(a), in, CTRL_ATTR_MAX))
			goto out;
		if (str_of(in[CTRL_ATTR_MCAST_GRP_NAME]) &&
		    !strcmp(str_of(in[CTRL_ATTR_MCAST_GRP_NAME]), STRATA_MCGRP_MONITOR) &&
		    is_u32(in[CTRL_ATTR_MCAST_GRP_ID]))
			f->monitor = u32_of(in[CTRL_ATTR_MCAST_GRP_ID]);
	}
	a = tb[CTRL_ATTR_OPS];
	if (a && attrs(pl(a), plen(a), in, 0))
		goto out;
	for (a = a ? first(pl(a), plen(a), &rem) : NULL; a; a = next(a, &rem)) {
		if (attrs(pl(a), plen(a), in, CTRL_ATTR_MAX))
			goto out;
		if (is_u32(in[CTRL_ATTR_OP_ID]) &&
		    u32_of(in[CTRL_ATTR_OP_ID]) == STRATA_CMD_MOUNT_GET) {
			f->has_get = true;
			if (is_u32(in[CTRL_ATTR_OP_FLAGS]))
				f->get_flags = u32_of(in[CTRL_ATTR_OP_FLAGS]);
		}
	}
	ret = 0;
out:
	reply_free(&r);
	return ret;
}

void mounts_free(struct mounts *ms)
{
	int i, j;

	for (i = 0; i < ms->n; i++) {
		for (j = 0; j < ms->v[i].nbr; j++) {
			free(ms->v[i].br[j].path);
			free(ms->v[i].br[j].fstype);
		}
		free(ms->v[i].br);
		free(ms->v[i].mountpoint);
		free(ms->v[i].options);
	}
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}

struct mount *mounts_find(struct mounts *ms, uint32_t id)
{
	int i;

	for (i = 0; i < ms->n; i++)
		if (ms->v[i].id == id)
			return &ms->v[i];
	return NULL;
}

int bad(struct mounts *ms, const char *fmt, ...)
{
	va_list ap;

	if (!ms->why[0]) {
		va_start(ap, fmt);
		vsnprintf(ms->why, sizeof(ms->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* One mount-get message (or mount-new event) merged into @ms by id. */
int parse_mount(const struct nlmsghdr *nlh, struct mounts *ms)
{
	const struct nlattr *tb[STRATA_A_MOUNT_MAX + 1], *c[STRATA_A_COUNTERS_MAX + 1];
	const struct nlattr *b[STRATA_A_BRANCH_MAX + 1];
	size_t hl = NLMSG_HDRLEN + GENL_HDRLEN, rem;
	const struct nlattr *a;
	struct mount *m;
	uint32_t id;

	if (msg_attrs(nlh, tb, STRATA_A_MOUNT_MAX))
		return bad(ms, "malformed attributes in a mount message");
	if (!is_u32(tb[STRATA_A_MOUNT_ID]) || !is_u32(tb[STRATA_A_MOUNT_DEV]))
		return bad(ms, "mount message without u32 id and dev");
	id = u32_of(tb[STRATA_A_MOUNT_ID]);
	m = mounts_find(ms, id);
	if (!m) {
		ms->v = realloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
		m = &ms->v[ms->n++];
		memset(m, 0, sizeof(*m));
		m->id = id;
	}
	m->messages++;
	m->dev = u32_of(tb[STRATA_A_MOUNT_DEV]);
	if (tb[STRATA_A_MOUNT_MOUNTPOINT]) {
		if (!str_of(tb[STRATA_A_MOUNT_MOUNTPOINT]))
			return bad(ms, "union %u: bad mountpoint string", id);
		m->has_mountpoint = true;
		free(m->mountpoint);
		m->mountpoint = strdup(str_of(tb[STRATA_A_MOUNT_MOUNTPOINT]));
	}
	if (tb[STRATA_A_MOUNT_OPTIONS]) {
		if (!str_of(tb[STRATA_A_MOUNT_OPTIONS]))
			return bad(ms, "union %u: bad options string", id);
		if (m->has_options)
			return bad(ms, "union %u: options sent twice", id);
		m->has_options = true;
		m->options = strdup(str_of(tb[STRATA_A_MOUNT_OPTIONS]));
	}
	if (tb[STRATA_A_MOUNT_WHITEOUT]) {
		if (!is_u32(tb[STRATA_A_MOUNT_WHITEOUT]))
			return bad(ms, "union %u: bad whiteout", id);
		m->whiteout = u32_of(tb[STRATA_A_MOUNT_WHITEOUT]);
	}
	if (tb[STRATA_A_MOUNT_READONLY] && plen(tb[STRATA_A_MOUNT_READONLY]))
		return bad(ms, "union %u: readonly flag with a payload", id);
	m->readonly = tb[STRATA_A_MOUNT_READONLY];
	if (tb[STRATA_A_MOUNT_COUNTERS]) {
		const struct nlattr *n = tb[STRATA_A_MOUNT_COUNTERS];

		if (attrs(pl(n), plen(n), c, STRATA_A_COUNTERS_MAX))
			return bad(ms, "union %u: malformed counters", id);
		if (!is_u64(c[STRATA_A_COUNTERS_LOOKUPS]) ||
		    !is_u64(c[STRATA_A_COUNTERS_COPY_UPS]) ||
		    !is_u64(c[STRATA_A_COUNTERS_COPY_BYTES]) ||
		    !is_u64(c[STRATA_A_COUNTERS_WHITEOUTS]) ||
		    !is_u64(c[STRATA_A_COUNTERS_BRANCH_CHANGES]))
			return bad(ms, "union %u: a counter is missing or not a u64", id);
		m->has_counters = true;
		m->lookups = u64_of(c[STRATA_A_COUNTERS_LOOKUPS]);
		m->copy_ups = u64_of(c[STRATA_A_COUNTERS_COPY_UPS]);
		m->copy_bytes = u64_of(c[STRATA_A_COUNTERS_COPY_BYTES]);
		m->whiteouts = u64_of(c[STRATA_A_COUNTERS_WHITEOUTS]);
		m->branch_changes = u64_of(c[STRATA_A_COUNTERS_BRANCH_CHANGES]);
	}
	for (a = first((const char *)nlh + hl, nlh->nlmsg_len - hl, &rem); a; a = next(a, &rem)) {
		struct branch *br;

		if ((a->nla_type & NLA_TYPE_MASK) != STRATA_A_MOUNT_BRANCH)
			continue;
		if (attrs(pl(a), plen(a), b, STRATA_A_BRANCH_MAX) ||
		    !is_u32(b[STRATA_A_BRANCH_INDEX]) || !str_of(b[STRATA_A_BRANCH_PATH]) ||
		    !is_u32(b[STRATA_A_BRANCH_MODE]) || !str_of(b[STRATA_A_BRANCH_FSTYPE]))
			return bad(ms, "union %u: malformed branch", id);
		m->br = realloc(m->br, (m->nbr + 1) * sizeof(*m->br));
		br = &m->br[m->nbr++];
		br->index = u32_of(b[STRATA_A_BRANCH_INDEX]);
		br->mode = u32_of(b[STRATA_A_BRANCH_MODE]);
		br->path = strdup(str_of(b[STRATA_A_BRANCH_PATH]));
		br->fstype = strdup(str_of(b[STRATA_A_BRANCH_FSTYPE]));
	}
	return 0;
}

int parse_all(struct reply *r, struct mounts *ms)
{
	int i;

	memset(ms, 0, sizeof(*ms));
	for (i = 0; i < r->n; i++) {
		const struct genlmsghdr *g = NLMSG_DATA(r->v[i]);

		if (g->cmd != STRATA_CMD_MOUNT_GET)
			return bad(ms, "reply with command %u", g->cmd);
		if (parse_mount(r->v[i], ms))
			return -1;
	}
	return 0;
}

/* ---- requests used by the tests ---- */

void get_by_fd(struct nlsk *s, struct family *f, int fd, struct reply *r)
{
	struct req q;
	int32_t v = fd;

	req_init(&q, f->id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	req_put(&q, STRATA_A_MOUNT_FD, &v, sizeof(v));
	if (transact(s, &q, r))
		r->error = -1;
}

void get_by_id(struct nlsk *s, struct family *f, uint32_t id, struct reply *r)
{
	struct req q;

	req_init(&q, f->id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	req_put(&q, STRATA_A_MOUNT_ID, &id, sizeof(id));
	if (transact(s, &q, r))
		r->error = -1;
}

void dump(struct nlsk *s, struct family *f, struct reply *r)
{
	struct req q;

	req_init(&q, f->id, STRATA_CMD_MOUNT_GET, NLM_F_DUMP);
	if (transact(s, &q, r))
		r->error = -1;
}

/* The id of the union @path is in (0 on failure). */
uint32_t id_of(struct nlsk *s, struct family *f, const char *path)
{
	struct mounts ms = {};
	struct reply r;
	uint32_t id = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	get_by_fd(s, f, fd, &r);
	close(fd);
	if (!r.error && !parse_all(&r, &ms) && ms.n == 1)
		id = ms.v[0].id;
	mounts_free(&ms);
	reply_free(&r);
	return id;
}
