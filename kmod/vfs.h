/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every change strata makes to a branch goes through these wrappers: one
 * place supplies the (identity) idmap of the private branch mounts and
 * hides the calling conventions that differ between kernels.  Callers
 * hold the mounter's credentials and the locks the VFS call documents.
 */
#ifndef _STRATA_VFS_H
#define _STRATA_VFS_H

#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/xattr.h>
#include "strata.h"

static inline int strata_do_create(struct inode *dir, struct dentry *d,
				   umode_t mode)
{
	return vfs_create(STRATA_NOP_IDMAP, dir, d, mode, true);
}

int strata_do_mkdir(struct inode *dir, struct dentry **d, umode_t mode);

static inline int strata_do_mknod(struct inode *dir, struct dentry *d,
				  umode_t mode, dev_t rdev)
{
	return vfs_mknod(STRATA_NOP_IDMAP, dir, d, mode, rdev);
}

static inline int strata_do_symlink(struct inode *dir, struct dentry *d,
				    const char *target)
{
	return vfs_symlink(STRATA_NOP_IDMAP, dir, d, target);
}

static inline int strata_do_link(struct dentry *old, struct inode *dir,
				 struct dentry *new)
{
	return vfs_link(old, STRATA_NOP_IDMAP, dir, new, NULL);
}

static inline int strata_do_unlink(struct inode *dir, struct dentry *d)
{
	return vfs_unlink(STRATA_NOP_IDMAP, dir, d, NULL);
}

static inline int strata_do_rmdir(struct inode *dir, struct dentry *d)
{
	return vfs_rmdir(STRATA_NOP_IDMAP, dir, d);
}

static inline int strata_do_rename(struct inode *olddir, struct dentry *old,
				   struct inode *newdir, struct dentry *new,
				   unsigned int flags)
{
	struct renamedata rd = {
		STRATA_RENAMEDATA_IDMAPS(STRATA_NOP_IDMAP),
		.old_dir = olddir,
		.old_dentry = old,
		.new_dir = newdir,
		.new_dentry = new,
		.flags = flags,
	};

	return vfs_rename(&rd);
}

static inline int strata_do_notify_change(struct dentry *d, struct iattr *attr)
{
	return notify_change(STRATA_NOP_IDMAP, d, attr, NULL);
}

static inline int strata_do_setxattr(struct dentry *d, const char *name,
				     const void *value, size_t size, int flags)
{
	return vfs_setxattr(STRATA_NOP_IDMAP, d, name, value, size, flags);
}

static inline int strata_do_removexattr(struct dentry *d, const char *name)
{
	return vfs_removexattr(STRATA_NOP_IDMAP, d, name);
}

#endif /* _STRATA_VFS_H */
