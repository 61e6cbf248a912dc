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

struct netlink_ext_ack;

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

/*
 * One branch of a mounted union.  Branches are referenced by pointer, so
 * a live branch change never renumbers what cached dentries hold; every
 * branch ever added lives until the union is unmounted.
 */
struct strata_branch {
	struct vfsmount *mnt;		/* private clone, root = branch dir */
	char *name;			/* absolute path, for mountinfo */
	unsigned int fsidx;		/* index of its filesystem, for st_ino */
	unsigned int id;		/* unique in the union, never reused */
	enum strata_mode mode;		/* READ_ONCE(): branch-set changes it */
	bool was_rw;			/* rw in this mount: may hold copy-ups */
	atomic_long_t users;		/* real dentries held by union entries */
	struct list_head all;		/* in strata_fs.branches */
	struct dentry *indexdir;	/* of a rw branch: index.c; kept */
};

/*
 * The branch order of a union, top first.  A branch change publishes a
 * new table; old ones are kept until unmount because lookups may still
 * walk them.  @pos maps branch ids to positions (UINT_MAX: absent).
 */
struct strata_table {
	struct list_head retired;
	unsigned int nr;
	unsigned int npos;
	unsigned int *pos;
	struct strata_branch *br[];
};

/* What a branch change did, for revalidating cached dentries. */
enum strata_change_kind {
	STRATA_CHANGE_ADD,
	STRATA_CHANGE_DEL,
	STRATA_CHANGE_MODE,
};

struct strata_change {
	u64 gen;
	enum strata_change_kind kind;
	struct strata_branch *br;
	enum strata_mode old_mode;
	bool top;			/* the branch is (was) the top one */
};

/* Changes remembered for revalidation; older dentries are dropped. */
#define STRATA_CHANGE_LOG	64

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
	char *workdir_name;		/* its absolute path, for messages */
	bool has_br;			/* br=/branch* keys seen */
	bool has_lower;			/* lowerdir= keys seen */
	enum strata_whiteout_fmt whiteout;
	bool userxattr;
};

/* Event counts, reported by the control channel. */
struct strata_stats {
	atomic64_t lookups;
	atomic64_t copy_ups;
	atomic64_t copy_bytes;
	atomic64_t whiteouts;
	atomic64_t branch_changes;
};

/* sb->s_fs_info */
struct strata_fs {
	struct strata_table *table;	/* strata_table(): current order */
	struct list_head branches;	/* every branch, removed ones too */
	struct list_head retired;	/* old tables */
	struct list_head retired_roots;	/* old root entries */
	unsigned int next_id;		/* of the next branch */
	struct mutex change_lock;	/* serialises branch changes */
	u64 gen;			/* count of branch changes */
	struct strata_change changes[STRATA_CHANGE_LOG];
	atomic_t open_writers;		/* union files open for writing */
	struct mutex index_lock;	/* index entries and their inodes */
	struct super_block **fs_sbs;	/* filesystem of each fsidx */
	unsigned int fs_cap;
	struct dentry *workdir;		/* in the rw branch; NULL if read-only */
	atomic_long_t tmp_seq;		/* names of temporaries in workdir */
	unsigned int nfs;		/* distinct branch filesystems */
	unsigned int xino_shift;	/* real ino bits; 64 = no fs index */
	const struct cred *creds;	/* the mounter's, for branch access */
	enum strata_whiteout_fmt whiteout;
	bool userxattr;
	bool no_metacopy;		/* the rw branch cannot keep records */
	/* control channel */
	struct list_head node;		/* in the registry of unions */
	u32 id;				/* 0 until registered */
	struct super_block *sb;
	struct mnt_namespace *mnt_ns;	/* compared, never dereferenced */
	struct strata_stats stats;
};

/* One real dentry of a union dentry's stack. */
struct strata_real {
	struct dentry *dentry;
	struct strata_branch *br;
};

/*
 * dentry->d_fsdata of a positive union dentry.  @upper is the real dentry
 * in the rw branch: found there at lookup, or set once by copy-up or
 * create and never changed after; readers load it with
 * strata_entry_upper().  @r is the stack below it, fixed at lookup.
 * @stop is the branch where the lookup walk stopped (NULL: it reached
 * the bottom); with the branches of @r it tells which branch changes
 * make the entry wrong.  The root's entries hold no references
 * (@pinned): branch roots are held by the branch mounts.
 */
struct strata_name_index;

struct strata_entry {
	struct rcu_head rcu;
	struct strata_name_index *index;	/* of rr lower dirs, lazily */
	struct dentry *upper;
	struct strata_branch *upper_br;	/* the rw branch of @upper */
	struct strata_branch *stop;
	struct list_head retired;	/* pinned root entries, replaced */
	struct strata_entry *older;	/* replaced by this one (refresh.c) */
	bool pinned;
	unsigned int nr;
	struct strata_real r[];
};

/*
 * The lower data of a metadata-only copy (metacopy.c).  Allocated only
 * for such files; @active goes false once the data is copied, but the
 * rest stays until eviction for readers that looked at it before.  It
 * is no user of its branch.
 */
struct strata_lowerdata {
	struct strata_real data;
	bool active;
};

struct strata_inode {
	struct inode vfs_inode;
	struct inode *real;		/* real inode at lookup (hash key) */
	struct inode *upper;		/* in the rw branch, set once */
	struct strata_branch *upper_br;	/* branch of @upper */
	struct mutex copy_lock;		/* one copy-up at a time */
	/*
	 * Set once, with its data, for a metadata-only copy: @upper (or
	 * @real, in a branch that was rw) has the attributes, @lowerdata
	 * the data, until the first data write copies it.
	 */
	struct strata_lowerdata *lowerdata;
	/*
	 * A file with several links in a lower branch, copied up through
	 * one of them: its entry in the rw branch's index, where the names
	 * not copied yet find it (hardlink.c).  Set once, kept until eviction.
	 */
	struct dentry *index;
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
	return READ_ONCE(dentry->d_fsdata);
}

/* The current branch table; pairs with smp_store_release() on change. */
static inline struct strata_table *strata_table(const struct strata_fs *sfs)
{
	/* Pairs with smp_store_release() in strata_publish(). */
	return smp_load_acquire(&((struct strata_fs *)sfs)->table);
}

/* Position of @br in table @t, UINT_MAX if it is not in it. */
static inline unsigned int strata_branch_pos(const struct strata_table *t,
					     const struct strata_branch *br)
{
	return br->id < t->npos ? t->pos[br->id] : UINT_MAX;
}

static inline struct strata_branch *strata_top(const struct strata_fs *sfs)
{
	return strata_table(sfs)->br[0];
}

/* The rw branch copy-ups and creates go to, NULL in a read-only union. */
static inline struct strata_branch *strata_rw_branch(const struct strata_fs *sfs)
{
	struct strata_branch *top = strata_top(sfs);

	return READ_ONCE(top->mode) == STRATA_BR_RW ? top : NULL;
}

static inline bool strata_is_writable(const struct strata_fs *sfs)
{
	return READ_ONCE(sfs->workdir);
}

static inline struct dentry *strata_entry_upper(const struct strata_entry *e)
{
	/* Pairs with smp_store_release() in strata_entry_set_upper(). */
	return smp_load_acquire(&e->upper);
}

static inline struct inode *strata_inode_upper(const struct inode *inode)
{
	/* Pairs with smp_store_release() at the end of copy-up. */
	return smp_load_acquire(&STRATA_I(inode)->upper);
}

/* The real inode that currently holds a union inode's data. */
static inline struct inode *strata_inode_real(const struct inode *inode)
{
	return strata_inode_upper(inode) ?: STRATA_I(inode)->real;
}

static inline struct dentry *strata_upper(const struct dentry *dentry)
{
	return dentry->d_fsdata ? strata_entry_upper(STRATA_E(dentry)) : NULL;
}

/* Number of real dentries in a stack, the upper one included. */
static inline unsigned int strata_stack_nr(const struct strata_entry *e,
					   const struct dentry *upper)
{
	return e->nr + (upper ? 1 : 0);
}

/* Layer @i of a stack whose upper was loaded once as @upper. */
static inline struct strata_real strata_stack_at(const struct strata_entry *e,
						 const struct dentry *upper,
						 unsigned int i)
{
	if (upper) {
		if (!i)
			return (struct strata_real){ (struct dentry *)upper,
						     e->upper_br };
		i--;
	}
	return e->r[i];
}

/*
 * The index entry standing in for a lower name of a file with several
 * links that was copied up through another name, or NULL.
 */
static inline struct dentry *strata_hl_alias(const struct dentry *dentry,
					     struct path *path)
{
	struct inode *inode = d_inode(dentry);
	struct dentry *idx;

	if (!inode || !S_ISREG(inode->i_mode))
		return NULL;
	/* Pairs with smp_store_release() in strata_hl_publish(). */
	idx = smp_load_acquire(&STRATA_I(inode)->index);
	if (idx && path) {
		path->mnt = READ_ONCE(STRATA_I(inode)->upper_br)->mnt;
		path->dentry = idx;
	}
	return idx;
}

/* The real path on top of a union dentry's stack. */
static inline void strata_real_path(const struct dentry *dentry,
				    struct path *path)
{
	const struct strata_entry *e = STRATA_E(dentry);
	struct dentry *upper = strata_entry_upper(e);

	if (upper) {
		path->mnt = e->upper_br->mnt;
		path->dentry = upper;
		return;
	}
	if (strata_hl_alias(dentry, path))
		return;
	path->mnt = e->r[0].br->mnt;
	path->dentry = e->r[0].dentry;
}

/* Is the data of a union inode still only in a lower branch? */
static inline bool strata_is_metacopy(const struct inode *inode)
{
	struct strata_lowerdata *ld;

	/* Pairs with smp_store_release() in strata_metacopy_publish(). */
	ld = smp_load_acquire(&STRATA_I(inode)->lowerdata);
	/* Pairs with smp_store_release() in strata_metacopy_done(). */
	return ld && smp_load_acquire(&ld->active);
}

/* The lower data of an inode strata_is_metacopy() said yes to. */
static inline const struct strata_real *
strata_lowerdata(const struct inode *inode)
{
	return &READ_ONCE(STRATA_I(inode)->lowerdata)->data;
}

/*
 * The real path that holds the data of a union dentry: the real path,
 * or the lower file of a metadata-only copy.  The upper is read before
 * the flag, which is set before the upper is published: an upper seen
 * here with the flag clear has its data.
 */
static inline void strata_data_path(const struct dentry *dentry,
				    struct path *path)
{
	const struct strata_entry *e = STRATA_E(dentry);
	struct dentry *upper = strata_entry_upper(e);
	struct inode *inode = d_inode(dentry);

	if (strata_is_metacopy(inode)) {
		const struct strata_real *ld = strata_lowerdata(inode);

		path->mnt = ld->br->mnt;
		path->dentry = ld->dentry;
		return;
	}
	if (upper) {
		path->mnt = READ_ONCE(e->upper_br)->mnt;
		path->dentry = upper;
		return;
	}
	if (strata_hl_alias(dentry, path))
		return;
	path->mnt = e->r[0].br->mnt;
	path->dentry = e->r[0].dentry;
}

static inline struct dentry *strata_real_dentry(const struct dentry *dentry)
{
	const struct strata_entry *e = STRATA_E(dentry);

	return strata_entry_upper(e) ?: strata_hl_alias(dentry, NULL) ?:
	       e->r[0].dentry;
}

static inline struct vfsmount *strata_upper_mnt(const struct super_block *sb)
{
	return strata_top(STRATA_FS(sb))->mnt;
}

static inline const struct cred *strata_override_creds(struct super_block *sb)
{
	return override_creds(STRATA_FS(sb)->creds);
}

/* fault.c: injected failures for tests, see there */
bool strata_should_fail(void);
void strata_fault_init(void);
void strata_fault_exit(void);

/* An allocation that fails on request. */
#define strata_fail_alloc(expr) (strata_should_fail() ? NULL : (expr))

/* util.c */
extern const struct dentry_operations strata_dentry_ops;
struct strata_entry *strata_entry_alloc(unsigned int nr);
void strata_entry_free(struct strata_entry *e);
void strata_entry_set_upper(struct strata_entry *e, struct dentry *upper,
			    struct strata_branch *br);
void strata_real_drop(struct strata_real *r);
int strata_check_upper(struct dentry *dentry);
struct dentry *strata_d_real(struct dentry *dentry, bool data);
bool strata_is_reserved_name(const char *name, unsigned int len);

enum strata_name_kind {
	STRATA_NAME_SKIP,
	STRATA_NAME_ENTRY,
	STRATA_NAME_WHITEOUT,
};

enum strata_name_kind strata_classify_name(const char **name, int *len);

/* super.c */
extern struct file_system_type strata_fs_type;
int strata_fill_super(struct super_block *sb, struct fs_context *fc);

/* netlink.c */
int strata_nl_init(void);
void strata_nl_exit(void);
int strata_nl_register(struct super_block *sb);
void strata_nl_unregister(struct super_block *sb);
void strata_nl_copy_up_event(struct dentry *dentry, u64 size, u64 duration_ns);
void strata_nl_branch_event(struct super_block *sb, int change,
			    const struct strata_branch *br, unsigned int index);
__printf(2, 3)
void strata_nl_errf(struct netlink_ext_ack *extack, const char *fmt, ...);

/* params.c */
int strata_init_fs_context(struct fs_context *fc);
int strata_show_options(struct seq_file *m, struct dentry *root);

/* branch.c */
int strata_branches_setup(struct fs_context *fc, struct super_block *sb);
void strata_fs_free(struct strata_fs *sfs);
struct strata_fs *strata_fs_alloc(void);
struct strata_table *strata_table_alloc(struct strata_fs *sfs, unsigned int nr);
void strata_table_free(struct strata_table *t);
void strata_table_index(struct strata_fs *sfs, struct strata_table *t);
int strata_branch_fsidx(struct strata_fs *sfs, struct strata_branch *br);

/* branch_change.c */
int strata_branch_add(struct super_block *sb, const struct path *path,
		      const char *name, enum strata_mode mode,
		      unsigned int pos, struct netlink_ext_ack *extack);
int strata_branch_del(struct super_block *sb, unsigned int index,
		      struct netlink_ext_ack *extack);
int strata_branch_set(struct super_block *sb, unsigned int index,
		      enum strata_mode mode, struct netlink_ext_ack *extack);
bool strata_entry_still_valid(struct strata_fs *sfs,
			      const struct strata_entry *e, u64 from, u64 to);

/* workdir.c */
struct strata_name {
	struct list_head list;
	unsigned int len;
	char name[];
};

int strata_list_dir(struct super_block *sb, struct dentry *dir,
		    struct list_head *names);
int strata_workdir_setup(struct fs_context *fc, struct super_block *sb,
			 const struct path *given);
int strata_workdir_setup_live(struct super_block *sb);
int strata_clean_dir(struct super_block *sb, struct dentry *dir, int depth);
int strata_remove_real(struct dentry *dir, struct dentry *d);
void strata_discard_temp(struct super_block *sb, struct dentry *temp);
struct dentry *strata_temp_dentry(struct super_block *sb);

/* inuse.c: directories a union writes to, claimed against other unions */
#define STRATA_INUSE_MAX	2	/* rw branch root, workdir= */

struct strata_inuse_dir {
	struct dentry *dentry;
	const char *name;
	const char *what;
};

struct strata_inuse_busy {
	unsigned int mine;		/* index into the dirs claimed */
	char *theirs;			/* kmalloc'ed; NULL without memory */
};

int strata_inuse_claim(struct strata_fs *sfs,
		       const struct strata_inuse_dir *dirs, unsigned int n,
		       struct strata_inuse_busy *busy);
void strata_inuse_release(struct strata_fs *sfs, struct dentry *dentry);
int strata_inuse_claim_mount(struct fs_context *fc, struct super_block *sb);

/* copy_up.c */
int strata_copy_up(struct dentry *dentry);
int strata_copy_up_data(struct dentry *dentry, bool discard);
int strata_copy_up_hl_index(struct dentry *dentry);
int strata_copy_xattrs(struct super_block *sb, struct dentry *old,
		       struct dentry *new);

/* whiteout.c */
bool strata_is_whiteout_dentry(const struct dentry *real);
int strata_whiteout_present(struct dentry *realdir, const struct qstr *name,
			    bool locked);
int strata_dir_is_opaque(struct strata_fs *sfs, struct dentry *realdir);
int strata_whiteout_locked(struct super_block *sb, struct dentry *upperdir,
			   const struct qstr *name);
int strata_whiteout(struct super_block *sb, struct dentry *upperdir,
		    const struct qstr *name);
int strata_unwhiteout_locked(struct dentry *upperdir, const struct qstr *name);
int strata_set_opaque(struct super_block *sb, struct dentry *dir);
char *strata_get_redirect(struct strata_fs *sfs, struct dentry *dir);
int strata_set_origin_ino(struct super_block *sb, struct dentry *real, u64 ino);
u64 strata_get_origin_ino(struct strata_fs *sfs, struct dentry *real);
int strata_set_impure(struct super_block *sb, struct dentry *dir);
bool strata_is_impure(struct strata_fs *sfs, struct dentry *dir);
int strata_set_redirect(struct super_block *sb, struct dentry *dir,
			const char *path);

/* metacopy.c */
int strata_metacopy_set(struct super_block *sb, struct dentry *stub,
			const struct strata_real *data, loff_t size);
int strata_metacopy_get(struct super_block *sb, struct dentry *real,
			struct strata_branch *br, struct strata_lowerdata **ldp);
struct strata_lowerdata *strata_lowerdata_new(const struct strata_real *data);
void strata_lowerdata_free(struct strata_lowerdata *ld);
void strata_metacopy_publish(struct inode *inode,
			     struct strata_lowerdata **ldp);
void strata_metacopy_done(struct inode *inode);
int strata_metacopy_clear(struct super_block *sb, struct dentry *stub);

/* hardlink.c */
/* "<fs uuid>-<inode number>-<generation>" of a lower inode, with NUL. */
#define STRATA_HL_NAME_MAX	80
int strata_hl_setup(struct super_block *sb, struct dentry *parent,
		    const char *name);
bool strata_hl_wanted(struct super_block *sb, const struct kstat *st);
struct dentry *strata_hl_find(struct super_block *sb, struct dentry *real);
int strata_hl_name(struct dentry *real, char *buf, size_t len);
int strata_hl_set_lowerlinks(struct super_block *sb, struct dentry *d, u32 n);
int strata_hl_lowerlinks(struct strata_fs *sfs, struct dentry *d);
int strata_hl_drop_lower(struct super_block *sb, struct inode *inode);
int strata_hl_prepare_drop(struct dentry *dentry);
void strata_hl_dropped(struct super_block *sb, struct inode *inode);
void strata_hl_publish(struct inode *inode, struct dentry *idx);

/* name_index.c */
unsigned int strata_index_first(struct super_block *sb, struct strata_entry *e,
				const struct qstr *name);
void strata_index_free(struct strata_name_index *idx);

/* refresh.c */
bool strata_dentry_current(struct dentry *dentry);
void strata_refresh_dir(struct dentry *dir);
void strata_adopt_entry(struct dentry *dentry, struct strata_entry *e,
			unsigned long time);

/* namei.c */
struct dentry *strata_lookup(struct inode *dir, struct dentry *dentry,
			     unsigned int flags);
int strata_lookup_stack(struct dentry *parent, const struct qstr *name,
			bool lower_only, struct strata_entry **ep);
int strata_build_root_entry(struct super_block *sb, struct strata_table *t,
			    struct strata_entry **ep);

/* inode.c */
extern const struct inode_operations strata_dir_iops;
u64 strata_ino(struct strata_fs *sfs, u64 real_ino,
	       const struct strata_branch *br);
struct inode *strata_get_inode(struct super_block *sb,
			       const struct strata_entry *e);
bool strata_dir_inode_matches(struct inode *inode,
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
int strata_dir_check_empty(struct dentry *dentry);

/* dir.c */
int strata_create(strata_idmap_t *idmap, struct inode *dir,
		  struct dentry *dentry, umode_t mode, bool excl);
int strata_mkdir(strata_idmap_t *idmap, struct inode *dir,
		 struct dentry *dentry, umode_t mode);
int strata_mknod(strata_idmap_t *idmap, struct inode *dir,
		 struct dentry *dentry, umode_t mode, dev_t rdev);
int strata_symlink(strata_idmap_t *idmap, struct inode *dir,
		   struct dentry *dentry, const char *target);
int strata_link(struct dentry *old, struct inode *dir, struct dentry *new);
int strata_tmpfile(strata_idmap_t *idmap, struct inode *dir,
		   struct file *file, umode_t mode);
int strata_unlink(struct inode *dir, struct dentry *dentry);
int strata_rmdir(struct inode *dir, struct dentry *dentry);
int strata_rename(strata_idmap_t *idmap, struct inode *olddir,
		  struct dentry *old, struct inode *newdir,
		  struct dentry *new, unsigned int flags);
int strata_setattr(strata_idmap_t *idmap, struct dentry *dentry,
		   struct iattr *attr);
void strata_copyattr(struct inode *inode);

/* lockdep.c */
enum strata_lock_kind {
	STRATA_LOCK_DIR,	/* i_rwsem of a directory */
	STRATA_LOCK_INODE,	/* i_rwsem of anything else */
	STRATA_LOCK_COPY,	/* strata_inode.copy_lock */
	STRATA_LOCK_LISTING,	/* strata_dir_file.lock */
	STRATA_LOCK_INDEX,	/* strata_fs.index_lock */
	STRATA_LOCK_NR
};

struct lock_class_key *strata_lock_key(struct super_block *sb,
				       enum strata_lock_kind kind);
void strata_lockdep_inode(struct inode *inode);
void strata_lockdep_sb(struct super_block *sb);

/* xattr.c */
extern const struct xattr_handler *strata_xattr_handlers[];
ssize_t strata_listxattr(struct dentry *dentry, char *list, size_t size);
bool strata_xattr_is_private(const struct strata_fs *sfs, const char *name);
int strata_set_acl(struct dentry *dentry, const char *name,
		   struct posix_acl *acl);

#endif /* _STRATA_H */
