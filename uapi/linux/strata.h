/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * strata: constants shared by the kernel module and userspace.
 * The generic-netlink control channel is added here by a later change.
 */
#ifndef _UAPI_LINUX_STRATA_H
#define _UAPI_LINUX_STRATA_H

/* statfs(2) f_type of a strata union ("stra"). */
#define STRATA_SUPER_MAGIC	0x73747261

#define STRATA_FS_NAME		"strata"

#endif /* _UAPI_LINUX_STRATA_H */
