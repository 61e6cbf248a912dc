// SPDX-License-Identifier: GPL-2.0
/*
 * Thin stubs whose signatures or bodies differ between the kernels strata
 * supports.  Each forwards to version-independent code.
 */
#include <linux/fs.h>
#include <linux/splice.h>
#include <linux/xattr.h>
#include <linux/posix_acl_xattr.h>
#if defined(STRATA_HAVE_BACKING_FILE_USER_FILE) || \
	defined(STRATA_HAVE_BACKING_FILE_USER_PATH)
#include <linux/backing-file.h>
#endif
#include "strata.h"

struct file *strata_open_real(struct file *user_file, int flags,
			      const struct path *realpath,
			      const struct cred *cred)
{
#if defined(STRATA_HAVE_BACKING_FILE_USER_FILE)
	return backing_file_open(user_file, flags, realpath, cred);
#elif defined(STRATA_HAVE_BACKING_FILE_USER_PATH)
	return backing_file_open(&user_file->f_path, flags, realpath, cred);
#else
	return open_with_fake_path(&user_file->f_path, flags,
				   d_inode(realpath->dentry), cred);
#endif
}

struct file *strata_open_real_tmpfile(struct file *user_file,
				      const struct path *parentpath,
				      umode_t mode, const struct cred *cred)
{
#ifdef STRATA_HAVE_BACKING_TMPFILE
	return backing_tmpfile_open(user_file, user_file->f_flags, parentpath,
				    mode, cred);
#else
	return vfs_tmpfile_open(STRATA_NOP_IDMAP, parentpath, mode,
				user_file->f_flags, cred);
#endif
}

ssize_t strata_splice_direct(struct file *in, loff_t *ipos, struct file *out,
			     loff_t *opos, size_t len)
{
#ifdef STRATA_HAVE_SPLICE_FILE_RANGE
	return do_splice_direct(in, ipos, out, opos, len, SPLICE_F_MOVE);
#else
	ssize_t ret;

	file_start_write(out);
	ret = do_splice_direct(in, ipos, out, opos, len, SPLICE_F_MOVE);
	file_end_write(out);
	return ret;
#endif
}

ssize_t strata_real_splice_read(struct file *realfile, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags)
{
#ifdef STRATA_HAVE_VFS_SPLICE_READ
	return vfs_splice_read(realfile, ppos, pipe, len, flags);
#else
	if (unlikely(!realfile->f_op->splice_read))
		return -EINVAL;
	return realfile->f_op->splice_read(realfile, ppos, pipe, len, flags);
#endif
}

struct posix_acl *strata_real_inode_acl(struct inode *realinode, int type)
{
#ifdef STRATA_HAVE_GET_INODE_ACL
	return get_inode_acl(realinode, type);
#else
	return get_acl(realinode, type);
#endif
}

#ifdef STRATA_HAVE_D_REAL_TYPE
struct dentry *strata_d_real_op(struct dentry *dentry, enum d_real_type type)
{
	struct dentry *real = strata_d_real(dentry, type == D_REAL_DATA);

	/* The branch may itself be a union. */
	return real == dentry ? dentry : d_real(real, type);
}
#else
struct dentry *strata_d_real_op(struct dentry *dentry,
				const struct inode *inode)
{
	struct dentry *real;

	if (inode && d_inode(dentry) == inode)
		return dentry;
	/* Asked for a given inode: the one with the attributes, if it is. */
	real = strata_d_real(dentry, false);
	if (!inode || d_inode(real) != inode)
		real = strata_d_real(dentry, true);
	return real == dentry ? dentry : d_real(real, inode);
}
#endif

/*
 * ACLs are never cached in union inodes (ACL_DONT_CACHE): the real inode
 * caches them, and RCU path walk reads that cache directly.
 */
struct posix_acl *strata_get_inode_acl_op(struct inode *inode, int type,
					  bool rcu)
{
	struct inode *real = strata_inode_real(inode);
	const struct cred *old;
	struct posix_acl *acl;

	if (!IS_POSIXACL(real))
		return NULL;
	if (rcu)
		return get_cached_acl_rcu(real, type);
	old = strata_override_creds(inode->i_sb);
	acl = strata_real_inode_acl(real, type);
	revert_creds(old);
	return acl;
}

#ifdef STRATA_HAVE_GET_INODE_ACL
struct posix_acl *strata_get_acl_op(strata_idmap_t *idmap,
				    struct dentry *dentry, int type)
{
	const char *name = type == ACL_TYPE_ACCESS ? XATTR_NAME_POSIX_ACL_ACCESS :
						     XATTR_NAME_POSIX_ACL_DEFAULT;
	const struct cred *old;
	struct posix_acl *acl;

	old = strata_override_creds(dentry->d_sb);
	acl = vfs_get_acl(STRATA_NOP_IDMAP, strata_real_dentry(dentry), name);
	revert_creds(old);
	return acl == ERR_PTR(-ENODATA) ? NULL : acl;
}
#endif

#ifdef STRATA_HAVE_GET_INODE_ACL
static const char *strata_acl_name(int type)
{
	return type == ACL_TYPE_ACCESS ? XATTR_NAME_POSIX_ACL_ACCESS :
					 XATTR_NAME_POSIX_ACL_DEFAULT;
}

/* setfacl through the union: copy up, then set on the rw branch. */
int strata_set_acl_op(strata_idmap_t *idmap, struct dentry *dentry,
		      struct posix_acl *acl, int type)
{
	return strata_set_acl(dentry, strata_acl_name(type), acl);
}

int strata_copy_acl(struct dentry *old, struct dentry *new, const char *name)
{
	struct posix_acl *acl;
	int err;

	acl = vfs_get_acl(STRATA_NOP_IDMAP, old, name);
	if (IS_ERR(acl))
		return PTR_ERR(acl) == -ENODATA ? 0 : PTR_ERR(acl);
	err = vfs_set_acl(STRATA_NOP_IDMAP, new, name, acl);
	posix_acl_release(acl);
	return err;
}

int strata_real_set_acl(struct dentry *real, const char *name,
			struct posix_acl *acl)
{
	if (!acl) {
		int err = vfs_remove_acl(STRATA_NOP_IDMAP, real, name);

		return err == -ENODATA ? 0 : err;
	}
	return vfs_set_acl(STRATA_NOP_IDMAP, real, name, acl);
}
#else
/* Unused: on this kernel ACLs are copied and set as plain xattrs. */
int strata_copy_acl(struct dentry *old, struct dentry *new, const char *name)
{
	return -EOPNOTSUPP;
}

int strata_real_set_acl(struct dentry *real, const char *name,
			struct posix_acl *acl)
{
	return -EOPNOTSUPP;
}
#endif
