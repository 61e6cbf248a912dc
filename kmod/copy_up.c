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
#include <linux/falloc.h>
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
	struct strata_real data;	/* where its data is */
	struct strata_lowerdata *ld;	/* for a stub, until published */
	bool meta;			/* copy the attributes only */
	bool index_only;		/* make the index entry, no name */
	bool write_lost;		/* rw branch went read-only meanwhile */
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
			n = strata_splice_direct(in, &ipos, out, &opos, len);
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
 * Copy @size bytes of data from @in to @out: a reflink where the
 * filesystem can, else chunks of copy_file_range or splice, only over the
 * data extents so that holes stay holes.  Then make the copy durable
 * before anything publishes it; a reflink needs no fsync, as it is a
 * logged transaction that the rename publishing it cannot overtake.
 */
static int strata_copy_file(struct file *in, struct file *out, loff_t size)
{
	bool same_sb = file_inode(in)->i_sb == file_inode(out)->i_sb;
	loff_t pos = 0, data, hole;
	int err = 0;

	if (strata_should_fail())
		return -EIO;
	if (!size)
		return 0;
	if (same_sb && vfs_clone_file_range(in, 0, out, 0, size, 0) == size)
		return 0;

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
			return err;
		pos = hole;
	}
	/* A trailing hole: the size is not reached by any data. */
	if (i_size_read(file_inode(out)) < size)
		err = vfs_truncate(&out->f_path, size);
	return err ?: vfs_fsync(out, 0);
}

static int strata_copy_data(const struct path *from, const struct path *to,
			    loff_t size)
{
	struct file *in, *out;
	int err;

	in = dentry_open(from, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(in))
		return PTR_ERR(in);
	out = dentry_open(to, O_WRONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(out)) {
		fput(in);
		return PTR_ERR(out);
	}
	err = strata_copy_file(in, out, size);
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

/*
 * Put the finished temporary at @name in @dir of the rw branch: the
 * object's parent, or the index directory.
 */
static int strata_install_temp(struct strata_copy_ctx *c, struct dentry *temp,
			       struct dentry *dir, const struct qstr *name)
{
	struct dentry *workdir = STRATA_FS(c->sb)->workdir;
	struct dentry *trap, *target;
	int err;

	trap = lock_rename(workdir, dir);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	err = -EIO;
	if (temp->d_parent != workdir || trap == temp)
		goto out;
	target = lookup_one_len(name->name, dir, name->len);
	if (IS_ERR(target)) {
		err = PTR_ERR(target);
		goto out;
	}
	/* The union showed the lower file, so nothing may be here. */
	if (d_is_positive(target) || trap == target)
		err = -EEXIST;
	else
		err = strata_do_rename(d_inode(workdir), temp, d_inode(dir),
				       target, 0);
	dput(target);
out:
	unlock_rename(workdir, dir);
	return err;
}

/* A new name for the index entry @idx: the object's name in the rw branch. */
static struct dentry *strata_link_index(struct strata_copy_ctx *c,
					struct dentry *idx)
{
	const struct qstr *name = &c->dentry->d_name;
	struct inode *dir = d_inode(c->upperdir);
	struct dentry *target;
	int err;

	inode_lock_nested(dir, I_MUTEX_PARENT);
	target = lookup_one_len(name->name, c->upperdir, name->len);
	if (IS_ERR(target))
		goto out;
	err = d_is_positive(target) ? -EEXIST :
				      strata_do_link(idx, dir, target);
	if (!err && d_inode(target) != d_inode(idx))
		err = -EIO;	/* a filesystem that links by copying */
	if (err) {
		dput(target);
		target = ERR_PTR(err);
	}
out:
	inode_unlock(dir);
	return target;
}

/*
 * A lower file with several links whose index entry exists: the name
 * becomes one more link of it.  Under index_lock.
 */
static int strata_copy_up_link(struct strata_copy_ctx *c, struct dentry *idx)
{
	struct inode *inode = d_inode(c->dentry);
	struct strata_branch *rw = strata_top(STRATA_FS(c->sb));
	struct dentry *upper;
	int err;

	if (c->index_only)
		goto publish;
	err = strata_set_impure(c->sb, c->upperdir);
	if (err)
		return err;
	upper = strata_link_index(c, idx);
	if (IS_ERR(upper))
		return PTR_ERR(upper);
	strata_entry_set_upper(STRATA_E(c->dentry), upper, rw);
publish:
	strata_hl_publish(inode, idx);
	if (!strata_inode_upper(inode)) {
		ihold(d_inode(idx));
		WRITE_ONCE(STRATA_I(inode)->upper_br, rw);
		/* Pairs with smp_load_acquire() in strata_inode_upper(). */
		smp_store_release(&STRATA_I(inode)->upper, d_inode(idx));
	}
	return c->index_only ? 0 : strata_hl_drop_lower(c->sb, inode);
}

/* The size of @d, under the write access its caller holds. */
static int strata_set_size(struct dentry *d, loff_t size)
{
	struct iattr attr = { .ia_valid = ATTR_SIZE, .ia_size = size };
	int err;

	inode_lock(d_inode(d));
	err = strata_do_notify_change(d, &attr);
	inode_unlock(d_inode(d));
	return err;
}

/*
 * Copy the data without holding the rw branch's write access: the copy
 * functions take its freeze protection themselves, which must not nest
 * (a freeze between the two would deadlock).  The opened copy keeps the
 * mount writable meanwhile.
 */
static int strata_copy_data_unlocked(struct strata_copy_ctx *c,
				     const struct path *from,
				     const struct path *to, loff_t size)
{
	int err, werr;

	mnt_drop_write(to->mnt);
	err = strata_copy_data(from, to, size);
	werr = mnt_want_write(to->mnt);
	if (werr)
		c->write_lost = true;
	return err ?: werr;
}

/*
 * Build the copy in the work directory: an object of the lower type with
 * its data (or, for a stub, its size and record), xattrs, attributes and
 * union inode number.  Returns it, or ERR_PTR with nothing left behind.
 */
static struct dentry *strata_build_temp(struct strata_copy_ctx *c)
{
	struct inode *inode = d_inode(c->dentry);
	struct path temppath;
	struct dentry *temp;
	int err = 0;

	temp = strata_make_temp(c);
	if (IS_ERR(temp))
		return temp;
	temppath.mnt = strata_upper_mnt(c->sb);
	temppath.dentry = temp;
	c->meta = c->meta && S_ISREG(c->stat.mode) && c->stat.size &&
		  !READ_ONCE(STRATA_FS(c->sb)->no_metacopy);
	if (c->meta) {
		/* A stub: the size without data, and the record. */
		c->ld = strata_lowerdata_new(&c->data);
		err = !c->ld ? -ENOMEM : strata_set_size(temp, c->stat.size) ?:
		      strata_metacopy_set(c->sb, temp, &c->data, c->stat.size);
		if (err == -EOPNOTSUPP) {
			/* The rw branch cannot keep records: copy data. */
			WRITE_ONCE(STRATA_FS(c->sb)->no_metacopy, true);
			c->meta = false;
			err = strata_set_size(temp, 0);
		}
	}
	if (!err && !c->meta && S_ISREG(c->stat.mode)) {
		struct path data = {
			.mnt = c->data.br->mnt,
			.dentry = c->data.dentry,
		};

		err = strata_copy_data_unlocked(c, &data, &temppath,
						c->stat.size);
	}
	if (!err)
		err = strata_copy_xattrs(c->sb, c->lower.dentry, temp);
	if (!err)
		err = strata_copy_attrs(temp, &c->stat);
	/* The copy keeps the union inode number it had below. */
	if (!err)
		err = strata_set_origin_ino(c->sb, temp, inode->i_ino);
	if (err) {
		strata_discard_temp(c->sb, temp);
		dput(temp);
		return ERR_PTR(err);
	}
	return temp;
}

/*
 * The union inode found by lookups under @key (its copy in the rw branch,
 * or its index entry) from now on; they look an object with a copy up by
 * that (strata_get_inode()).  Otherwise the next lookup of a copied-up
 * directory would make a second inode, and d_splice_alias() would move
 * the subdirectories in use from the first one's dentry to the second's
 * (failing with ESTALE when its trylocks fail).
 */
static void strata_rehash(struct inode *inode, struct inode *key)
{
	if (STRATA_I(inode)->real == key)
		return;
	remove_inode_hash(inode);
	__insert_inode_hash(inode, (unsigned long)key);
}

/*
 * Copy-up of a lower file with several links: the copy becomes (or
 * already is) the file's index entry, and the name a link to it.
 */
static int strata_copy_up_indexed(struct strata_copy_ctx *c)
{
	struct strata_fs *sfs = STRATA_FS(c->sb);
	struct inode *inode = d_inode(c->dentry);
	struct dentry *indexdir = strata_top(sfs)->indexdir, *idx, *temp = NULL;
	char name[STRATA_HL_NAME_MAX];
	struct qstr q;
	int err;

	err = strata_hl_name(c->lower.dentry, name, sizeof(name));
	if (err)
		return err;
	q = (struct qstr)QSTR_INIT(name, strlen(name));
	mutex_lock(&sfs->index_lock);
	idx = strata_hl_find(c->sb, c->lower.dentry);
	if (!idx) {
		/*
		 * The copy is built without index_lock: its data copy takes
		 * the rw branch's freeze protection, which ranks above it.
		 */
		mutex_unlock(&sfs->index_lock);
		temp = strata_build_temp(c);
		if (IS_ERR(temp))
			return PTR_ERR(temp);
		/* Every name is still a lower one until it is linked. */
		err = strata_hl_set_lowerlinks(c->sb, temp, c->stat.nlink);
		mutex_lock(&sfs->index_lock);
		/* Another union inode of the file may have made it meanwhile. */
		if (!err)
			idx = strata_hl_find(c->sb, c->lower.dentry);
		if (!err && !idx) {
			err = strata_install_temp(c, temp, indexdir, &q);
			if (!err)
				idx = temp;
		}
		if (idx != temp) {
			strata_discard_temp(c->sb, temp);
			dput(temp);
			temp = NULL;
		}
		if (err)
			goto out;
		if (idx == temp && c->meta)
			strata_metacopy_publish(inode, &c->ld);
	}
	if (IS_ERR(idx)) {
		err = PTR_ERR(idx);
		goto out;
	}
	err = strata_copy_up_link(c, idx);
	if (!err)
		strata_rehash(inode, d_inode(idx));
	/* As in strata_copy_up_locked(): a stub's full copy has its data. */
	if (!err && idx == temp && !c->meta && strata_is_metacopy(inode))
		strata_metacopy_done(inode);
	dput(idx);
out:
	mutex_unlock(&sfs->index_lock);
	return err;
}

static int strata_copy_up_locked(struct strata_copy_ctx *c)
{
	struct strata_entry *e = STRATA_E(c->dentry);
	struct inode *inode = d_inode(c->dentry);
	struct strata_branch *rw = strata_top(STRATA_FS(c->sb));
	struct dentry *temp;
	int err;

	err = vfs_getattr(&c->lower, &c->stat, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (err)
		return err;
	if (strata_hl_wanted(c->sb, &c->stat))
		return strata_copy_up_indexed(c);
	if (c->index_only)
		return 0;
	if (S_ISLNK(c->stat.mode)) {
		clear_delayed_call(&c->link_done);
		c->link = vfs_get_link(c->lower.dentry, &c->link_done);
		if (IS_ERR(c->link))
			return PTR_ERR(c->link);
	}

	temp = strata_build_temp(c);
	if (IS_ERR(temp)) {
		err = PTR_ERR(temp);
		goto out_link;
	}
	err = strata_set_impure(c->sb, c->upperdir) ?:
	      strata_install_temp(c, temp, c->upperdir, &c->dentry->d_name);
	if (err) {
		strata_discard_temp(c->sb, temp);
		dput(temp);
		goto out_link;
	}

	/* temp is now the real dentry at the name; publish it. */
	if (c->meta)
		strata_metacopy_publish(inode, &c->ld);
	if (!strata_inode_upper(inode)) {
		ihold(d_inode(temp));
		WRITE_ONCE(STRATA_I(inode)->upper_br, rw);
		/* Pairs with smp_load_acquire() in strata_inode_upper(). */
		smp_store_release(&STRATA_I(inode)->upper, d_inode(temp));
		strata_rehash(inode, d_inode(temp));
	}
	strata_entry_set_upper(e, temp, rw);
	/*
	 * A full copy of a stub of a lower branch has its data now.  Only
	 * after the upper is published: readers look at the upper first.
	 */
	if (!c->meta && strata_is_metacopy(inode))
		strata_metacopy_done(inode);
out_link:
	if (S_ISLNK(c->stat.mode) && !IS_ERR_OR_NULL(c->link))
		do_delayed_call(&c->link_done);
	return err;
}

/*
 * Give @d back the times (and with @mode, the mode) of @st: copy-up is no
 * change of the parent in the union view, and filling a stub's data is
 * no change of the stub.
 */
static int strata_restore_times(struct dentry *d, const struct kstat *st,
				bool mode)
{
	struct iattr attr = {
		.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
			    ATTR_MTIME_SET | (mode ? ATTR_MODE : 0),
		.ia_atime = st->atime,
		.ia_mtime = st->mtime,
		.ia_mode = st->mode,
	};
	int err;

	inode_lock(d_inode(d));
	err = strata_do_notify_change(d, &attr);
	inode_unlock(d_inode(d));
	return err;
}

#define STRATA_CU_META		0x1	/* a regular file may become a stub */
#define STRATA_CU_INDEX_ONLY	0x2	/* only make the index entry */

/* Copy @dentry up; its parent is in the rw branch already. */
static int strata_copy_up_one(struct dentry *parent, struct dentry *dentry,
			      unsigned int flags)
{
	struct super_block *sb = dentry->d_sb;
	struct strata_inode *si = STRATA_I(d_inode(dentry));
	struct strata_copy_ctx c = {
		.sb = sb,
		.dentry = dentry,
		.upperdir = strata_upper(parent),
		.meta = flags & STRATA_CU_META,
		.index_only = flags & STRATA_CU_INDEX_ONLY,
	};
	struct dentry *idx;
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
	err = 0;
	idx = strata_hl_alias(dentry, NULL);
	if (idx && c.index_only)
		goto out;
	strata_real_path(dentry, &c.lower);
	/* A stub of a lower branch: its attributes, and its data below. */
	c.data = strata_is_metacopy(d_inode(dentry)) ?
		 *strata_lowerdata(d_inode(dentry)) : STRATA_E(dentry)->r[0];
	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		goto out;
	old = strata_override_creds(sb);
	pathdir.dentry = c.upperdir;
	perr = vfs_getattr(&pathdir, &pstat, STATX_ATIME | STATX_MTIME,
			   AT_STATX_SYNC_AS_STAT);
	if (idx) {
		/* Another name of the file made its index entry: link it. */
		mutex_lock(&STRATA_FS(sb)->index_lock);
		err = strata_copy_up_link(&c, idx);
		mutex_unlock(&STRATA_FS(sb)->index_lock);
	} else {
		err = strata_copy_up_locked(&c);
	}
	if (!err && !perr)
		strata_restore_times(c.upperdir, &pstat, false);
	revert_creds(old);
	if (!c.write_lost)
		mnt_drop_write(strata_upper_mnt(sb));
	if (!err) {
		struct strata_stats *st = &STRATA_FS(sb)->stats;
		u64 bytes = !idx && S_ISREG(c.stat.mode) && !c.meta ?
			    c.stat.size : 0;

		atomic64_inc(&st->copy_ups);
		atomic64_add(bytes, &st->copy_bytes);
		strata_nl_copy_up_event(dentry, bytes, ktime_get_ns() - start);
	}
out:
	mutex_unlock(&si->copy_lock);
	strata_lowerdata_free(c.ld);
	return err;
}

static int strata_copy_up_mode(struct dentry *dentry, unsigned int flags)
{
	struct dentry *dir = NULL;
	int err;

	/*
	 * A directory reached through a descriptor may have a stack from
	 * before a branch change; what is written below it must not be.
	 * A file already in the rw branch adds nothing below its parent.
	 */
	if (d_is_dir(dentry))
		dir = dget(dentry);
	else if (!strata_upper(dentry))
		dir = dget_parent(dentry);
	if (dir) {
		strata_refresh_dir(dir);
		dput(dir);
	}
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
		      strata_copy_up_one(parent, next,
					 next == dentry ? flags : 0);
		dput(parent);
		dput(next);
	}
	return err;
}

/*
 * Make @dentry exist in the rw branch, copying up its ancestors first.
 * A regular file becomes a metadata-only copy (metacopy.c) where the rw
 * branch can keep the record: this is for changes of attributes, names
 * and links, which leave the data as it is.
 */
int strata_copy_up(struct dentry *dentry)
{
	return strata_copy_up_mode(dentry, STRATA_CU_META);
}

/*
 * Give a lower file with several links, of which @dentry is one name, its
 * index entry without copying this name (it is about to be removed).
 */
int strata_copy_up_hl_index(struct dentry *dentry)
{
	struct dentry *parent = dget_parent(dentry);
	int err;

	err = strata_copy_up(parent) ?: strata_check_upper(dentry) ?:
	      strata_copy_up_one(parent, dentry,
				 STRATA_CU_META | STRATA_CU_INDEX_ONLY);
	dput(parent);
	return err;
}

/*
 * Give back the blocks a failed fill wrote into a stub.  XFS reserves
 * blocks and quota for a hole punch (it may split extents), which a full
 * filesystem or project quota refuses; a truncate to 0 needs no
 * reservation anywhere, and the size is then set back.  Until that, a
 * crash would leave the stub empty, with its record: reads still go to
 * the lower file, only its size shows 0.
 */
static void strata_punch_stub(const struct path *stub, loff_t size)
{
	struct file *f = dentry_open(stub, O_WRONLY | O_LARGEFILE,
				     current_cred());
	int err;

	if (IS_ERR(f))
		return;
	err = vfs_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			    size);
	fput(f);
	if (err)
		err = vfs_truncate(stub, 0) ?: vfs_truncate(stub, size);
	if (err)
		pr_warn_ratelimited("strata: %pd2: cannot give back the blocks of a failed copy (%d)\n",
				    stub->dentry, err);
}

/*
 * Give a stub its data, in place: copy it from the lower file, make it
 * durable, give back the times and mode the copying changed, and only
 * then remove the record.  With @discard the data is about to be
 * truncated away (O_TRUNC, truncate to 0): the stub is emptied instead.
 */
static int strata_metacopy_fill(struct dentry *dentry, bool discard)
{
	struct super_block *sb = dentry->d_sb;
	struct inode *inode = d_inode(dentry);
	struct strata_inode *si = STRATA_I(inode);
	struct path from, to = { .mnt = strata_upper_mnt(sb) };
	u64 start = ktime_get_ns();
	const struct cred *old;
	struct kstat st;
	loff_t size = 0;
	int err, rerr;

	err = mutex_lock_killable(&si->copy_lock);
	if (err)
		return err;
	if (!strata_is_metacopy(inode))
		goto out;	/* somebody else filled it */
	to.dentry = strata_upper(dentry);
	from.mnt = strata_lowerdata(inode)->br->mnt;
	from.dentry = strata_lowerdata(inode)->dentry;
	old = strata_override_creds(sb);
	err = vfs_getattr(&to, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out_creds;
	if (!discard)
		size = st.size;
	/*
	 * Without the rw branch's write access: these take its freeze
	 * protection themselves (see strata_copy_data_unlocked()).
	 */
	err = discard ? vfs_truncate(&to, 0) :
			strata_copy_data(&from, &to, size);
	/* Failed half way (ENOSPC): give the space back, keep the stub. */
	if (err && size)
		strata_punch_stub(&to, size);
	rerr = mnt_want_write(to.mnt);
	if (rerr) {
		err = err ?: rerr;
		goto out_creds;
	}
	/* Writing the data changed its times, maybe its set-id bits. */
	rerr = strata_restore_times(to.dentry, &st, true);
	if (!err)
		err = rerr ?: strata_metacopy_clear(sb, to.dentry);
	mnt_drop_write(to.mnt);
out_creds:
	revert_creds(old);
	if (err)
		goto out;
	strata_metacopy_done(inode);
	atomic64_add(size, &STRATA_FS(sb)->stats.copy_bytes);
	if (size)
		strata_nl_copy_up_event(dentry, size, ktime_get_ns() - start);
out:
	mutex_unlock(&si->copy_lock);
	return err;
}

/* Make @dentry exist in the rw branch with its data: before writing it. */
int strata_copy_up_data(struct dentry *dentry, bool discard)
{
	int err = strata_copy_up_mode(dentry, discard ? STRATA_CU_META : 0);

	if (!err && d_is_reg(dentry) && strata_is_metacopy(d_inode(dentry)))
		err = strata_metacopy_fill(dentry, discard);
	return err;
}
