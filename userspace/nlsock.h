/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nlsock.h - a netlink socket: send a request, run its replies through a
 * callback, and report the kernel's answer with its extended ACK.
 */
#ifndef STRATA_NLSOCK_H
#define STRATA_NLSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>

/* What the kernel said about a request: NLMSG_ERROR or NLMSG_DONE. */
struct nl_ext_ack {
	int error;		/* 0 or a positive errno */
	char msg[256];		/* NLMSGERR_ATTR_MSG, "" when none */
	bool has_offs;
	uint32_t offs;		/* NLMSGERR_ATTR_OFFS: where in the request */
	bool has_miss;
	uint32_t miss_type;	/* NLMSGERR_ATTR_MISS_TYPE: a missing attribute */
};

struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	char *rxbuf;
	size_t rxsize;
	struct nl_ext_ack ack;		/* of the last request */
	bool debug;			/* STRATA_DEBUG=nl: messages on stderr */
};

/*
 * Open and bind a socket of netlink @bus with NETLINK_EXT_ACK and
 * NETLINK_GET_STRICT_CHK, and a receive buffer of at least @rcvbuf bytes
 * (as far as the system allows; 0 for the default).  Returns NULL with
 * errno set.
 */
struct nl_sock *nl_sock_open(int bus, int rcvbuf);
void nl_sock_close(struct nl_sock *s);

/*
 * Send @req (its sequence number is assigned here; ask for NLM_F_ACK) and
 * pass each reply message to @cb(nlh, @data), until the ACK, the end of
 * the dump, or an error.  Returns 0, or -1 with errno set: the kernel's
 * error (s->ack has its extended ACK), the callback's (which still lets
 * the rest of the replies be read), or a socket error.  On success s->ack
 * may carry a warning in msg.
 */
int nl_transact(struct nl_sock *s, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/*
 * Receive one datagram into s->rxbuf, growing it to fit.  Returns its
 * length, or -1 with errno set (EINTR when interrupted, ENOBUFS when the
 * kernel dropped messages because the receive buffer was full).
 */
ssize_t nl_recv(struct nl_sock *s);

/* Join or leave multicast group @group.  Returns 0 or -1 with errno. */
int nl_join(struct nl_sock *s, uint32_t group);
int nl_leave(struct nl_sock *s, uint32_t group);

/*
 * Decode the NLMSG_ERROR or NLMSG_DONE message @nlh into @ack.  Returns
 * 0, or -1 with errno EBADMSG when it is malformed.
 */
int nl_parse_ack(const struct nlmsghdr *nlh, struct nl_ext_ack *ack);

/* Print @len bytes of messages at @buf to stderr when s->debug is on. */
void nl_debug(const struct nl_sock *s, const char *what, const void *buf,
	      size_t len);

#endif /* STRATA_NLSOCK_H */
