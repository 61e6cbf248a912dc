/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where the Debian 6.1 and 6.12 kernel APIs differ for
 * strata.  kmod/compat.mk probes the target headers and defines the
 * STRATA_HAVE_* macros used here; the logic never tests kernel versions.
 * Functions whose signatures differ live in compat.c as thin stubs over
 * version-independent workers.
 */
#ifndef _STRATA_COMPAT_H
#define _STRATA_COMPAT_H

#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/dcache.h>
#include <linux/posix_acl.h>

/* 6.3 replaced the user namespace of a mount by struct mnt_idmap. */
#ifdef STRATA_HAVE_MNT_IDMAP
typedef struct mnt_idmap strata_idmap_t;
#define strata_mnt_idmap(mnt)	mnt_idmap(mnt)
#define STRATA_NOP_IDMAP	(&nop_mnt_idmap)
#else
typedef struct user_namespace strata_idmap_t;
#define strata_mnt_idmap(mnt)	mnt_user_ns(mnt)
#define STRATA_NOP_IDMAP	(&init_user_ns)
#endif

/*
 * 6.8+ asks stacked filesystems to skip the security check on the real
 * inode when the caller already did (AT_GETATTR_NOSEC); older kernels do
 * not have the flag.
 */
#ifndef AT_GETATTR_NOSEC
#define AT_GETATTR_NOSEC 0
#endif

/*
 * 6.6 records who froze a superblock, so a kernel freeze (a branch
 * change) and one from userspace (FIFREEZE) do not undo each other.
 */
#ifdef STRATA_HAVE_FREEZE_HOLDER
#define strata_freeze_super(sb)	freeze_super(sb, FREEZE_HOLDER_KERNEL)
#define strata_thaw_super(sb)	thaw_super(sb, FREEZE_HOLDER_KERNEL)
#else
#define strata_freeze_super(sb)	freeze_super(sb)
#define strata_thaw_super(sb)	thaw_super(sb)
#endif

/* struct renamedata names its idmap fields after the idmap type. */
#ifdef STRATA_HAVE_MNT_IDMAP
#define STRATA_RENAMEDATA_IDMAPS(idmap) \
	.old_mnt_idmap = (idmap), .new_mnt_idmap = (idmap)
#else
#define STRATA_RENAMEDATA_IDMAPS(idmap) \
	.old_mnt_userns = (idmap), .new_mnt_userns = (idmap)
#endif

/*
 * POSIX ACLs: plain xattrs on 6.1; since 6.2 the xattr calls refuse ACL
 * names and vfs_{get,set,remove}_acl() must be used.
 */
int strata_copy_acl(struct dentry *old, struct dentry *new, const char *name);
int strata_real_set_acl(struct dentry *real, const char *name,
			struct posix_acl *acl);
#ifdef STRATA_HAVE_GET_INODE_ACL
#define STRATA_ACLS_ARE_XATTRS false
#else
#define STRATA_ACLS_ARE_XATTRS true
#endif

struct pipe_inode_info;

/* Open the real file behind a union file, keeping the union path visible. */
struct file *strata_open_real(struct file *user_file, int flags,
			      const struct path *realpath,
			      const struct cred *cred);

/* An unnamed real file in @parentpath for O_TMPFILE through the union. */
struct file *strata_open_real_tmpfile(struct file *user_file,
				      const struct path *parentpath,
				      umode_t mode, const struct cred *cred);

/*
 * do_splice_direct() with the output's freeze protection held, as 6.12
 * takes it itself and 6.1 leaves it to the caller.
 */
ssize_t strata_splice_direct(struct file *in, loff_t *ipos, struct file *out,
			     loff_t *opos, size_t len);

/* splice_read on the real file (vfs_splice_read is not exported in 6.1). */
ssize_t strata_real_splice_read(struct file *realfile, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags);

/* The POSIX ACL used for permission checks of a real inode. */
struct posix_acl *strata_real_inode_acl(struct inode *realinode, int type);

/* d_op->d_real changed signature in 6.10; both forward to strata_d_real(). */
#ifdef STRATA_HAVE_D_REAL_TYPE
struct dentry *strata_d_real_op(struct dentry *dentry, enum d_real_type type);
#else
struct dentry *strata_d_real_op(struct dentry *dentry,
				const struct inode *inode);
#endif

/*
 * ACL inode operations: 6.1 has ->get_acl(inode, type, rcu); 6.2+ renamed
 * it ->get_inode_acl and added a dentry-based ->get_acl for getxattr.
 */
struct posix_acl *strata_get_inode_acl_op(struct inode *inode, int type,
					  bool rcu);
#ifdef STRATA_HAVE_GET_INODE_ACL
struct posix_acl *strata_get_acl_op(strata_idmap_t *idmap,
				    struct dentry *dentry, int type);
int strata_set_acl_op(strata_idmap_t *idmap, struct dentry *dentry,
		      struct posix_acl *acl, int type);
#define STRATA_ACL_IOPS					\
	.get_inode_acl	= strata_get_inode_acl_op,	\
	.get_acl	= strata_get_acl_op,		\
	.set_acl	= strata_set_acl_op
#else
#define STRATA_ACL_IOPS					\
	.get_acl	= strata_get_inode_acl_op
#endif

#endif /* _STRATA_COMPAT_H */
