// SPDX-License-Identifier: GPL-2.0
/*
 * Hard links of lower files.  A regular file with several names in a
 * lower branch is one file: when the first of its names is copied up,
 * the copy goes into the rw branch's index directory, under a name made
 * of the lower inode's identity, and the name in the union becomes a hard
 * link to it.  A later copy-up of another name links the same entry; a
 * name not copied yet finds the entry at lookup and shows it.  So every
 * name keeps one inode: st_ino, st_nlink and the data are shared, and
 * the index keeps it so across remounts.
 *
 * The entry carries strata.lowerlinks, the number of names the file
 * still has only in lower branches; the union's st_nlink is the entry's
 * link count, minus the index's own link, plus that number.  Removing a
 * lower name through the union first makes the entry, then counts the
 * name off.
 *
 * The index directory is ".wh..wh.index" in the root of the rw branch,
 * or index/ beside work/ with workdir=.  Entries no name uses any more
 * are removed at mount.
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>
#include "vfs.h"

static const char *strata_lowerlinks_xattr(const struct strata_fs *sfs)
{
	return sfs->userxattr ? "user.strata.lowerlinks" :
				"trusted.strata.lowerlinks";
}

int strata_hl_name(struct dentry *real, char *buf, size_t len)
{
	struct inode *inode = d_inode(real);

	return snprintf(buf, len, "%pUb-%lx-%x", &inode->i_sb->s_uuid,
			inode->i_ino, inode->i_generation) >= len ?
		-ENAMETOOLONG : 0;
}

/* Does a copy-up of a file like @st go through the index? */
bool strata_hl_wanted(struct super_block *sb, const struct kstat *st)
{
	struct strata_branch *rw = strata_rw_branch(STRATA_FS(sb));

	return S_ISREG(st->mode) && st->nlink > 1 && rw &&
	       READ_ONCE(rw->indexdir);
}

/*
 * The index entry of the lower file @real, if it has one; NULL if not.
 * Mounter's credentials; called under index_lock.
 */
struct dentry *strata_hl_find(struct super_block *sb, struct dentry *real)
{
	struct strata_branch *rw = strata_rw_branch(STRATA_FS(sb));
	char name[STRATA_HL_NAME_MAX];
	struct dentry *idx;
	int err;

	if (!rw || !READ_ONCE(rw->indexdir) || !d_is_reg(real) ||
	    d_inode(real)->i_nlink < 2)
		return NULL;
	err = strata_hl_name(real, name, sizeof(name));
	if (err)
		return ERR_PTR(err);
	idx = lookup_one_len_unlocked(name, rw->indexdir, strlen(name));
	if (IS_ERR(idx))
		return idx;
	if (d_is_negative(idx) || !d_is_reg(idx)) {
		dput(idx);
		return NULL;
	}
	return idx;
}

int strata_hl_set_lowerlinks(struct super_block *sb, struct dentry *d, u32 n)
{
	__le32 val = cpu_to_le32(n);

	return strata_do_setxattr(d, strata_lowerlinks_xattr(STRATA_FS(sb)),
				  &val, sizeof(val), 0);
}

/* Lower names of the index entry @d still to copy, or -errno. */
int strata_hl_lowerlinks(struct strata_fs *sfs, struct dentry *d)
{
	__le32 val;
	ssize_t n;

	n = vfs_getxattr(STRATA_NOP_IDMAP, d, strata_lowerlinks_xattr(sfs),
			 &val, sizeof(val));
	if (n < 0)
		return n;
	if (n != sizeof(val) || le32_to_cpu(val) > INT_MAX)
		return -EIO;
	return le32_to_cpu(val);
}

/*
 * One lower name of the indexed file @inode is gone (copied up, or
 * removed through the union).  Mounter's credentials, index_lock held.
 */
int strata_hl_drop_lower(struct super_block *sb, struct inode *inode)
{
	struct dentry *idx = STRATA_I(inode)->index;
	int n;

	if (!idx)
		return 0;
	n = strata_hl_lowerlinks(STRATA_FS(sb), idx);
	if (n < 0)
		return n == -ENODATA ? 0 : n;
	return n ? strata_hl_set_lowerlinks(sb, idx, n - 1) : 0;
}

/*
 * A lower name of @inode, prepared with strata_hl_prepare_drop(), is
 * gone.  Not counting it only leaves st_nlink one too high.  The caller
 * holds write access to the rw branch.
 */
void strata_hl_dropped(struct super_block *sb, struct inode *inode)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	const struct cred *old;

	mutex_lock(&sfs->index_lock);
	old = strata_override_creds(sb);
	strata_hl_drop_lower(sb, inode);
	revert_creds(old);
	mutex_unlock(&sfs->index_lock);
}

/* Make @idx the index entry of @inode (once). */
void strata_hl_publish(struct inode *inode, struct dentry *idx)
{
	/* Pairs with smp_load_acquire() in strata_hl_alias(). */
	if (cmpxchg_release(&STRATA_I(inode)->index, NULL, dget(idx)))
		dput(idx);
}

/*
 * A lower name of @dentry is about to be removed through the union: if
 * the file has other names, give it its index entry first, so that they
 * still show the right link count.  Returns 1 when the caller must count
 * the name off with strata_hl_drop_lower() once it is gone.
 */
int strata_hl_prepare_drop(struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	struct path real;
	int err;

	if (!inode || !S_ISREG(inode->i_mode) || strata_upper(dentry))
		return 0;
	if (!strata_hl_alias(dentry, NULL)) {
		struct kstat st;
		const struct cred *old;

		strata_real_path(dentry, &real);
		old = strata_override_creds(dentry->d_sb);
		err = vfs_getattr(&real, &st, STATX_NLINK | STATX_TYPE,
				  AT_STATX_SYNC_AS_STAT);
		revert_creds(old);
		if (err)
			return err;
		if (!strata_hl_wanted(dentry->d_sb, &st))
			return 0;
		err = strata_copy_up_hl_index(dentry);
		if (err)
			return err;
	}
	return 1;
}

/* Index entries no name uses: one link, no lower name left. */
static bool strata_hl_orphan(struct strata_fs *sfs, struct dentry *d)
{
	return d_is_reg(d) && d_inode(d)->i_nlink == 1 &&
	       strata_hl_lowerlinks(sfs, d) <= 0;
}

/*
 * Create (or find) the index directory @name in @parent of the rw
 * branch and drop orphaned entries.  Mounter's credentials, write
 * access held.  An rw branch whose filesystem cannot link just has no
 * index; that is no error.
 */
int strata_hl_setup(struct super_block *sb, struct dentry *parent,
		    const char *name)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_branch *rw = strata_top(sfs);
	struct strata_name *n, *tmp;
	LIST_HEAD(names);
	struct dentry *dir;
	int err = 0;

	if (rw->indexdir)
		return 0;	/* added, removed and added again */
	inode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
	dir = lookup_one_len(name, parent, strlen(name));
	if (!IS_ERR(dir) && d_is_negative(dir)) {
		err = strata_do_mkdir(d_inode(parent), &dir, S_IFDIR | 0700);
		if (err) {
			dput(dir);
			dir = ERR_PTR(err);
		}
	}
	inode_unlock(d_inode(parent));
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	if (!d_is_dir(dir)) {
		dput(dir);
		return -ENOTDIR;
	}
	if (!d_inode(dir)->i_op->link) {
		dput(dir);
		return 0;
	}
	err = strata_list_dir(sb, dir, &names);
	list_for_each_entry_safe(n, tmp, &names, list) {
		struct dentry *d;

		list_del(&n->list);
		d = err ? NULL : lookup_one_len_unlocked(n->name, dir, n->len);
		/* Only the index itself links it: nothing shows it any more. */
		if (!IS_ERR_OR_NULL(d) && d_is_positive(d) &&
		    strata_hl_orphan(sfs, d))
			err = strata_remove_real(dir, d);
		if (!IS_ERR_OR_NULL(d))
			dput(d);
		kfree(n);
	}
	if (err) {
		dput(dir);
		return err;
	}
	WRITE_ONCE(rw->indexdir, dir);
	return 0;
}
