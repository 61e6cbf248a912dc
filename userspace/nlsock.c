// SPDX-License-Identifier: GPL-2.0
/*
 * nlsock.c - netlink socket, the request/reply loop and extended ACKs.
 *
 * libmnl 1.0.4 has no extack support, so the TLVs after an NLMSG_ERROR
 * are found and parsed here: they follow the echoed request, or only its
 * header when the kernel set NLM_F_CAPPED, and exist only with
 * NLM_F_ACK_TLVS.  NLMSG_DONE of a dump carries an int error and the same
 * TLVs after it.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nlattr.h"
#include "nlsock.h"
#include "util.h"

#define NL_RXBUF_MIN (64 * 1024)

void nl_debug(const struct nl_sock *s, const char *what, const void *buf,
	      size_t len)
{
	if (!s->debug)
		return;
	fprintf(stderr, "-- netlink %s, %zu bytes:\n", what, len);
	mnl_nlmsg_fprintf(stderr, buf, len, GENL_HDRLEN);
	fflush(stderr);
}

struct nl_sock *nl_sock_open(int bus, int rcvbuf)
{
	struct nl_sock *s = calloc(1, sizeof(*s));
	const char *dbg = getenv("STRATA_DEBUG");
	int one = 1, saved;

	if (!s)
		return NULL;
	s->mnl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!s->mnl)
		goto fail;
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	s->portid = mnl_socket_get_portid(s->mnl);
	/* Both are optional: without them errors are just less precise. */
	mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->mnl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (rcvbuf > 0) {
		int fd = mnl_socket_get_fd(s->mnl);

		/* Beyond net.core.rmem_max only with CAP_NET_ADMIN. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	s->rxsize = NL_RXBUF_MIN;
	s->rxbuf = malloc(s->rxsize);
	if (!s->rxbuf)
		goto fail;
	s->debug = dbg && strstr(dbg, "nl");
	return s;
fail:
	saved = errno;
	nl_sock_close(s);
	errno = saved;
	return NULL;
}

void nl_sock_close(struct nl_sock *s)
{
	if (!s)
		return;
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s->rxbuf);
	free(s);
}

ssize_t nl_recv(struct nl_sock *s)
{
	int fd = mnl_socket_get_fd(s->mnl);
	ssize_t n;

	/* A single reply may be larger than any fixed buffer: peek first. */
	n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n < 0)
		return -1;
	if ((size_t)n > s->rxsize) {
		char *buf = realloc(s->rxbuf, n);

		if (!buf)
			return -1;
		s->rxbuf = buf;
		s->rxsize = n;
	}
	n = mnl_socket_recvfrom(s->mnl, s->rxbuf, s->rxsize);
	if (n > 0)
		nl_debug(s, "received", s->rxbuf, n);
	return n;
}

int nl_join(struct nl_sock *s, uint32_t group)
{
	return mnl_socket_setsockopt(s->mnl, NETLINK_ADD_MEMBERSHIP, &group,
				     sizeof(group));
}

int nl_leave(struct nl_sock *s, uint32_t group)
{
	return mnl_socket_setsockopt(s->mnl, NETLINK_DROP_MEMBERSHIP, &group,
				     sizeof(group));
}

static const struct nla_spec extack_spec[] = {
	[NLMSGERR_ATTR_MSG]		= { "msg", MNL_TYPE_NUL_STRING },
	[NLMSGERR_ATTR_OFFS]		= { "offs", MNL_TYPE_U32 },
	[NLMSGERR_ATTR_MISS_TYPE]	= { "miss-type", MNL_TYPE_U32 },
};

static int parse_tlvs(const struct nlmsghdr *nlh, size_t offset,
		      struct nl_ext_ack *ack)
{
	NLA_TABLE(t, "extack", extack_spec);
	int ret;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	ret = nla_parse_msg(nlh, offset, &t);
	nla_table_done(&t);
	if (ret) {
		errno = EBADMSG;
		return -1;
	}
	if (t.tb[NLMSGERR_ATTR_MSG])
		snprintf(ack->msg, sizeof(ack->msg), "%s",
			 mnl_attr_get_str(t.tb[NLMSGERR_ATTR_MSG]));
	if (t.tb[NLMSGERR_ATTR_OFFS]) {
		ack->has_offs = true;
		ack->offs = mnl_attr_get_u32(t.tb[NLMSGERR_ATTR_OFFS]);
	}
	if (t.tb[NLMSGERR_ATTR_MISS_TYPE]) {
		ack->has_miss = true;
		ack->miss_type = mnl_attr_get_u32(t.tb[NLMSGERR_ATTR_MISS_TYPE]);
	}
	return 0;
}

int nl_parse_ack(const struct nlmsghdr *nlh, struct nl_ext_ack *ack)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	const struct nlmsgerr *e;
	size_t offset;
	int error;

	memset(ack, 0, sizeof(*ack));
	if (nlh->nlmsg_type == NLMSG_DONE) {
		/* Old kernels end a dump with no payload at all. */
		if (len < sizeof(int))
			return 0;
		memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
		ack->error = error < 0 ? -error : 0;
		return parse_tlvs(nlh, sizeof(int), ack);
	}
	if (nlh->nlmsg_type != NLMSG_ERROR || len < sizeof(*e))
		goto bad;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error > 0)
		goto bad;
	ack->error = -e->error;
	offset = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			goto bad;
		offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if (offset > len)
		goto bad;
	return parse_tlvs(nlh, offset, ack);
bad:
	errno = EBADMSG;
	return -1;
}

struct transact {
	struct nl_sock *s;
	mnl_cb_t cb;
	void *data;
	uint32_t seq;
	unsigned int replies;
	int cb_errno;		/* the callback failed: keep reading, skip it */
};

static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct transact *t = data;

	/* A multicast event (seq 0) on a socket that also listens. */
	if (nlh->nlmsg_seq != t->seq)
		return MNL_CB_OK;
	t->replies++;
	if (t->cb_errno || !t->cb)
		return MNL_CB_OK;
	errno = 0;
	if (t->cb(nlh, t->data) <= MNL_CB_ERROR)
		t->cb_errno = errno ? errno : EBADMSG;
	return MNL_CB_OK;
}

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct transact *t = data;

	if (nl_parse_ack(nlh, &t->s->ack))
		return MNL_CB_ERROR;
	if (t->s->ack.error) {
		errno = t->s->ack.error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static const mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= ack_cb,
	[NLMSG_DONE]	= ack_cb,
};

int nl_transact(struct nl_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	struct transact t = { .s = s, .cb = cb, .data = data };
	ssize_t n;
	int ret;

	memset(&s->ack, 0, sizeof(s->ack));
	req->nlmsg_seq = ++s->seq;
	t.seq = req->nlmsg_seq;
	nl_debug(s, "request", req, req->nlmsg_len);
	if (mnl_socket_sendto(s->mnl, req, req->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = nl_recv(s);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * A reply larger than the receive buffer leaves no
			 * room for the ACK after it, and the kernel drops the
			 * ACK with ENOBUFS: the reply itself is complete.
			 */
			if (errno == ENOBUFS && t.replies &&
			    !(req->nlmsg_flags & NLM_F_DUMP))
				break;
			return -1;
		}
		ret = mnl_cb_run2(s->rxbuf, n, req->nlmsg_seq, s->portid,
				  reply_cb, &t, (mnl_cb_t *)ctl_cbs,
				  NLMSG_MIN_TYPE);
		if (ret == MNL_CB_STOP)
			break;
		if (ret < MNL_CB_STOP)
			return -1;
	}
	if (t.cb_errno) {
		errno = t.cb_errno;
		return -1;
	}
	return 0;
}
