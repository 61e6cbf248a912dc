/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/strata.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_STRATA_H
#define _UAPI_LINUX_STRATA_H

#define STRATA_FAMILY_NAME	"strata"
#define STRATA_FAMILY_VERSION	1

#define STRATA_SUPER_MAGIC	1937011297
#define STRATA_MAX_BRANCHES	8192

/**
 * enum strata_branch_mode - How the union may use a branch.
 * @STRATA_BRANCH_MODE_RW: Writable; only the top branch.
 * @STRATA_BRANCH_MODE_RO: Read-only through the union; may change underneath.
 * @STRATA_BRANCH_MODE_RR: Really read-only; never changes while mounted.
 */
enum strata_branch_mode {
	STRATA_BRANCH_MODE_RW,
	STRATA_BRANCH_MODE_RO,
	STRATA_BRANCH_MODE_RR,
};

/**
 * enum strata_whiteout_format - The whiteout format a union writes (both are
 *   always read).
 */
enum strata_whiteout_format {
	STRATA_WHITEOUT_FORMAT_AUFS,
	STRATA_WHITEOUT_FORMAT_OVERLAY,
};

enum {
	STRATA_A_BRANCH_INDEX = 1,
	STRATA_A_BRANCH_PATH,
	STRATA_A_BRANCH_MODE,
	STRATA_A_BRANCH_FSTYPE,

	__STRATA_A_BRANCH_MAX,
	STRATA_A_BRANCH_MAX = (__STRATA_A_BRANCH_MAX - 1)
};

enum {
	STRATA_A_COUNTERS_LOOKUPS = 1,
	STRATA_A_COUNTERS_COPY_UPS,
	STRATA_A_COUNTERS_COPY_BYTES,
	STRATA_A_COUNTERS_WHITEOUTS,
	STRATA_A_COUNTERS_BRANCH_CHANGES,

	__STRATA_A_COUNTERS_MAX,
	STRATA_A_COUNTERS_MAX = (__STRATA_A_COUNTERS_MAX - 1)
};

enum {
	STRATA_A_MOUNT_ID = 1,
	STRATA_A_MOUNT_FD,
	STRATA_A_MOUNT_MOUNTPOINT,
	STRATA_A_MOUNT_DEV,
	STRATA_A_MOUNT_OPTIONS,
	STRATA_A_MOUNT_WHITEOUT,
	STRATA_A_MOUNT_READONLY,
	STRATA_A_MOUNT_BRANCH,
	STRATA_A_MOUNT_COUNTERS,

	__STRATA_A_MOUNT_MAX,
	STRATA_A_MOUNT_MAX = (__STRATA_A_MOUNT_MAX - 1)
};

enum {
	STRATA_A_COPY_UP_MOUNT_ID = 1,
	STRATA_A_COPY_UP_PATH,
	STRATA_A_COPY_UP_SIZE,
	STRATA_A_COPY_UP_DURATION_NS,

	__STRATA_A_COPY_UP_MAX,
	STRATA_A_COPY_UP_MAX = (__STRATA_A_COPY_UP_MAX - 1)
};

enum {
	STRATA_CMD_MOUNT_GET = 1,
	STRATA_CMD_MOUNT_NEW_NTF,
	STRATA_CMD_MOUNT_DEL_NTF,
	STRATA_CMD_COPY_UP_NTF,

	__STRATA_CMD_MAX,
	STRATA_CMD_MAX = (__STRATA_CMD_MAX - 1)
};

#define STRATA_MCGRP_MONITOR	"monitor"

#endif /* _UAPI_LINUX_STRATA_H */
