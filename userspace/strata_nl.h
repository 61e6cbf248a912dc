/* SPDX-License-Identifier: GPL-2.0 */
/*
 * strata_nl.h - the strata control channel (generic netlink family
 * "strata", Documentation/netlink/specs/strata.yaml): requests, replies
 * decoded into plain structs, events, and a client that finds the family
 * (loading the module when asked).
 */
#ifndef STRATA_STRATA_NL_H
#define STRATA_STRATA_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/strata.h>

#include "genl.h"
#include "nlmsg.h"
#include "nlsock.h"

struct strata_branch_info {
	uint32_t index;
	uint32_t mode;			/* enum strata_branch_mode */
	char *path;
	char *fstype;			/* NULL when the kernel did not say */
};

struct strata_counters {
	uint64_t lookups;
	uint64_t copy_ups;
	uint64_t copy_bytes;
	uint64_t whiteouts;
	uint64_t branch_changes;
};

struct strata_mount_info {
	uint32_t id;
	uint32_t dev;			/* new_encode_dev(): major()/minor() apply */
	char *mountpoint;		/* from the kernel or mountinfo; may be NULL */
	char *options;			/* NULL when left out (too large) */
	uint32_t whiteout;		/* enum strata_whiteout_format */
	bool readonly;
	bool has_counters;
	struct strata_counters counters;
	struct strata_branch_info *br;
	size_t nbr, brcap;
};

struct strata_mount_list {
	struct strata_mount_info *v;
	size_t n, cap;
};

/*
 * One branch-add, branch-del or branch-set request.  The union is given by
 * a descriptor of anything inside it (mount_fd >= 0) or else by its id;
 * branch-add names the directory by path or by descriptor (dir_fd >= 0).
 */
struct strata_branch_req {
	uint8_t cmd;			/* STRATA_CMD_BRANCH_ADD, _DEL or _SET */
	int mount_fd;
	uint32_t mount_id;
	bool has_index;			/* add: else the kernel's default (1) */
	uint32_t index;
	bool has_mode;			/* add: else the kernel's default (ro) */
	uint32_t mode;			/* enum strata_branch_mode */
	const char *path;		/* add: the directory, or NULL and ... */
	int dir_fd;			/* ... a descriptor of it */
};

struct strata_branch_change_info {
	uint32_t mount_id;
	uint32_t change;		/* enum strata_branch_change */
	uint32_t index;
	char *path;			/* as the branch was added */
	bool has_mode;
	uint32_t mode;			/* the mode it has (set: the new one) */
};

struct strata_copy_up_info {
	uint32_t mount_id;
	char *path;			/* relative to the union's root, "/..." */
	uint64_t size;
	uint64_t duration_ns;
};

/* ---- requests (pure: build into @m) ---- */
struct nlmsghdr *strata_req_get_fd(struct nlmsg_buf *m, uint16_t family, int fd);
struct nlmsghdr *strata_req_get_id(struct nlmsg_buf *m, uint16_t family, uint32_t id);
struct nlmsghdr *strata_req_dump(struct nlmsg_buf *m, uint16_t family);
/*
 * A branch-add, branch-del or branch-set request (with an ACK).  NULL with
 * errno EINVAL when @r is not one of these or lacks what its command
 * needs (branch-add: a path or dir_fd; del and set: the index; set: the
 * mode), with ENOMEM when it does not fit.
 */
struct nlmsghdr *strata_req_branch(struct nlmsg_buf *m, uint16_t family,
				   const struct strata_branch_req *r);
/*
 * The name of the attribute at byte offset @offs of request @req (as the
 * kernel's NLMSGERR_ATTR_OFFS gives it), e.g. "fd"; NULL if none.
 */
const char *strata_req_attr_name(const struct nlmsghdr *req, uint32_t offs);

/* ---- replies and events (pure: parse @nlh) ---- */
/*
 * Add the mount in a mount-get reply or mount-new notification to @l; a
 * message continuing a mount already in @l (same id) adds its branches.
 * Returns 0, or -1 with errno EBADMSG and *why (malloc'ed) set.
 */
int strata_mount_parse(const struct nlmsghdr *nlh, struct strata_mount_list *l,
		       char **why);
/*
 * After the last message: order mounts by id and branches by index, and
 * check that every mount has each of its branches exactly once.
 */
int strata_mount_list_finish(struct strata_mount_list *l, char **why);
void strata_mount_list_free(struct strata_mount_list *l);
struct strata_mount_info *strata_mount_find(struct strata_mount_list *l, uint32_t id);

int strata_copy_up_parse(const struct nlmsghdr *nlh, struct strata_copy_up_info *ev,
			 char **why);
void strata_copy_up_free(struct strata_copy_up_info *ev);
/* A branch-change event; the path is malloc'ed (strata_branch_change_free). */
int strata_branch_change_parse(const struct nlmsghdr *nlh,
			       struct strata_branch_change_info *ev, char **why);
void strata_branch_change_free(struct strata_branch_change_info *ev);
int strata_mount_del_parse(const struct nlmsghdr *nlh, uint32_t *id, char **why);

const char *strata_mode_name(uint32_t mode);		/* "rw", "ro", "rr", "?" */
const char *strata_whiteout_name(uint32_t whiteout);	/* "aufs", "overlay", "?" */
const char *strata_change_name(uint32_t change);	/* "add", "del", "set", "?" */
/* Parse "rw", "ro" or "rr"; returns 0, or -1 when @s is none of these. */
int strata_mode_parse(const char *s, uint32_t *mode);

/* ---- the client ---- */
struct strata_nl {
	struct nl_sock *s;
	struct genl_family_info fam;
	struct nlmsg_buf req;		/* the last request, for error offsets */
	char *why;			/* a malformed reply: what was wrong */
};

struct strata_nl_opts {
	bool load;			/* load strata.ko when the family is missing */
	const char *module;		/* that file instead of by name */
	int rcvbuf;			/* receive buffer size wanted, 0 default */
};

/*
 * Open a socket and resolve the family.  On failure prints why (naming
 * "module strata" or "netlink family strata") and returns NULL.
 */
struct strata_nl *strata_nl_open(const struct strata_nl_opts *o);
/* The same, but quietly: NULL with errno ENOENT when there is no family. */
struct strata_nl *strata_nl_try_open(int rcvbuf);
void strata_nl_close(struct strata_nl *c);

/* mount-get by descriptor, by id, or a dump; results are added to @l. */
int strata_get_by_fd(struct strata_nl *c, int fd, struct strata_mount_list *l);
int strata_get_by_id(struct strata_nl *c, uint32_t id, struct strata_mount_list *l);
int strata_dump(struct strata_nl *c, struct strata_mount_list *l);

/*
 * Run one branch request (strata_req_branch).  Returns 0, or -1 with errno
 * set (EOPNOTSUPP when the module has no such command); the reason is in
 * strata_nl_strerror().
 */
int strata_branch_op(struct strata_nl *c, const struct strata_branch_req *r);

/*
 * Why the last call failed with @err: the errno text, the kernel's
 * extended ACK message and the attribute it points at, or what was wrong
 * with the reply.  E.g. "Invalid argument (kernel: file descriptor is not
 * inside a strata union, attribute fd)".
 */
const char *strata_nl_strerror(struct strata_nl *c, int err, char *buf, size_t len);

#endif /* STRATA_STRATA_NL_H */
