// SPDX-License-Identifier: GPL-2.0
/*
 * Reading whiteouts and opaque markers.  strata reads both formats in use:
 *
 *  - OCI/aufs: a ".wh.NAME" entry hides NAME in the branches below it, and
 *    a ".wh..wh..opq" entry makes its directory opaque;
 *  - overlayfs: a character device 0/0 named NAME hides NAME, and the
 *    xattr trusted.overlay.opaque="y" (user.overlay.opaque with userxattr)
 *    makes a directory opaque.
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>
#include "strata.h"

bool strata_is_whiteout_dentry(const struct dentry *real)
{
	const struct inode *inode = d_inode(real);

	return inode && S_ISCHR(inode->i_mode) && inode->i_rdev == WHITEOUT_DEV;
}

/* Does @realdir hold a positive entry @name?  1, 0 or -errno. */
static int strata_entry_present(struct dentry *realdir, const char *name,
				unsigned int len)
{
	struct dentry *d;
	int ret;

	d = lookup_one_len_unlocked(name, realdir, len);
	if (IS_ERR(d))
		return PTR_ERR(d) == -ENOENT ? 0 : PTR_ERR(d);
	ret = d_is_positive(d);
	dput(d);
	return ret;
}

/* Does @realdir hold an aufs-style whiteout ".wh.@name"? */
int strata_whiteout_present(struct dentry *realdir, const struct qstr *name)
{
	char buf[NAME_MAX + 1];
	unsigned int len = STRATA_WH_PREFIX_LEN + name->len;

	if (len > NAME_MAX)
		return 0;
	memcpy(buf, STRATA_WH_PREFIX, STRATA_WH_PREFIX_LEN);
	memcpy(buf + STRATA_WH_PREFIX_LEN, name->name, name->len);
	buf[len] = '\0';
	return strata_entry_present(realdir, buf, len);
}

/* Is the real directory opaque in either format?  1, 0 or -errno. */
int strata_dir_is_opaque(struct strata_fs *sfs, struct dentry *realdir)
{
	const char *xname = sfs->userxattr ? "user.overlay.opaque" :
					     "trusted.overlay.opaque";
	char val;
	ssize_t len;
	int ret;

	ret = strata_entry_present(realdir, STRATA_WH_OPAQUE,
				   sizeof(STRATA_WH_OPAQUE) - 1);
	if (ret)
		return ret;

	len = vfs_getxattr(STRATA_NOP_IDMAP, realdir, xname, &val, 1);
	if (len == 1 && val == 'y')
		return 1;
	/* Missing, unsupported or not "y": not opaque. */
	if (len < 0 && len != -ENODATA && len != -EOPNOTSUPP &&
	    len != -ERANGE && len != -EPERM && len != -EACCES)
		return len;
	return 0;
}
