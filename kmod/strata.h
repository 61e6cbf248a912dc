/* SPDX-License-Identifier: GPL-2.0 */
/*
 * strata: a union filesystem.  Core objects shared by all of kmod/.
 *
 * A union is an ordered array of branches (index 0 on top).  Every union
 * dentry carries the stack of real dentries it is made of, top first: one
 * for a non-directory, one per branch for a merged directory.  The union
 * inode is keyed by the topmost real inode, so hard links within a branch
 * stay one union inode.
 */
#ifndef _STRATA_H
#define _STRATA_H

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/strata.h>

#define STRATA_MAX_BRANCHES	8192
#define STRATA_WH_PREFIX	".wh."
#define STRATA_WH_PREFIX_LEN	(sizeof(STRATA_WH_PREFIX) - 1)
#define STRATA_WH_OPAQUE	".wh..wh..opq"
/* Entries under ".wh..wh." are aufs/strata internals, never whiteouts. */
#define STRATA_WH_META		".wh..wh."

enum strata_mode {
	STRATA_BR_RW,
	STRATA_BR_RO,
	STRATA_BR_RR,
};

enum strata_whiteout_fmt {
	STRATA_WH_AUFS,
	STRATA_WH_OVERLAY,
};

/* One branch of a mounted union. */
struct strata_branch {
	struct vfsmount *mnt;		/* private clone, root = branch dir */
	char *name;			/* absolute path, for mountinfo */
	unsigned int fsidx;		/* index of its filesystem, for st_ino */
	enum strata_mode mode;
};

/* A branch as given at mount time, before the union exists. */
struct strata_branch_spec {
	struct path path;
	char *name;
	enum strata_mode mode;
	bool mode_given;
};

/* Mount options, filled by params.c and consumed by super.c. */
struct strata_fs_context {
	struct strata_branch_spec *specs;
	unsigned int nr;
	unsigned int alloc;
	struct strata_branch_spec upper;	/* overlay spelling upperdir= */
	struct path workdir;
	bool has_br;			/* br=/branch* keys seen */
	bool has_lower;			/* lowerdir= keys seen */
	enum strata_whiteout_fmt whiteout;
	bool userxattr;
};

/* sb->s_fs_info */
struct strata_fs {
	struct strata_branch *br;
	unsigned int nr;
	unsigned int nfs;		/* distinct branch filesystems */
	unsigned int xino_shift;	/* real ino bits; 64 = no fs index */
	const struct cred *creds;	/* the mounter's, for branch access */
	enum strata_whiteout_fmt whiteout;
	bool userxattr;
};

/* One real dentry of a union dentry's stack. */
struct strata_real {
	struct dentry *dentry;
	unsigned int bindex;
};

/* dentry->d_fsdata of a positive union dentry. */
struct strata_entry {
	struct rcu_head rcu;
	unsigned int nr;
	struct strata_real r[];
};

struct strata_inode {
	struct inode vfs_inode;
	struct inode *real;		/* topmost real inode (the hash key) */
	unsigned int bindex;		/* its branch */
};

static inline struct strata_fs *STRATA_FS(const struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct strata_inode *STRATA_I(const struct inode *inode)
{
	return container_of(inode, struct strata_inode, vfs_inode);
}

static inline struct strata_entry *STRATA_E(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

static inline struct strata_branch *strata_branch(const struct super_block *sb,
						  unsigned int bindex)
{
	return &STRATA_FS(sb)->br[bindex];
}

/* The real path on top of a union dentry's stack. */
static inline void strata_real_path(const struct dentry *dentry,
				    struct path *path)
{
	const struct strata_entry *e = STRATA_E(dentry);

	path->mnt = strata_branch(dentry->d_sb, e->r[0].bindex)->mnt;
	path->dentry = e->r[0].dentry;
}

static inline struct dentry *strata_real_dentry(const struct dentry *dentry)
{
	return STRATA_E(dentry)->r[0].dentry;
}

static inline const struct cred *strata_override_creds(struct super_block *sb)
{
	return override_creds(STRATA_FS(sb)->creds);
}

/* util.c */
extern const struct dentry_operations strata_dentry_ops;
struct strata_entry *strata_entry_alloc(unsigned int nr);
void strata_entry_free(struct strata_entry *e);
struct dentry *strata_d_real(struct dentry *dentry);
bool strata_is_reserved_name(const char *name, unsigned int len);

/* super.c */
int strata_fill_super(struct super_block *sb, struct fs_context *fc);

/* params.c */
int strata_init_fs_context(struct fs_context *fc);
int strata_show_options(struct seq_file *m, struct dentry *root);

/* branch.c */
int strata_branches_setup(struct fs_context *fc, struct super_block *sb);
void strata_fs_free(struct strata_fs *sfs);

/* whiteout.c */
bool strata_is_whiteout_dentry(const struct dentry *real);
int strata_whiteout_present(struct dentry *realdir, const struct qstr *name);
int strata_dir_is_opaque(struct strata_fs *sfs, struct dentry *realdir);

/* namei.c */
struct dentry *strata_lookup(struct inode *dir, struct dentry *dentry,
			     unsigned int flags);
int strata_build_root_entry(struct super_block *sb, struct strata_entry **ep);

/* inode.c */
extern const struct inode_operations strata_dir_iops;
u64 strata_ino(struct strata_fs *sfs, u64 real_ino, unsigned int bindex);
struct inode *strata_get_inode(struct super_block *sb,
			       const struct strata_entry *e);
int strata_inode_cache_init(void);
void strata_inode_cache_exit(void);
struct inode *strata_alloc_inode(struct super_block *sb);
void strata_free_inode(struct inode *inode);
void strata_evict_inode(struct inode *inode);

/* file.c */
extern const struct file_operations strata_file_fops;

/* readdir.c */
extern const struct file_operations strata_dir_fops;

/* xattr.c */
extern const struct xattr_handler *strata_xattr_handlers[];
ssize_t strata_listxattr(struct dentry *dentry, char *list, size_t size);

#endif /* _STRATA_H */
