// SPDX-License-Identifier: GPL-2.0
/*
 * Branch-side helpers that need more than one VFS call.
 */
#include "vfs.h"

/*
 * mkdir may leave the dentry unhashed and negative on some filesystems;
 * then look the new directory up again so callers get a positive dentry.
 */
int strata_do_mkdir(struct inode *dir, struct dentry **d, umode_t mode)
{
	struct dentry *again;
	int err;

	err = vfs_mkdir(STRATA_NOP_IDMAP, dir, *d, mode);
	if (err || !d_unhashed(*d))
		return err;
	again = lookup_one_len((*d)->d_name.name, (*d)->d_parent,
			       (*d)->d_name.len);
	if (IS_ERR(again))
		return PTR_ERR(again);
	dput(*d);
	*d = again;
	return d_is_dir(again) ? 0 : -EIO;
}
