/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal generic netlink client for the selftests, over raw sockets
 * (the tests link statically and Debian ships no libmnl.a): requests,
 * replies with their extack, the strata family, and mount-get parsing.
 */
#ifndef STRATA_NL_CLIENT_H
#define STRATA_NL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

/* ---- raw generic netlink ---- */

struct nlsk {
	int fd;
	uint32_t portid;
	uint32_t seq;
	char *buf;
	size_t cap;
};

/* What came back for one request. */
struct reply {
	int error;			/* 0 or the kernel's positive errno */
	char msg[512];			/* NLMSGERR_ATTR_MSG */
	bool has_offs;
	uint32_t offs;			/* NLMSGERR_ATTR_OFFS */
	int datagrams;
	int n;				/* genl messages, copied into v[] */
	struct nlmsghdr **v;
};

void reply_free(struct reply *r);

int nlsk_open(struct nlsk *s, int rcvbuf);

void nlsk_close(struct nlsk *s);

/* One datagram, whatever its size.  Returns its length or -errno. */
ssize_t nlsk_recv(struct nlsk *s, int timeout_ms);

/* Attributes in @len bytes at @p into tb[0..max]; -1 if malformed. */
int attrs(const void *p, size_t len, const struct nlattr **tb, int max);

const void *pl(const struct nlattr *a);

size_t plen(const struct nlattr *a);

bool is_u32(const struct nlattr *a);

bool is_u64(const struct nlattr *a);

uint32_t u32_of(const struct nlattr *a);

uint64_t u64_of(const struct nlattr *a);

/* A string attribute: NUL-terminated, exactly one NUL. */
const char *str_of(const struct nlattr *a);

/*
 * Walk @len bytes of attributes at @p (checked with attrs() first):
 * for (a = first(p, len, &rem); a; a = next(a, &rem)).
 */
const struct nlattr *next(const struct nlattr *a, size_t *rem);

const struct nlattr *first(const void *p, size_t len, size_t *rem);

/* Genl attributes of @nlh into tb; -1 if malformed. */
int msg_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb, int max);

void parse_ack(const struct nlmsghdr *nlh, struct reply *r);

/* Request bytes: attributes appended to a fixed header. */
struct req {
	struct nlmsghdr h;
	struct genlmsghdr g;
	char attrs[1024];
	size_t alen;
};

void req_init(struct req *q, uint16_t family, uint8_t cmd, uint16_t flags);

/* Append an attribute; its offset in the message is returned. */
uint32_t req_put(struct req *q, uint16_t type, const void *data, uint16_t len);

/*
 * Send @q and collect the replies until the ACK, NLMSG_DONE or an error.
 * Returns 0 when the exchange completed (r->error holds the kernel's
 * verdict), or -errno when the socket failed.
 */
int transact(struct nlsk *s, struct req *q, struct reply *r);

/* ---- the family ---- */

struct family {
	uint16_t id;
	uint32_t version;
	uint32_t monitor;		/* group id */
	bool has_get;
	uint32_t get_flags;
};

int resolve(struct nlsk *s, struct family *f);

/* ---- mounts as the kernel describes them ---- */

struct branch {
	uint32_t index, mode;
	char *path, *fstype;
};

struct mount {
	uint32_t id, dev, whiteout;
	bool readonly, has_mountpoint, has_options, has_counters;
	char *mountpoint, *options;
	uint64_t lookups, copy_ups, copy_bytes, whiteouts, branch_changes;
	int messages;			/* how many messages described it */
	int nbr;
	struct branch *br;		/* in arrival order */
};

struct mounts {
	int n;
	struct mount *v;
	char why[256];			/* the first malformation found */
};

void mounts_free(struct mounts *ms);

struct mount *mounts_find(struct mounts *ms, uint32_t id);

int bad(struct mounts *ms, const char *fmt, ...);

/* One mount-get message (or mount-new event) merged into @ms by id. */
int parse_mount(const struct nlmsghdr *nlh, struct mounts *ms);

int parse_all(struct reply *r, struct mounts *ms);

/* ---- requests used by the tests ---- */

void get_by_fd(struct nlsk *s, struct family *f, int fd, struct reply *r);

void get_by_id(struct nlsk *s, struct family *f, uint32_t id, struct reply *r);

void dump(struct nlsk *s, struct family *f, struct reply *r);

/* The id of the union @path is in (0 on failure). */
uint32_t id_of(struct nlsk *s, struct family *f, const char *path);

#endif /* STRATA_NL_CLIENT_H */
