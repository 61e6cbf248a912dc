// SPDX-License-Identifier: GPL-2.0
/*
 * Union inodes: allocation, identity, numbering, and the inode operations
 * shared by every file type.
 *
 * A union inode is keyed by its topmost real inode, so two names of one
 * real inode (hard links inside a branch) are one union inode.  Attributes
 * always come from the real inode; the union inode keeps the type, owner
 * and mode only for the permission check on the caller.
 */
#include <linux/hash.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>
#include "vfs.h"

static struct kmem_cache *strata_inode_cachep;

/*
 * st_ino: the real inode number when all branches share one filesystem.
 * Otherwise the filesystem index goes above the real number; a real
 * number too large for that is hashed into the top half instead.  Both
 * depend only on the branch list, so numbers survive remounts.
 */
u64 strata_ino(struct strata_fs *sfs, u64 real_ino,
	       const struct strata_branch *br)
{
	u64 fsidx = br->fsidx;

	if (sfs->xino_shift >= 64)
		return real_ino;
	if (!(real_ino >> sfs->xino_shift))
		return (fsidx << sfs->xino_shift) | real_ino;
	return BIT_ULL(63) | hash_64(real_ino ^ (fsidx * GOLDEN_RATIO_64), 63);
}

static int strata_permission(strata_idmap_t *idmap, struct inode *inode,
			     int mask)
{
	struct inode *upper = strata_inode_upper(inode);
	struct inode *real = upper ?: STRATA_I(inode)->real;
	const struct cred *old;
	int err;

	/* The caller against the union view first ... */
	err = generic_permission(idmap, inode, mask);
	if (err)
		return err;

	/*
	 * ... then the mounter against the branch.  A lower file is copied
	 * up before it is written, so only reading it is checked here.
	 */
	old = strata_override_creds(inode->i_sb);
	if (!upper && !special_file(real->i_mode))
		mask &= ~(MAY_WRITE | MAY_APPEND);
	err = inode_permission(STRATA_NOP_IDMAP, real, mask);
	revert_creds(old);
	return err;
}

static int strata_getattr(strata_idmap_t *idmap, const struct path *path,
			  struct kstat *stat, u32 request_mask,
			  unsigned int flags)
{
	struct dentry *dentry = path->dentry;
	struct inode *inode = d_inode(dentry);
	const struct cred *old;
	struct path realpath;
	int err;

	strata_real_path(dentry, &realpath);
	old = strata_override_creds(dentry->d_sb);
	if (flags & AT_GETATTR_NOSEC)
		err = vfs_getattr_nosec(&realpath, stat, request_mask, flags);
	else
		err = vfs_getattr(&realpath, stat, request_mask, flags);
	revert_creds(old);
	if (err)
		return err;

	stat->dev = dentry->d_sb->s_dev;
	stat->ino = inode->i_ino;
	/* A file with lower links: its names not copied up count too. */
	if (S_ISREG(inode->i_mode) && strata_inode_upper(inode) &&
	    (stat->nlink > 1 || READ_ONCE(STRATA_I(inode)->index))) {
		int lower;

		old = strata_override_creds(dentry->d_sb);
		lower = strata_hl_lowerlinks(STRATA_FS(dentry->d_sb),
					     realpath.dentry);
		revert_creds(old);
		if (lower >= 0)
			stat->nlink += lower - 1;
	}
	/* A metadata-only copy uses the blocks of its lower data. */
	if (strata_is_metacopy(inode)) {
		struct kstat lst;

		strata_data_path(dentry, &realpath);
		old = strata_override_creds(dentry->d_sb);
		err = vfs_getattr_nosec(&realpath, &lst, STATX_BLOCKS,
					AT_STATX_SYNC_AS_STAT);
		revert_creds(old);
		if (err)
			return err;
		stat->blocks = lst.blocks;
	}
	/*
	 * Counting subdirectories over every branch is not worth it; like
	 * other union filesystems, merged directories say 1, which tells
	 * find(1) not to rely on the link count.
	 */
	if (S_ISDIR(inode->i_mode) &&
	    strata_stack_nr(STRATA_E(dentry), strata_upper(dentry)) > 1)
		stat->nlink = 1;
	return 0;
}

/* Refresh what the union inode mirrors of its real inode. */
void strata_copyattr(struct inode *inode)
{
	struct inode *real = strata_inode_real(inode);

	inode->i_mode = real->i_mode;
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	set_nlink(inode, real->i_nlink);
	i_size_write(inode, i_size_read(real));
}

/* chmod, chown, utimes and truncate: copy up, then change the copy. */
int strata_setattr(strata_idmap_t *idmap, struct dentry *dentry,
		   struct iattr *attr)
{
	struct super_block *sb = dentry->d_sb;
	struct dentry *upper;
	const struct cred *old;
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	/* Only a size change needs the data; truncation to 0 not even that. */
	if (attr->ia_valid & ATTR_SIZE)
		err = strata_copy_up_data(dentry, !attr->ia_size);
	else
		err = strata_copy_up(dentry);
	if (err)
		return err;
	upper = strata_upper(dentry);

	/* ia_file is the union file; the real one has its own. */
	attr->ia_valid &= ~ATTR_FILE;
	/* The real inode decides which set-id bits a write or chown drops. */
	if (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr->ia_valid &= ~ATTR_MODE;

	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		return err;
	old = strata_override_creds(sb);
	inode_lock(d_inode(upper));
	err = strata_do_notify_change(upper, attr);
	inode_unlock(d_inode(upper));
	revert_creds(old);
	mnt_drop_write(strata_upper_mnt(sb));
	strata_copyattr(d_inode(dentry));
	return err;
}

static const char *strata_get_link(struct dentry *dentry, struct inode *inode,
				   struct delayed_call *done)
{
	const struct cred *old;
	const char *link;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	old = strata_override_creds(dentry->d_sb);
	link = vfs_get_link(strata_real_dentry(dentry), done);
	revert_creds(old);
	return link;
}

const struct inode_operations strata_dir_iops = {
	.lookup		= strata_lookup,
	.create		= strata_create,
	.mkdir		= strata_mkdir,
	.mknod		= strata_mknod,
	.symlink	= strata_symlink,
	.link		= strata_link,
	.tmpfile	= strata_tmpfile,
	.unlink		= strata_unlink,
	.rmdir		= strata_rmdir,
	.rename		= strata_rename,
	.setattr	= strata_setattr,
	.permission	= strata_permission,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
	STRATA_ACL_IOPS,
};

static const struct inode_operations strata_file_iops = {
	.setattr	= strata_setattr,
	.permission	= strata_permission,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
	STRATA_ACL_IOPS,
};

static const struct inode_operations strata_symlink_iops = {
	.get_link	= strata_get_link,
	.setattr	= strata_setattr,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
};

static const struct inode_operations strata_special_iops = {
	.setattr	= strata_setattr,
	.permission	= strata_permission,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
	STRATA_ACL_IOPS,
};

/*
 * An inode whose copy lives in a branch that is no longer the rw one (a
 * branch change made it a layer) is left to its open files: a new
 * lookup gets a fresh inode for the file as that layer now shows it.
 */
static int strata_inode_test(struct inode *inode, void *real)
{
	struct strata_inode *si = STRATA_I(inode);
	struct strata_branch *upper_br = READ_ONCE(si->upper_br);

	struct strata_fs *sfs = STRATA_FS(inode->i_sb);

	/* An indexed file is found under its index entry (hardlink.c). */
	if ((si->real != real && READ_ONCE(si->upper) != real) ||
	    (upper_br && upper_br != strata_rw_branch(sfs)))
		return 0;
	/* Nor one whose data lives in a branch removed since. */
	return !strata_is_metacopy(inode) ||
	       strata_branch_pos(strata_table(sfs),
				 strata_lowerdata(inode)->br) != UINT_MAX;
}

/* Would a lookup that found stack @e get @inode, a directory, again? */
bool strata_dir_inode_matches(struct inode *inode,
			      const struct strata_entry *e)
{
	struct dentry *top = strata_entry_upper(e);

	if (!top && e->nr)
		top = e->r[0].dentry;
	return top && d_is_dir(top) && S_ISDIR(inode->i_mode) &&
	       strata_inode_test(inode, d_inode(top));
}

static int strata_inode_set(struct inode *inode, void *real)
{
	STRATA_I(inode)->real = real;
	ihold(real);
	return 0;
}

static void strata_inode_init(struct inode *inode, struct inode *real,
			      struct strata_branch *br)
{
	struct strata_fs *sfs = STRATA_FS(inode->i_sb);
	umode_t mode = real->i_mode;

	inode->i_ino = strata_ino(sfs, real->i_ino, br);
	inode->i_mode = mode;
	strata_lockdep_inode(inode);
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	inode->i_flags |= S_NOATIME | S_NOCMTIME;
	set_nlink(inode, real->i_nlink);
	i_size_write(inode, i_size_read(real));
	/* Let the real inode cache ACLs; see strata_get_inode_acl_op(). */
	inode->i_acl = ACL_DONT_CACHE;
	inode->i_default_acl = ACL_DONT_CACHE;

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &strata_file_iops;
		inode->i_fop = &strata_file_fops;
		break;
	case S_IFDIR:
		inode->i_op = &strata_dir_iops;
		inode->i_fop = &strata_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &strata_symlink_iops;
		break;
	default:
		inode->i_op = &strata_special_iops;
		init_special_inode(inode, mode, real->i_rdev);
		break;
	}
}

static struct inode *strata_iget(struct super_block *sb, struct dentry *top,
				 struct strata_branch *br, bool upper,
				 struct dentry *index)
{
	struct inode *real = d_inode(top);
	struct inode *inode;

	inode = iget5_locked(sb, (unsigned long)real, strata_inode_test,
			     strata_inode_set, real);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW)) {
		/* Looked up through another name before. */
		if (index)
			strata_hl_publish(inode, index);
		return inode;
	}
	strata_inode_init(inode, real, br);
	/*
	 * A copy-up keeps the number the file had below, also once its
	 * branch is a layer (a committed container top).
	 */
	if (upper || br->was_rw) {
		const struct cred *old = strata_override_creds(sb);
		u64 ino = strata_get_origin_ino(STRATA_FS(sb), top);
		int err;

		/* A stub finds its data now, or is unusable. */
		err = strata_metacopy_get(sb, top, br,
					  &STRATA_I(inode)->lowerdata);
		revert_creds(old);
		if (err < 0) {
			iget_failed(inode);
			return ERR_PTR(err);
		}
		if (ino)
			inode->i_ino = ino;
	}
	if (upper) {
		ihold(real);
		STRATA_I(inode)->upper_br = br;
		STRATA_I(inode)->upper = real;
	}
	if (index)
		STRATA_I(inode)->index = dget(index);
	unlock_new_inode(inode);
	return inode;
}

struct inode *strata_get_inode(struct super_block *sb,
			       const struct strata_entry *e)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct dentry *upper = strata_entry_upper(e), *index;
	struct inode *inode;
	const struct cred *old;

	if (upper)
		return strata_iget(sb, upper, e->upper_br, true, NULL);
	if (!d_is_reg(e->r[0].dentry) || d_inode(e->r[0].dentry)->i_nlink < 2 ||
	    !strata_rw_branch(sfs))
		return strata_iget(sb, e->r[0].dentry, e->r[0].br, false, NULL);

	/*
	 * A lower file with several links: if another of its names was
	 * copied up, its index entry is the file now (hardlink.c).  The lock
	 * orders this against copy-ups that make entries and rehash inodes.
	 */
	mutex_lock(&sfs->index_lock);
	old = strata_override_creds(sb);
	index = strata_hl_find(sb, e->r[0].dentry);
	revert_creds(old);
	if (IS_ERR(index))
		inode = ERR_CAST(index);
	else if (index)
		inode = strata_iget(sb, index, strata_rw_branch(sfs), true,
				    index);
	else
		inode = strata_iget(sb, e->r[0].dentry, e->r[0].br, false, NULL);
	mutex_unlock(&sfs->index_lock);
	dput(index);
	return inode;
}

struct inode *strata_alloc_inode(struct super_block *sb)
{
	struct strata_inode *si;

	si = strata_fail_alloc(alloc_inode_sb(sb, strata_inode_cachep,
					      GFP_KERNEL));
	if (!si)
		return NULL;
	si->real = NULL;
	si->upper = NULL;
	si->upper_br = NULL;
	si->lowerdata = NULL;
	si->index = NULL;
	mutex_init(&si->copy_lock);
	lockdep_set_class(&si->copy_lock, strata_lock_key(sb, STRATA_LOCK_COPY));
	return &si->vfs_inode;
}

void strata_free_inode(struct inode *inode)
{
	kmem_cache_free(strata_inode_cachep, STRATA_I(inode));
}

void strata_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	iput(STRATA_I(inode)->upper);
	iput(STRATA_I(inode)->real);
	/* No user of its branch: removed branches live until umount. */
	strata_lowerdata_free(STRATA_I(inode)->lowerdata);
	dput(STRATA_I(inode)->index);
}

static void strata_inode_once(void *p)
{
	inode_init_once(&((struct strata_inode *)p)->vfs_inode);
}

int strata_inode_cache_init(void)
{
	strata_inode_cachep = kmem_cache_create("strata_inode",
						sizeof(struct strata_inode), 0,
						SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
						strata_inode_once);
	return strata_inode_cachep ? 0 : -ENOMEM;
}

void strata_inode_cache_exit(void)
{
	/* Inodes are freed after an RCU grace period. */
	rcu_barrier();
	kmem_cache_destroy(strata_inode_cachep);
}
