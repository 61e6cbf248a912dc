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
#include "vfs.h"

bool strata_is_whiteout_dentry(const struct dentry *real)
{
	const struct inode *inode = d_inode(real);

	return inode && S_ISCHR(inode->i_mode) && inode->i_rdev == WHITEOUT_DEV;
}

/*
 * Does @realdir hold a positive entry @name?  1, 0 or -errno.  @locked:
 * the caller holds @realdir's lock (the unlocked lookup would take it
 * again on a dcache miss).
 */
static int strata_entry_present(struct dentry *realdir, const char *name,
				unsigned int len, bool locked)
{
	struct dentry *d;
	int ret;

	if (locked)
		d = lookup_one_len(name, realdir, len);
	else
		d = lookup_one_len_unlocked(name, realdir, len);
	if (IS_ERR(d))
		return PTR_ERR(d) == -ENOENT ? 0 : PTR_ERR(d);
	ret = d_is_positive(d);
	dput(d);
	return ret;
}

/* Does @realdir hold an aufs-style whiteout ".wh.@name"? */
int strata_whiteout_present(struct dentry *realdir, const struct qstr *name,
			    bool locked)
{
	char buf[NAME_MAX + 1];
	unsigned int len = STRATA_WH_PREFIX_LEN + name->len;

	if (len > NAME_MAX)
		return 0;
	memcpy(buf, STRATA_WH_PREFIX, STRATA_WH_PREFIX_LEN);
	memcpy(buf + STRATA_WH_PREFIX_LEN, name->name, name->len);
	buf[len] = '\0';
	return strata_entry_present(realdir, buf, len, locked);
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
				   sizeof(STRATA_WH_OPAQUE) - 1, false);
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

/*
 * Writing whiteouts, in the format the mount asked for.  All callers hold
 * the mounter's credentials and write access to the rw branch.
 */

/* ".wh.NAME" in @buf (NAME_MAX + 1 bytes); its length or -errno. */
static int strata_wh_name(char *buf, const struct qstr *name)
{
	unsigned int len = STRATA_WH_PREFIX_LEN + name->len;

	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, STRATA_WH_PREFIX, STRATA_WH_PREFIX_LEN);
	memcpy(buf + STRATA_WH_PREFIX_LEN, name->name, name->len);
	buf[len] = '\0';
	return len;
}

/* Hide @name of the branches below; caller holds @upperdir's lock. */
int strata_whiteout_locked(struct super_block *sb, struct dentry *upperdir,
			   const struct qstr *name)
{
	struct inode *dir = d_inode(upperdir);
	char buf[NAME_MAX + 1];
	struct dentry *wh;
	int len, err = 0;

	if (strata_should_fail())
		return -EIO;

	if (STRATA_FS(sb)->whiteout == STRATA_WH_OVERLAY) {
		wh = lookup_one_len(name->name, upperdir, name->len);
		if (IS_ERR(wh))
			return PTR_ERR(wh);
		if (d_is_negative(wh))
			err = strata_do_mknod(dir, wh, S_IFCHR | WHITEOUT_MODE,
					      WHITEOUT_DEV);
		else if (!strata_is_whiteout_dentry(wh))
			err = -EEXIST;
		dput(wh);
		goto out;
	}
	len = strata_wh_name(buf, name);
	if (len < 0)
		return len;
	wh = lookup_one_len(buf, upperdir, len);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	if (d_is_negative(wh))
		err = strata_do_create(dir, wh, S_IFREG | 0444);
	dput(wh);
out:
	if (!err)
		atomic64_inc(&STRATA_FS(sb)->stats.whiteouts);
	return err;
}

int strata_whiteout(struct super_block *sb, struct dentry *upperdir,
		    const struct qstr *name)
{
	int err;

	inode_lock_nested(d_inode(upperdir), I_MUTEX_PARENT);
	err = strata_whiteout_locked(sb, upperdir, name);
	inode_unlock(d_inode(upperdir));
	return err;
}

/* Drop ".wh.NAME" from @upperdir if present; caller holds its lock. */
int strata_unwhiteout_locked(struct dentry *upperdir, const struct qstr *name)
{
	char buf[NAME_MAX + 1];
	struct dentry *wh;
	int len, err = 0;

	len = strata_wh_name(buf, name);
	if (len < 0)
		return 0;
	wh = lookup_one_len(buf, upperdir, len);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	if (d_is_positive(wh) && !d_is_dir(wh))
		err = strata_do_unlink(d_inode(upperdir), wh);
	dput(wh);
	return err;
}

/* Make the real directory @dir (in the rw branch) opaque. */
int strata_set_opaque(struct super_block *sb, struct dentry *dir)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct dentry *opq;
	int err = 0;

	if (sfs->whiteout == STRATA_WH_OVERLAY)
		return strata_do_setxattr(dir, sfs->userxattr ?
					  "user.overlay.opaque" :
					  "trusted.overlay.opaque", "y", 1, 0);

	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	opq = lookup_one_len(STRATA_WH_OPAQUE, dir, sizeof(STRATA_WH_OPAQUE) - 1);
	if (IS_ERR(opq)) {
		err = PTR_ERR(opq);
	} else {
		if (d_is_negative(opq))
			err = strata_do_create(d_inode(dir), opq, S_IFREG | 0444);
		dput(opq);
	}
	inode_unlock(d_inode(dir));
	return err;
}

/*
 * Redirects: a directory renamed through the union keeps its lower
 * contents at their old path; its copy in the rw branch records that
 * path (absolute within the lower branches) in strata's own xattr.
 */
static const char *strata_redirect_xattr(const struct strata_fs *sfs)
{
	return sfs->userxattr ? "user.strata.redirect" :
				"trusted.strata.redirect";
}

/* The redirect of a real directory: a new string, NULL or ERR_PTR. */
char *strata_get_redirect(struct strata_fs *sfs, struct dentry *dir)
{
	const char *name = strata_redirect_xattr(sfs);
	ssize_t len;
	char *buf;

	len = vfs_getxattr(STRATA_NOP_IDMAP, dir, name, NULL, 0);
	if (len == -ENODATA || len == -EOPNOTSUPP)
		return NULL;
	if (len < 0)
		return ERR_PTR(len);
	if (len == 0 || len >= PATH_MAX)
		return ERR_PTR(-EIO);
	buf = strata_fail_alloc(kmalloc(len + 1, GFP_KERNEL));
	if (!buf)
		return ERR_PTR(-ENOMEM);
	len = vfs_getxattr(STRATA_NOP_IDMAP, dir, name, buf, len);
	if (len <= 0 || buf[0] != '/') {
		kfree(buf);
		return ERR_PTR(len < 0 ? len : -EIO);
	}
	buf[len] = '\0';
	return buf;
}

int strata_set_redirect(struct super_block *sb, struct dentry *dir,
			const char *path)
{
	return strata_do_setxattr(dir, strata_redirect_xattr(STRATA_FS(sb)),
				  path, strlen(path), 0);
}

/*
 * Inode numbers that survive copy-up: the copy records the union inode
 * number it had below, and its parent directory is marked "impure" so
 * that readdir knows some d_ino there need the record.
 */
static const char *strata_xname(const struct strata_fs *sfs, const char *n)
{
	if (!strcmp(n, "ino"))
		return sfs->userxattr ? "user.strata.ino" : "trusted.strata.ino";
	return sfs->userxattr ? "user.strata.impure" : "trusted.strata.impure";
}

int strata_set_origin_ino(struct super_block *sb, struct dentry *real, u64 ino)
{
	__le64 val = cpu_to_le64(ino);
	int err;

	err = strata_do_setxattr(real, strata_xname(STRATA_FS(sb), "ino"),
				 &val, sizeof(val), 0);
	/* Without xattrs in the rw branch the number just cannot be kept. */
	return err == -EOPNOTSUPP ? 0 : err;
}

/* The recorded union inode number of @real, or 0. */
u64 strata_get_origin_ino(struct strata_fs *sfs, struct dentry *real)
{
	__le64 val;

	if (vfs_getxattr(STRATA_NOP_IDMAP, real, strata_xname(sfs, "ino"),
			 &val, sizeof(val)) != sizeof(val))
		return 0;
	return le64_to_cpu(val);
}

int strata_set_impure(struct super_block *sb, struct dentry *dir)
{
	const char *name = strata_xname(STRATA_FS(sb), "impure");
	char c;
	int err;

	if (vfs_getxattr(STRATA_NOP_IDMAP, dir, name, &c, 1) == 1)
		return 0;
	err = strata_do_setxattr(dir, name, "y", 1, 0);
	return err == -EOPNOTSUPP ? 0 : err;
}

bool strata_is_impure(struct strata_fs *sfs, struct dentry *dir)
{
	char c;

	return vfs_getxattr(STRATA_NOP_IDMAP, dir, strata_xname(sfs, "impure"),
			    &c, 1) == 1 && c == 'y';
}
