/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mount.h - mount and unmount a union through the new mount API.
 */
#ifndef STRATA_MOUNT_H
#define STRATA_MOUNT_H

#include <stdbool.h>

#include "branchspec.h"

struct mount_request {
	const char *fstype;		/* "strata"; the unit tests use tmpfs */
	const char *target;		/* union_mount(): the mount point */
	const char *label;		/* union_open_detached(): names it */
	const struct branch_list *branches;
	const char *whiteout;		/* NULL: the filesystem's default */
	const char *workdir;		/* NULL: inside the rw branch */
	bool userxattr;
	bool readonly;
};

/*
 * fsopen, one fsconfig call per branch (FSCONFIG_SET_FD), options,
 * FSCONFIG_CMD_CREATE, fsmount and move_mount onto the target.  Messages
 * the kernel leaves in the fs_context log are printed as
 * "strata: mount TARGET: <message>".  Returns 0, or -1 after printing why.
 */
int union_mount(const struct mount_request *req);

/*
 * The same up to fsmount, but attached nowhere: no mount table shows it,
 * and closing the returned descriptor (an O_PATH one of the union's root)
 * unmounts it once nothing opened through it is open.  Messages are
 * "strata: LABEL: <message>".  Returns the descriptor, or -1 after
 * printing why, with errno the failing call's (EBUSY: a directory it
 * writes to is another mounted union's).
 */
int union_open_detached(const struct mount_request *req);

/* umount2(); returns 0, or -1 after printing why. */
int union_umount(const char *target);

/*
 * Split one fs_context log message ("e strata: text") into its level
 * character ('e', 'w', 'i'; '?' if malformed) and the text after the
 * "<fstype>: " prefix.  Returns a pointer into @line.
 */
const char *fslog_parse(const char *line, const char *fstype, char *level);

#endif /* STRATA_MOUNT_H */
