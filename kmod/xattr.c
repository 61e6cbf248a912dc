// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes pass through to the real inode, except the names
 * that carry union bookkeeping: overlayfs' (which strata reads as a
 * branch format, in both the trusted. and the userxattr spelling) and
 * strata's own.  They are neither listed, read, nor set through a union.
 */
#include <linux/xattr.h>
#include <linux/capability.h>
#include "vfs.h"

bool strata_xattr_is_private(const struct strata_fs *sfs, const char *name)
{
	return str_has_prefix(name, XATTR_TRUSTED_PREFIX "overlay.") ||
	       str_has_prefix(name, XATTR_USER_PREFIX "overlay.") ||
	       str_has_prefix(name, XATTR_TRUSTED_PREFIX "strata.") ||
	       str_has_prefix(name, XATTR_USER_PREFIX "strata.");
}

static int strata_xattr_get(const struct xattr_handler *handler,
			    struct dentry *dentry, struct inode *inode,
			    const char *name, void *buffer, size_t size)
{
	const struct cred *old;
	ssize_t ret;

	if (strata_xattr_is_private(STRATA_FS(inode->i_sb), name))
		return -ENODATA;
	old = strata_override_creds(inode->i_sb);
	ret = vfs_getxattr(STRATA_NOP_IDMAP, strata_real_dentry(dentry), name,
			   buffer, size);
	revert_creds(old);
	return ret;
}

/* Set (or with @value NULL remove) an xattr: copy up, change the copy. */
static int strata_xattr_set(const struct xattr_handler *handler,
			    strata_idmap_t *idmap, struct dentry *dentry,
			    struct inode *inode, const char *name,
			    const void *value, size_t size, int flags)
{
	struct super_block *sb = dentry->d_sb;
	const struct cred *old;
	struct dentry *upper;
	int err;

	if (strata_xattr_is_private(STRATA_FS(sb), name))
		return -EPERM;
	err = strata_copy_up(dentry);
	if (err)
		return err;
	upper = strata_upper(dentry);
	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		return err;
	old = strata_override_creds(sb);
	if (value)
		err = strata_do_setxattr(upper, name, value, size, flags);
	else
		err = strata_do_removexattr(upper, name);
	revert_creds(old);
	mnt_drop_write(strata_upper_mnt(sb));
	/* An ACL set through its xattr may change the mode. */
	strata_copyattr(inode);
	return err;
}

/* setfacl on kernels where ACLs are not plain xattrs (see compat.h). */
int strata_set_acl(struct dentry *dentry, const char *name,
		   struct posix_acl *acl)
{
	struct super_block *sb = dentry->d_sb;
	const struct cred *old;
	int err;

	err = strata_copy_up(dentry);
	if (err)
		return err;
	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		return err;
	old = strata_override_creds(sb);
	err = strata_real_set_acl(strata_upper(dentry), name, acl);
	revert_creds(old);
	mnt_drop_write(strata_upper_mnt(sb));
	strata_copyattr(d_inode(dentry));
	return err;
}

/* An empty prefix makes this handler see every name. */
static const struct xattr_handler strata_xattr_handler = {
	.prefix	= "",
	.get	= strata_xattr_get,
	.set	= strata_xattr_set,
};

const struct xattr_handler *strata_xattr_handlers[] = {
	&strata_xattr_handler,
	NULL
};

ssize_t strata_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct strata_fs *sfs = STRATA_FS(dentry->d_sb);
	/* The real filesystem sees the mounter; filter for the caller. */
	bool trusted_ok = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	const struct cred *old;
	char *in, *out, *end;
	ssize_t ret;

	old = strata_override_creds(dentry->d_sb);
	ret = vfs_listxattr(strata_real_dentry(dentry), list, size);
	revert_creds(old);
	if (ret <= 0 || !size)
		return ret;

	end = list + ret;
	for (in = out = list; in < end;) {
		size_t len = strnlen(in, end - in) + 1;

		if (!strata_xattr_is_private(sfs, in) &&
		    (trusted_ok || !str_has_prefix(in, XATTR_TRUSTED_PREFIX))) {
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	return out - list;
}
