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
#include "strata.h"

static struct kmem_cache *strata_inode_cachep;

/*
 * st_ino: the real inode number when all branches share one filesystem.
 * Otherwise the filesystem index goes above the real number; a real
 * number too large for that is hashed into the top half instead.  Both
 * depend only on the branch list, so numbers survive remounts.
 */
u64 strata_ino(struct strata_fs *sfs, u64 real_ino, unsigned int bindex)
{
	u64 fsidx = sfs->br[bindex].fsidx;

	if (sfs->xino_shift >= 64)
		return real_ino;
	if (!(real_ino >> sfs->xino_shift))
		return (fsidx << sfs->xino_shift) | real_ino;
	return BIT_ULL(63) | hash_64(real_ino ^ (fsidx * GOLDEN_RATIO_64), 63);
}

static int strata_permission(strata_idmap_t *idmap, struct inode *inode,
			     int mask)
{
	struct strata_inode *si = STRATA_I(inode);
	struct inode *real = si->real;
	const struct cred *old;
	int err;

	/* The caller against the union view first ... */
	err = generic_permission(idmap, inode, mask);
	if (err)
		return err;

	/* ... then the mounter against the branch. */
	old = strata_override_creds(inode->i_sb);
	if (strata_branch(inode->i_sb, si->bindex)->mode != STRATA_BR_RW &&
	    !special_file(real->i_mode))
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
	/*
	 * Counting subdirectories over every branch is not worth it; like
	 * other union filesystems, merged directories say 1, which tells
	 * find(1) not to rely on the link count.
	 */
	if (S_ISDIR(inode->i_mode) && STRATA_E(dentry)->nr > 1)
		stat->nlink = 1;
	return 0;
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
	.permission	= strata_permission,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
	STRATA_ACL_IOPS,
};

static const struct inode_operations strata_file_iops = {
	.permission	= strata_permission,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
	STRATA_ACL_IOPS,
};

static const struct inode_operations strata_symlink_iops = {
	.get_link	= strata_get_link,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
};

static const struct inode_operations strata_special_iops = {
	.permission	= strata_permission,
	.getattr	= strata_getattr,
	.listxattr	= strata_listxattr,
	STRATA_ACL_IOPS,
};

static int strata_inode_test(struct inode *inode, void *real)
{
	return STRATA_I(inode)->real == real;
}

static int strata_inode_set(struct inode *inode, void *real)
{
	STRATA_I(inode)->real = real;
	ihold(real);
	return 0;
}

static void strata_inode_init(struct inode *inode, struct inode *real,
			      unsigned int bindex)
{
	struct strata_fs *sfs = STRATA_FS(inode->i_sb);
	umode_t mode = real->i_mode;

	STRATA_I(inode)->bindex = bindex;
	inode->i_ino = strata_ino(sfs, real->i_ino, bindex);
	inode->i_mode = mode;
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

struct inode *strata_get_inode(struct super_block *sb,
			       const struct strata_entry *e)
{
	struct inode *real = d_inode(e->r[0].dentry);
	struct inode *inode;

	inode = iget5_locked(sb, (unsigned long)real, strata_inode_test,
			     strata_inode_set, real);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (inode->i_state & I_NEW) {
		strata_inode_init(inode, real, e->r[0].bindex);
		unlock_new_inode(inode);
	}
	return inode;
}

struct inode *strata_alloc_inode(struct super_block *sb)
{
	struct strata_inode *si;

	si = alloc_inode_sb(sb, strata_inode_cachep, GFP_KERNEL);
	if (!si)
		return NULL;
	si->real = NULL;
	si->bindex = 0;
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
	iput(STRATA_I(inode)->real);
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
