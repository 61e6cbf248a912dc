// SPDX-License-Identifier: GPL-2.0
/*
 * Merged readdir.
 *
 * On the first read (and on every rewind to offset 0) an open union
 * directory reads each real directory of its stack, top first, into a
 * cache: every name once, in branch order, whiteouts and reserved names
 * dropped.  Offsets are positions in that cache, so they stay valid for
 * the life of the open directory and telldir/seekdir work.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/namei.h>
#include <linux/rbtree.h>
#include <linux/slab.h>
#include "strata.h"

struct strata_dirent {
	struct rb_node node;
	struct strata_dirent *next;	/* insertion order */
	u64 ino;
	unsigned int len;
	unsigned char type;
	bool hidden;			/* a whiteout: hides lower names */
	char name[];
};

struct strata_dir_cache {
	struct rb_root names;
	struct strata_dirent *head, **tail;
	struct strata_dirent **vis;	/* what readdir returns, in order */
	size_t nvis;
};

struct strata_dir_file {
	struct mutex lock;		/* serialises cache build and use */
	struct strata_dir_cache *cache;
};

/* State while reading one real directory. */
struct strata_dir_reader {
	struct dir_context ctx;
	struct strata_dir_cache *c;
	struct strata_fs *sfs;
	struct strata_branch *br;
	struct strata_branch *upper_br;	/* the dir's rw branch, if any */
	struct strata_dirent *pending_wh;	/* ".wh.X" seen: hide X below */
	unsigned int count;
	int err;
};

static int strata_name_cmp(const char *a, unsigned int alen,
			   const struct strata_dirent *d)
{
	int r = memcmp(a, d->name, min(alen, d->len));

	return r ?: (int)alen - (int)d->len;
}

static struct strata_dirent *strata_cache_find(struct strata_dir_cache *c,
					       const char *name,
					       unsigned int len,
					       struct rb_node ***linkp,
					       struct rb_node **parentp)
{
	struct rb_node **link = &c->names.rb_node, *parent = NULL;

	while (*link) {
		struct strata_dirent *d = rb_entry(*link, struct strata_dirent, node);
		int r = strata_name_cmp(name, len, d);

		if (!r)
			return d;
		parent = *link;
		link = r < 0 ? &parent->rb_left : &parent->rb_right;
	}
	if (linkp) {
		*linkp = link;
		*parentp = parent;
	}
	return NULL;
}

static struct strata_dirent *strata_dirent_new(const char *name,
					       unsigned int len)
{
	struct strata_dirent *d;

	d = strata_fail_alloc(kmalloc(struct_size(d, name, len + 1),
				      GFP_KERNEL));
	if (!d)
		return NULL;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	d->len = len;
	d->next = NULL;
	d->hidden = false;
	d->type = DT_UNKNOWN;
	d->ino = 0;
	return d;
}

/* Insert @d unless the name is known; false if it was known. */
static bool strata_cache_insert(struct strata_dir_cache *c,
				struct strata_dirent *d)
{
	struct rb_node **link, *parent;

	if (strata_cache_find(c, d->name, d->len, &link, &parent))
		return false;
	rb_link_node(&d->node, parent, link);
	rb_insert_color(&d->node, &c->names);
	*c->tail = d;
	c->tail = &d->next;
	return true;
}

static bool strata_dir_fill(struct dir_context *ctx, const char *name,
			    int len, loff_t offset, u64 ino,
			    unsigned int type)
{
	struct strata_dir_reader *rd =
		container_of(ctx, struct strata_dir_reader, ctx);
	struct strata_dirent *d;

	rd->count++;
	switch (strata_classify_name(&name, &len)) {
	case STRATA_NAME_SKIP:
		return true;
	case STRATA_NAME_WHITEOUT:
		d = strata_dirent_new(name, len);
		if (!d)
			goto nomem;
		d->hidden = true;
		d->next = rd->pending_wh;
		rd->pending_wh = d;
		return true;
	case STRATA_NAME_ENTRY:
		break;
	}
	if (strata_cache_find(rd->c, name, len, NULL, NULL))
		return true;
	d = strata_dirent_new(name, len);
	if (!d)
		goto nomem;
	d->ino = strata_ino(rd->sfs, ino, rd->br);
	d->type = type;
	strata_cache_insert(rd->c, d);
	return true;
nomem:
	rd->err = -ENOMEM;
	return false;
}

/*
 * In an "impure" rw-branch directory some entries are copies that keep
 * the inode number they had below: readdir reports that number too.
 */
static int strata_fix_copied_ino(struct strata_fs *sfs, struct dentry *realdir,
				 struct strata_dirent *first)
{
	struct strata_dirent *d;

	for (d = first; d; d = d->next) {
		struct dentry *real;
		u64 ino;

		/* Whiteouts are never listed: no number to fix. */
		if (d->hidden)
			continue;
		real = lookup_one_len_unlocked(d->name, realdir, d->len);
		if (IS_ERR(real))
			return PTR_ERR(real);
		ino = d_is_positive(real) ? strata_get_origin_ino(sfs, real) : 0;
		dput(real);
		if (ino)
			d->ino = ino;
	}
	return 0;
}

/* Character devices from this branch may be overlay-style whiteouts. */
static int strata_mark_chardev_whiteouts(struct dentry *realdir,
					 struct strata_dirent *first)
{
	struct strata_dirent *d;

	for (d = first; d; d = d->next) {
		struct dentry *real;

		if (d->type != DT_CHR)
			continue;
		real = lookup_one_len_unlocked(d->name, realdir, d->len);
		if (IS_ERR(real))
			return PTR_ERR(real);
		d->hidden = strata_is_whiteout_dentry(real);
		dput(real);
	}
	return 0;
}

static int strata_read_branch(struct strata_dir_reader *rd,
			      struct super_block *sb,
			      const struct strata_real *r)
{
	struct strata_branch *br = r->br;
	struct path realpath = { .mnt = br->mnt, .dentry = r->dentry };
	struct strata_dirent **before = rd->c->tail, *d;
	struct file *realfile;
	int err;

	realfile = dentry_open(&realpath, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	rd->br = r->br;
	do {
		rd->count = 0;
		err = iterate_dir(realfile, &rd->ctx);
	} while (!err && !rd->err && rd->count);
	fput(realfile);
	err = err ?: rd->err;

	if (!err)
		err = strata_mark_chardev_whiteouts(r->dentry, *before);
	if (!err && (br == rd->upper_br || br->was_rw) &&
	    strata_is_impure(rd->sfs, r->dentry))
		err = strata_fix_copied_ino(rd->sfs, r->dentry, *before);
	/* This branch's whiteouts hide only the branches below it. */
	while ((d = rd->pending_wh)) {
		rd->pending_wh = d->next;
		d->next = NULL;
		if (err || !strata_cache_insert(rd->c, d))
			kfree(d);
	}
	return err;
}

static void strata_cache_free(struct strata_dir_cache *c)
{
	struct strata_dirent *d, *next;

	if (!c)
		return;
	for (d = c->head; d; d = next) {
		next = d->next;
		kfree(d);
	}
	kvfree(c->vis);
	kfree(c);
}

static int strata_cache_build(struct dentry *dentry, struct strata_dir_cache **cp)
{
	struct strata_entry *e = STRATA_E(dentry);
	struct dentry *upper = strata_entry_upper(e);
	struct super_block *sb = dentry->d_sb;
	struct strata_dir_reader rd = {
		.ctx.actor = strata_dir_fill,
		.sfs = STRATA_FS(sb),
		.upper_br = upper ? READ_ONCE(e->upper_br) : NULL,
	};
	struct strata_dir_cache *c;
	struct strata_dirent *d;
	const struct cred *old;
	unsigned int i;
	size_t n = 0;
	int err = 0;

	c = strata_fail_alloc(kzalloc(sizeof(*c), GFP_KERNEL));
	if (!c)
		return -ENOMEM;
	c->names = RB_ROOT;
	c->tail = &c->head;
	rd.c = c;

	old = strata_override_creds(sb);
	for (i = 0; i < strata_stack_nr(e, upper) && !err; i++) {
		struct strata_real r = strata_stack_at(e, upper, i);

		err = strata_read_branch(&rd, sb, &r);
	}
	revert_creds(old);

	if (!err) {
		for (d = c->head; d; d = d->next)
			n += !d->hidden;
		c->vis = kvmalloc_array(max_t(size_t, n, 1), sizeof(*c->vis),
					GFP_KERNEL);
		if (!c->vis)
			err = -ENOMEM;
	}
	if (err) {
		strata_cache_free(c);
		return err;
	}
	for (d = c->head; d; d = d->next)
		if (!d->hidden)
			c->vis[c->nvis++] = d;
	*cp = c;
	return 0;
}

static int strata_iterate(struct file *file, struct dir_context *ctx)
{
	struct strata_dir_file *df = file->private_data;
	struct strata_dir_cache *c;
	loff_t i;
	int err = 0;

	mutex_lock(&df->lock);
	if (!df->cache || ctx->pos == 0) {
		strata_cache_free(df->cache);
		df->cache = NULL;
		err = strata_cache_build(file->f_path.dentry, &df->cache);
		if (err)
			goto out;
	}
	if (!dir_emit_dots(file, ctx))
		goto out;
	c = df->cache;
	for (i = ctx->pos - 2; i < c->nvis; i++) {
		struct strata_dirent *d = c->vis[i];

		if (!dir_emit(ctx, d->name, d->len, d->ino, d->type))
			break;
		ctx->pos++;
	}
out:
	mutex_unlock(&df->lock);
	return err;
}

/* rmdir and rename need the target empty in the union view. */
int strata_dir_check_empty(struct dentry *dentry)
{
	struct strata_dir_cache *c;
	int err;

	err = strata_cache_build(dentry, &c);
	if (err)
		return err;
	err = c->nvis ? -ENOTEMPTY : 0;
	strata_cache_free(c);
	return err;
}

static loff_t strata_dir_llseek(struct file *file, loff_t offset, int whence)
{
	switch (whence) {
	case SEEK_CUR:
		offset += file->f_pos;
		break;
	case SEEK_SET:
		break;
	default:
		return -EINVAL;
	}
	return vfs_setpos(file, offset, LLONG_MAX);
}

static int strata_dir_open(struct inode *inode, struct file *file)
{
	struct strata_dir_file *df;

	df = strata_fail_alloc(kzalloc(sizeof(*df), GFP_KERNEL));
	if (!df)
		return -ENOMEM;
	mutex_init(&df->lock);
	file->private_data = df;
	return 0;
}

static int strata_dir_release(struct inode *inode, struct file *file)
{
	struct strata_dir_file *df = file->private_data;

	strata_cache_free(df->cache);
	kfree(df);
	return 0;
}

/* fsync of a directory reaches its copy in the rw branch, if any. */
static int strata_dir_fsync(struct file *file, loff_t start, loff_t end,
			    int datasync)
{
	struct dentry *upper = strata_upper(file->f_path.dentry);
	struct super_block *sb = file->f_path.dentry->d_sb;
	struct path path = { .dentry = upper };
	const struct cred *old;
	struct file *realfile;
	int err;

	if (!upper)
		return 0;
	path.mnt = READ_ONCE(STRATA_E(file->f_path.dentry)->upper_br)->mnt;
	old = strata_override_creds(sb);
	realfile = dentry_open(&path, O_RDONLY | O_DIRECTORY, current_cred());
	err = PTR_ERR_OR_ZERO(realfile);
	if (!err) {
		err = vfs_fsync_range(realfile, start, end, datasync);
		fput(realfile);
	}
	revert_creds(old);
	return err;
}

const struct file_operations strata_dir_fops = {
	.open		= strata_dir_open,
	.release	= strata_dir_release,
	.read		= generic_read_dir,
	.iterate_shared	= strata_iterate,
	.llseek		= strata_dir_llseek,
	.fsync		= strata_dir_fsync,
};
