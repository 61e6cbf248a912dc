// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-up: the first change to a file or directory of a lower branch
 * copies it into the rw branch, parents first.
 *
 * The copy is built under a temporary name in the work directory (data,
 * then xattrs and ACLs, then owner, mode and times), made durable, and
 * renamed into place.  Until that rename the union shows the lower file;
 * after it, the copy.  A crash in between leaves only a temporary, which
 * the next mount removes.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/xattr.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include "vfs.h"

/* Large enough to amortise each call, small enough to stop promptly. */
#define STRATA_COPY_CHUNK	(8 << 20)

struct strata_copy_ctx {
	struct super_block *sb;
	struct dentry *dentry;		/* union dentry being copied */
	struct path lower;		/* its real file */
	struct dentry *upperdir;	/* real parent in the rw branch */
	struct kstat stat;
	const char *link;		/* symlink target */
	struct delayed_call link_done;
};

static int strata_copy_data_range(struct file *in, struct file *out,
				  loff_t pos, loff_t end, bool same_sb)
{
	while (pos < end) {
		size_t len = min_t(loff_t, end - pos, STRATA_COPY_CHUNK);
		loff_t ipos = pos, opos = pos;
		ssize_t n = -EXDEV;

		if (fatal_signal_pending(current))
			return -EINTR;
		if (same_sb)
			n = vfs_copy_file_range(in, pos, out, pos, len, 0);
		if (n == -EXDEV || n == -EOPNOTSUPP || n == -EINVAL)
			n = do_splice_direct(in, &ipos, out, &opos, len,
					     SPLICE_F_MOVE);
		if (n < 0)
			return n;
		if (!n)		/* the lower file shrank under us */
			return -EIO;
		pos += n;
		cond_resched();
	}
	return 0;
}

/*
 * Copy the data: a reflink where the filesystem can, else chunks of
 * copy_file_range or splice, only over the data extents so that holes
 * stay holes.
 */
static int strata_copy_data(struct strata_copy_ctx *c, const struct path *temp)
{
	loff_t size = c->stat.size, pos = 0, data, hole;
	struct file *in, *out;
	bool same_sb;
	int err = 0;

	if (strata_should_fail())
		return -EIO;
	in = dentry_open(&c->lower, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(in))
		return PTR_ERR(in);
	out = dentry_open(temp, O_WRONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(out)) {
		fput(in);
		return PTR_ERR(out);
	}
	same_sb = file_inode(in)->i_sb == file_inode(out)->i_sb;

	if (!size)
		goto sync;
	if (same_sb && vfs_clone_file_range(in, 0, out, 0, size, 0) == size)
		goto sync;

	while (pos < size) {
		data = vfs_llseek(in, pos, SEEK_DATA);
		if (data == -ENXIO)
			break;
		if (data < 0) {
			/* No hole support: copy everything. */
			data = pos;
			hole = size;
		} else {
			hole = vfs_llseek(in, data, SEEK_HOLE);
			if (hole < 0 || hole > size)
				hole = size;
		}
		err = strata_copy_data_range(in, out, data, hole, same_sb);
		if (err)
			goto out;
		pos = hole;
	}
	/* A trailing hole: the size is not reached by any data. */
	if (i_size_read(file_inode(out)) < size)
		err = vfs_truncate(temp, size);
sync:
	if (!err)
		err = vfs_fsync(out, 0);
out:
	fput(out);
	fput(in);
	return err;
}

/* Copy every xattr and ACL the mounter may copy, bookkeeping excepted. */
int strata_copy_xattrs(struct super_block *sb, struct dentry *old,
		       struct dentry *new)
{
	ssize_t list_size, vlen;
	char *list = NULL, *name, *value = NULL;
	size_t value_size = 0;
	int err = 0;

	list_size = vfs_listxattr(old, NULL, 0);
	if (list_size <= 0)
		return list_size == -EOPNOTSUPP ? 0 : list_size;
	list = strata_fail_alloc(kvzalloc(list_size, GFP_KERNEL));
	if (!list)
		return -ENOMEM;
	list_size = vfs_listxattr(old, list, list_size);
	if (list_size < 0) {
		err = list_size;
		goto out;
	}

	for (name = list; name < list + list_size; name += strlen(name) + 1) {
		if (strata_xattr_is_private(STRATA_FS(sb), name))
			continue;
		if (!STRATA_ACLS_ARE_XATTRS &&
		    (!strcmp(name, XATTR_NAME_POSIX_ACL_ACCESS) ||
		     !strcmp(name, XATTR_NAME_POSIX_ACL_DEFAULT))) {
			err = strata_copy_acl(old, new, name);
			/* As for xattrs: a branch without ACLs cannot keep them. */
			if (err == -EOPNOTSUPP)
				err = 0;
			if (err)
				break;
			continue;
		}
		vlen = vfs_getxattr(STRATA_NOP_IDMAP, old, name, NULL, 0);
		if (vlen == -ENODATA)
			continue;
		if (vlen < 0) {
			err = vlen;
			break;
		}
		if (vlen > value_size) {
			kvfree(value);
			value = kvmalloc(vlen, GFP_KERNEL);
			value_size = value ? vlen : 0;
			if (!value) {
				err = -ENOMEM;
				break;
			}
		}
		vlen = vfs_getxattr(STRATA_NOP_IDMAP, old, name, value, vlen);
		if (vlen < 0) {
			err = vlen == -ENODATA ? 0 : vlen;
			if (err)
				break;
			continue;
		}
		err = strata_do_setxattr(new, name, value, vlen, 0);
		/* A rw branch without xattr support just cannot keep them. */
		if (err == -EOPNOTSUPP)
			err = 0;
		if (err)
			break;
	}
out:
	kvfree(value);
	kvfree(list);
	return err;
}

/* Owner first (chown clears set-id bits), then mode, then times. */
static int strata_copy_attrs(struct dentry *d, const struct kstat *stat)
{
	struct iattr attr = {
		.ia_valid = ATTR_UID | ATTR_GID,
		.ia_uid = stat->uid,
		.ia_gid = stat->gid,
	};
	int err;

	inode_lock(d_inode(d));
	err = strata_do_notify_change(d, &attr);
	if (!err && !S_ISLNK(stat->mode)) {
		attr.ia_valid = ATTR_MODE;
		attr.ia_mode = stat->mode;
		err = strata_do_notify_change(d, &attr);
	}
	if (!err) {
		attr.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
				ATTR_MTIME_SET;
		attr.ia_atime = stat->atime;
		attr.ia_mtime = stat->mtime;
		err = strata_do_notify_change(d, &attr);
	}
	inode_unlock(d_inode(d));
	return err;
}

/* An object of the lower file's type under a temporary name. */
static struct dentry *strata_make_temp(struct strata_copy_ctx *c)
{
	struct dentry *workdir = STRATA_FS(c->sb)->workdir;
	struct inode *wdir = d_inode(workdir);
	umode_t mode = c->stat.mode;
	struct dentry *temp;
	int err;

	inode_lock_nested(wdir, I_MUTEX_PARENT);
	temp = strata_temp_dentry(c->sb);
	if (IS_ERR(temp))
		goto out;
	switch (mode & S_IFMT) {
	case S_IFREG:
		err = strata_do_create(wdir, temp, S_IFREG | 0600);
		break;
	case S_IFDIR:
		err = strata_do_mkdir(wdir, &temp, S_IFDIR | 0700);
		break;
	case S_IFLNK:
		err = strata_do_symlink(wdir, temp, c->link);
		break;
	default:
		err = strata_do_mknod(wdir, temp, mode, c->stat.rdev);
		break;
	}
	if (err) {
		dput(temp);
		temp = ERR_PTR(err);
	}
out:
	inode_unlock(wdir);
	return temp;
}

/* Put the finished temporary in place of the name in the rw branch. */
static int strata_install_temp(struct strata_copy_ctx *c, struct dentry *temp)
{
	struct dentry *workdir = STRATA_FS(c->sb)->workdir;
	const struct qstr *name = &c->dentry->d_name;
	struct dentry *trap, *target;
	int err;

	trap = lock_rename(workdir, c->upperdir);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	err = -EIO;
	if (temp->d_parent != workdir || trap == temp)
		goto out;
	target = lookup_one_len(name->name, c->upperdir, name->len);
	if (IS_ERR(target)) {
		err = PTR_ERR(target);
		goto out;
	}
	/* The union showed the lower file, so nothing may be here. */
	if (d_is_positive(target) || trap == target)
		err = -EEXIST;
	else
		err = strata_do_rename(d_inode(workdir), temp,
				       d_inode(c->upperdir), target, 0);
	dput(target);
out:
	unlock_rename(workdir, c->upperdir);
	return err;
}

static int strata_copy_up_locked(struct strata_copy_ctx *c)
{
	struct strata_entry *e = STRATA_E(c->dentry);
	struct inode *inode = d_inode(c->dentry);
	struct strata_branch *rw = strata_top(STRATA_FS(c->sb));
	struct path temppath;
	struct dentry *temp;
	int err;

	err = vfs_getattr(&c->lower, &c->stat, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (err)
		return err;
	if (S_ISLNK(c->stat.mode)) {
		clear_delayed_call(&c->link_done);
		c->link = vfs_get_link(c->lower.dentry, &c->link_done);
		if (IS_ERR(c->link))
			return PTR_ERR(c->link);
	}

	temp = strata_make_temp(c);
	if (IS_ERR(temp)) {
		err = PTR_ERR(temp);
		goto out_link;
	}
	temppath.mnt = strata_upper_mnt(c->sb);
	temppath.dentry = temp;
	if (S_ISREG(c->stat.mode))
		err = strata_copy_data(c, &temppath);
	if (!err)
		err = strata_copy_xattrs(c->sb, c->lower.dentry, temp);
	if (!err)
		err = strata_copy_attrs(temp, &c->stat);
	/* The copy keeps the union inode number it had below. */
	if (!err)
		err = strata_set_origin_ino(c->sb, temp, inode->i_ino);
	if (!err)
		err = strata_set_impure(c->sb, c->upperdir);
	if (!err)
		err = strata_install_temp(c, temp);
	if (err) {
		strata_discard_temp(c->sb, temp);
		dput(temp);
		goto out_link;
	}

	/* temp is now the real dentry at the name; publish it. */
	if (!strata_inode_upper(inode)) {
		ihold(d_inode(temp));
		WRITE_ONCE(STRATA_I(inode)->upper_br, rw);
		/* Pairs with smp_load_acquire() in strata_inode_upper(). */
		smp_store_release(&STRATA_I(inode)->upper, d_inode(temp));
	}
	strata_entry_set_upper(e, temp, rw);
out_link:
	if (S_ISLNK(c->stat.mode) && !IS_ERR_OR_NULL(c->link))
		do_delayed_call(&c->link_done);
	return err;
}

/*
 * Copy-up is no change of the parent in the union view: give the parent's
 * copy back the times it had before the temporary was renamed into it.
 */
static void strata_restore_times(struct dentry *dir, const struct kstat *st)
{
	struct iattr attr = {
		.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
			    ATTR_MTIME_SET,
		.ia_atime = st->atime,
		.ia_mtime = st->mtime,
	};

	inode_lock(d_inode(dir));
	strata_do_notify_change(dir, &attr);
	inode_unlock(d_inode(dir));
}

/* Copy @dentry up; its parent is in the rw branch already. */
static int strata_copy_up_one(struct dentry *parent, struct dentry *dentry)
{
	struct super_block *sb = dentry->d_sb;
	struct strata_inode *si = STRATA_I(d_inode(dentry));
	struct strata_copy_ctx c = {
		.sb = sb,
		.dentry = dentry,
		.upperdir = strata_upper(parent),
	};
	struct path pathdir = { .mnt = strata_upper_mnt(sb) };
	const struct cred *old;
	u64 start = ktime_get_ns();
	struct kstat pstat;
	int err, perr;

	if (WARN_ON_ONCE(!c.upperdir))
		return -EIO;
	/* Concurrent writers wait here; exactly one of them copies. */
	err = mutex_lock_killable(&si->copy_lock);
	if (err)
		return err;
	if (strata_upper(dentry))
		goto out;
	/* Removed through the union meanwhile: never bring it back. */
	err = -ENOENT;
	if (d_unhashed(dentry))
		goto out;
	strata_real_path(dentry, &c.lower);
	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		goto out;
	old = strata_override_creds(sb);
	pathdir.dentry = c.upperdir;
	perr = vfs_getattr(&pathdir, &pstat, STATX_ATIME | STATX_MTIME,
			   AT_STATX_SYNC_AS_STAT);
	err = strata_copy_up_locked(&c);
	if (!err && !perr)
		strata_restore_times(c.upperdir, &pstat);
	revert_creds(old);
	mnt_drop_write(strata_upper_mnt(sb));
	if (!err) {
		struct strata_stats *st = &STRATA_FS(sb)->stats;
		u64 bytes = S_ISREG(c.stat.mode) ? c.stat.size : 0;

		atomic64_inc(&st->copy_ups);
		atomic64_add(bytes, &st->copy_bytes);
		strata_nl_copy_up_event(dentry, bytes, ktime_get_ns() - start);
	}
out:
	mutex_unlock(&si->copy_lock);
	return err;
}

/* Make @dentry exist in the rw branch, copying up its ancestors first. */
int strata_copy_up(struct dentry *dentry)
{
	int err;

	/* Also refuses a dentry a branch change left behind. */
	err = strata_check_upper(dentry);
	while (!err && !strata_upper(dentry)) {
		struct dentry *next = dget(dentry), *parent;

		/* Find the topmost ancestor that is not in the rw branch. */
		for (;;) {
			parent = dget_parent(next);
			if (strata_upper(parent))
				break;
			dput(next);
			next = parent;
		}
		err = strata_check_upper(parent) ?:
		      strata_copy_up_one(parent, next);
		dput(parent);
		dput(next);
	}
	return err;
}
