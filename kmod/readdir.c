// SPDX-License-Identifier: GPL-2.0
/*
 * Merged readdir.
 *
 * A listing (dirlist.h) holds the names of a stack of real directories,
 * each name once, in branch order, whiteouts kept aside as hidden names
 * and reserved names dropped, with the d_type and d_ino readdir reports.
 *
 * An open union directory lists:
 *
 *  - with one real directory in its stack, that directory itself: its
 *    entries are passed on with strata's inode numbers, reserved names
 *    and whiteouts filtered out ("pass-through"), at the real offsets;
 *  - otherwise the listing of its rw directory (read at every rewind)
 *    followed by the listing of its lower stack, minus the lower names
 *    the rw directory has too or whites out.  The lower listing of an
 *    all-rr stack is built once and kept on the union dentry
 *    (name_index.c), so a later opendir only reads the rw part.
 *
 * Offsets in the second case are positions in the two listings: 2 + i
 * for the i-th rw name, 2 + (rw names) + j for the j-th lower one.  They
 * stay valid for the life of the open directory (a rewind to 0 starts
 * over), so telldir/seekdir work.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/hash.h>
#include <linux/bitmap.h>
#include "strata.h"
#include "dirlist.h"

#define STRATA_DCHUNK_DATA	(PAGE_SIZE - offsetof(struct strata_dchunk, data))
#define STRATA_DLIST_MIN_BITS	4

static size_t strata_dname_size(unsigned int len)
{
	return ALIGN(offsetof(struct strata_dname, name) + len + 1,
		     sizeof(unsigned long));
}

/* A place in the chunks of a listing, to walk what was added after it. */
struct strata_dcursor {
	struct strata_dchunk *c;
	unsigned int off;
};

static struct strata_dname *strata_dcursor_next(struct strata_dcursor *cur)
{
	struct strata_dname *d;

	while (cur->c && cur->off >= cur->c->used) {
		cur->c = cur->c->next;
		cur->off = 0;
	}
	if (!cur->c)
		return NULL;
	d = (void *)cur->c->data + cur->off;
	cur->off += strata_dname_size(d->len);
	return d;
}

static struct strata_dcursor strata_dlist_end(const struct strata_name_index *l)
{
	return (struct strata_dcursor){ l->tail, l->tail->used };
}

static struct strata_dchunk *strata_dchunk_new(struct strata_name_index *l)
{
	struct strata_dchunk *c;

	c = strata_fail_alloc(kmalloc(PAGE_SIZE, GFP_KERNEL));
	if (!c)
		return NULL;
	c->next = NULL;
	c->used = 0;
	if (l->tail)
		l->tail->next = c;
	else
		l->chunks = c;
	l->tail = c;
	l->bytes += PAGE_SIZE;
	return c;
}

static struct strata_name_index *strata_dlist_alloc(void)
{
	struct strata_name_index *l;

	l = strata_fail_alloc(kzalloc(sizeof(*l), GFP_KERNEL));
	if (!l)
		return NULL;
	l->bits = STRATA_DLIST_MIN_BITS;
	l->buckets = kcalloc(1U << l->bits, sizeof(*l->buckets), GFP_KERNEL);
	if (!l->buckets || !strata_dchunk_new(l)) {
		strata_dlist_free(l);
		return NULL;
	}
	l->bytes += sizeof(*l) + (sizeof(*l->buckets) << l->bits);
	return l;
}

void strata_dlist_free(struct strata_name_index *l)
{
	struct strata_dchunk *c, *next;

	if (!l)
		return;
	for (c = l->chunks; c; c = next) {
		next = c->next;
		kfree(c);
	}
	kvfree(l->buckets);
	kvfree(l->vis);
	kfree(l);
}

static struct strata_dname *strata_dlist_lookup(const struct strata_name_index *l,
						const char *name,
						unsigned int len, u32 hashval)
{
	struct strata_dname *d;

	hlist_for_each_entry(d, &l->buckets[hash_32(hashval, l->bits)], hash)
		if (d->hashval == hashval && d->len == len &&
		    !memcmp(d->name, name, len))
			return d;
	return NULL;
}

struct strata_dname *strata_dlist_find(const struct strata_name_index *l,
				       const char *name, unsigned int len)
{
	return strata_dlist_lookup(l, name, len, full_name_hash(NULL, name, len));
}

static int strata_dlist_grow(struct strata_name_index *l)
{
	unsigned int bits = l->bits + 1, i;
	struct hlist_head *b;
	struct hlist_node *tmp;
	struct strata_dname *d;

	b = kvcalloc(1U << bits, sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < (1U << l->bits); i++)
		hlist_for_each_entry_safe(d, tmp, &l->buckets[i], hash)
			hlist_add_head(&d->hash, &b[hash_32(d->hashval, bits)]);
	kvfree(l->buckets);
	l->bytes += sizeof(*b) << l->bits;
	l->buckets = b;
	l->bits = bits;
	return 0;
}

static int strata_dlist_insert(struct strata_name_index *l,
			       struct strata_dname *d)
{
	if (l->count >= (2U << l->bits) && strata_dlist_grow(l))
		return -ENOMEM;
	hlist_add_head(&d->hash, &l->buckets[hash_32(d->hashval, l->bits)]);
	l->count++;
	return 0;
}

static struct strata_dname *strata_dname_new(struct strata_name_index *l,
					     const char *name,
					     unsigned int len, u32 hashval)
{
	size_t size = strata_dname_size(len);
	struct strata_dchunk *c = l->tail;
	struct strata_dname *d;

	if (c->used + size > STRATA_DCHUNK_DATA) {
		c = strata_dchunk_new(l);
		if (!c)
			return NULL;
	}
	d = (void *)c->data + c->used;
	c->used += size;
	INIT_HLIST_NODE(&d->hash);
	d->ino = 0;
	d->hashval = hashval;
	d->vidx = 0;
	d->first = 0;
	d->len = len;
	d->type = DT_UNKNOWN;
	d->hidden = false;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	return d;
}

/* State while reading one real directory into a listing. */
struct strata_dlist_reader {
	struct dir_context ctx;
	struct strata_name_index *l;
	struct strata_fs *sfs;
	struct strata_branch *br;
	struct hlist_head pending;	/* this branch's whiteouts */
	unsigned int pos;
	unsigned int count;
	unsigned int max;
	int err;
};

static bool strata_dlist_fill(struct dir_context *ctx, const char *name,
			      int len, loff_t offset, u64 ino,
			      unsigned int type)
{
	struct strata_dlist_reader *rd =
		container_of(ctx, struct strata_dlist_reader, ctx);
	enum strata_name_kind kind;
	struct strata_dname *d;
	u32 hashval;

	rd->count++;
	kind = strata_classify_name(&name, &len);
	if (kind == STRATA_NAME_SKIP)
		return true;
	hashval = full_name_hash(NULL, name, len);
	if (strata_dlist_lookup(rd->l, name, len, hashval))
		return true;
	if (rd->l->count >= rd->max) {
		rd->err = -E2BIG;
		return false;
	}
	d = strata_dname_new(rd->l, name, len, hashval);
	if (!d)
		goto nomem;
	d->first = rd->pos;
	if (kind == STRATA_NAME_WHITEOUT) {
		/* Hides lower branches only: inserted after this one. */
		d->hidden = true;
		hlist_add_head(&d->hash, &rd->pending);
		return true;
	}
	d->ino = strata_ino(rd->sfs, ino, rd->br);
	d->type = type;
	if (strata_dlist_insert(rd->l, d))
		goto nomem;
	return true;
nomem:
	rd->err = -ENOMEM;
	return false;
}

/* Character devices from this branch may be overlay-style whiteouts. */
static int strata_dlist_mark_chardevs(struct dentry *realdir,
				      struct strata_dcursor cur)
{
	struct strata_dname *d;

	while ((d = strata_dcursor_next(&cur))) {
		struct dentry *real;

		if (d->hidden || d->type != DT_CHR)
			continue;
		real = lookup_one_len_unlocked(d->name, realdir, d->len);
		if (IS_ERR(real))
			return PTR_ERR(real);
		d->hidden = strata_is_whiteout_dentry(real);
		dput(real);
	}
	return 0;
}

/*
 * In an "impure" directory of a branch that was rw some entries are
 * copies that keep the inode number they had below: report that one.
 */
static int strata_dlist_fix_copied_ino(struct strata_fs *sfs,
				       struct dentry *realdir,
				       struct strata_dcursor cur)
{
	struct strata_dname *d;

	while ((d = strata_dcursor_next(&cur))) {
		struct dentry *real;
		u64 ino;

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

/* Read the real directory @r, at stack position @pos, into @rd->l. */
static int strata_dlist_read(struct strata_dlist_reader *rd,
			     const struct strata_real *r, unsigned int pos,
			     bool maybe_impure)
{
	struct path realpath = { .mnt = r->br->mnt, .dentry = r->dentry };
	struct strata_dcursor start = strata_dlist_end(rd->l);
	struct hlist_node *tmp;
	struct strata_dname *d;
	struct file *realfile;
	int err;

	realfile = dentry_open(&realpath, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	rd->br = r->br;
	rd->pos = pos;
	INIT_HLIST_HEAD(&rd->pending);
	do {
		rd->count = 0;
		err = iterate_dir(realfile, &rd->ctx);
	} while (!err && !rd->err && rd->count);
	fput(realfile);
	err = err ?: rd->err;

	if (!err)
		err = strata_dlist_mark_chardevs(r->dentry, start);
	if (!err && maybe_impure && strata_is_impure(rd->sfs, r->dentry))
		err = strata_dlist_fix_copied_ino(rd->sfs, r->dentry, start);
	/*
	 * This branch's whiteouts hide only the branches below it.  One
	 * whose name the branch also has stays in its chunk, unused.
	 */
	hlist_for_each_entry_safe(d, tmp, &rd->pending, hash) {
		hlist_del_init(&d->hash);
		if (!err && !strata_dlist_lookup(rd->l, d->name, d->len,
						 d->hashval))
			err = strata_dlist_insert(rd->l, d);
	}
	return err;
}

/* The visible names, in the order they were read. */
static int strata_dlist_finish(struct strata_name_index *l)
{
	struct strata_dcursor cur = { l->chunks, 0 };
	struct strata_dname *d;
	size_t n = 0;

	while ((d = strata_dcursor_next(&cur)))
		n += !d->hidden;
	l->vis = kvmalloc_array(max_t(size_t, n, 1), sizeof(*l->vis),
				GFP_KERNEL);
	if (!l->vis)
		return -ENOMEM;
	l->bytes += max_t(size_t, n, 1) * sizeof(*l->vis);
	cur = (struct strata_dcursor){ l->chunks, 0 };
	while ((d = strata_dcursor_next(&cur))) {
		if (d->hidden)
			continue;
		d->vidx = l->nvis;
		l->vis[l->nvis++] = d;
	}
	return 0;
}

/*
 * The listing of the stack @r[0..@n) (positions 0..@n-1 in it): -E2BIG
 * past @max_names names.  Branches that were rw may hold copies whose
 * inode numbers are recorded; the first of the stack is checked too when
 * @upper (it is the rw directory).
 */
static struct strata_name_index *
strata_dlist_build_stack(struct super_block *sb, const struct strata_real *r,
			 unsigned int n, unsigned int max_names, bool upper)
{
	struct strata_dlist_reader rd = {
		.ctx.actor = strata_dlist_fill,
		.sfs = STRATA_FS(sb),
		.max = max_names,
	};
	const struct cred *old;
	unsigned int i;
	int err = 0;

	rd.l = strata_dlist_alloc();
	if (!rd.l)
		return ERR_PTR(-ENOMEM);
	/* Pairs with smp_store_release() in strata_publish(). */
	rd.l->gen = smp_load_acquire(&rd.sfs->gen);
	old = strata_override_creds(sb);
	for (i = 0; i < n && !err; i++)
		err = strata_dlist_read(&rd, &r[i], i,
					(upper && !i) || r[i].br->was_rw);
	revert_creds(old);
	err = err ?: strata_dlist_finish(rd.l);
	if (err) {
		strata_dlist_free(rd.l);
		return ERR_PTR(err);
	}
	return rd.l;
}

struct strata_name_index *strata_dlist_build(struct super_block *sb,
					     const struct strata_real *r,
					     unsigned int n,
					     unsigned int max_names)
{
	return strata_dlist_build_stack(sb, r, n, max_names, false);
}

/*
 * What an open directory lists.  Pass-through: @realfile.  Otherwise
 * @upper (the rw directory's names, this open's) and @lower (shared when
 * @lower_shared) with @masked, the lower names @upper hides.
 */
struct strata_dir_file {
	struct mutex lock;		/* serialises building and use */
	bool ready;
	struct file *realfile;
	struct dentry *real;		/* the one real dir, pass-through */
	struct strata_name_index *upper;
	struct strata_name_index *lower;
	bool lower_shared;
	unsigned long *masked;
	unsigned int nlower;		/* lower names not masked */
};

static void strata_dir_file_reset(struct strata_dir_file *df)
{
	if (df->realfile)
		fput(df->realfile);
	df->realfile = NULL;
	df->real = NULL;
	strata_dlist_free(df->upper);
	df->upper = NULL;
	if (!df->lower_shared)
		strata_dlist_free(df->lower);
	df->lower = NULL;
	df->lower_shared = false;
	bitmap_free(df->masked);
	df->masked = NULL;
	df->nlower = 0;
	df->ready = false;
}

/*
 * A directory whose stack is one real directory can be passed through,
 * unless some of its entries report another inode number than the real
 * one (copies in an impure directory of a branch that was rw).
 */
static bool strata_dir_can_pass(struct super_block *sb,
				const struct strata_real *r)
{
	const struct cred *old;
	bool impure;

	if (!r->br->was_rw && READ_ONCE(r->br->mode) != STRATA_BR_RW)
		return true;
	old = strata_override_creds(sb);
	impure = strata_is_impure(STRATA_FS(sb), r->dentry);
	revert_creds(old);
	return !impure;
}

static int strata_dir_open_real(struct super_block *sb,
				struct strata_dir_file *df,
				const struct strata_real *r)
{
	struct path path = { .mnt = r->br->mnt, .dentry = r->dentry };
	const struct cred *old;
	struct file *realfile;

	old = strata_override_creds(sb);
	realfile = dentry_open(&path, O_RDONLY | O_DIRECTORY, current_cred());
	revert_creds(old);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	df->realfile = realfile;
	df->real = r->dentry;
	return 0;
}

/* Hide the lower names that the rw directory has or whites out. */
static int strata_dir_mask(struct strata_dir_file *df)
{
	struct strata_dcursor cur = { df->upper->chunks, 0 };
	struct strata_dname *d, *ld;

	df->nlower = df->lower->nvis;
	if (!df->upper->count || !df->lower->nvis)
		return 0;
	df->masked = bitmap_zalloc(df->lower->nvis, GFP_KERNEL);
	if (!df->masked)
		return -ENOMEM;
	while ((d = strata_dcursor_next(&cur))) {
		ld = strata_dlist_lookup(df->lower, d->name, d->len, d->hashval);
		if (ld && !ld->hidden && !__test_and_set_bit(ld->vidx, df->masked))
			df->nlower--;
	}
	return 0;
}

/*
 * A stack of one real directory is passed through: 1 if @df now does,
 * 0 if @dentry needs listings.
 */
static int strata_dir_try_pass(struct dentry *dentry, struct strata_dir_file *df)
{
	struct strata_entry *e = STRATA_E(dentry);
	struct dentry *upper = strata_entry_upper(e);
	struct strata_real r;
	int err;

	if (strata_stack_nr(e, upper) != 1)
		return 0;
	r = strata_stack_at(e, upper, 0);
	/* A rewind of a passed-through directory keeps its file. */
	if (df->realfile && df->real == r.dentry)
		return 1;
	strata_dir_file_reset(df);
	if (!strata_dir_can_pass(dentry->d_sb, &r))
		return 0;
	err = strata_dir_open_real(dentry->d_sb, df, &r);
	if (err)
		return err;
	df->ready = true;
	return 1;
}

/* The listings of @dentry: its rw directory's, then its lower stack's. */
static int strata_dir_build(struct dentry *dentry, struct strata_dir_file *df)
{
	struct super_block *sb = dentry->d_sb;
	struct strata_entry *e = STRATA_E(dentry);
	struct dentry *upper = strata_entry_upper(e);
	struct strata_real r;
	int err;

	strata_dir_file_reset(df);
	if (upper) {
		r = strata_stack_at(e, upper, 0);
		df->upper = strata_dlist_build_stack(sb, &r, 1, UINT_MAX, true);
		if (IS_ERR(df->upper)) {
			err = PTR_ERR(df->upper);
			df->upper = NULL;
			return err;
		}
	}
	if (e->nr) {
		df->lower = strata_index_listing(sb, e, &df->lower_shared);
		if (IS_ERR(df->lower)) {
			err = PTR_ERR(df->lower);
			df->lower = NULL;
			df->lower_shared = false;
			return err;
		}
		if (df->upper) {
			err = strata_dir_mask(df);
			if (err)
				return err;
		} else {
			df->nlower = df->lower->nvis;
		}
	}
	df->ready = true;
	return 0;
}

/* Pass-through: the real directory's entries, filtered. */
struct strata_dir_pass {
	struct dir_context ctx;
	struct dir_context *caller;
	struct strata_fs *sfs;
	struct strata_branch *br;
	struct dentry *realdir;
	u64 dot_ino, dotdot_ino;
	struct dentry *known;		/* a char device looked up for us */
	char *miss;			/* one that is not in the dcache */
	int err;
};

/* Is the char device @name an overlay-style whiteout?  -EAGAIN: unknown. */
static int strata_dir_pass_chardev(struct strata_dir_pass *p, const char *name,
				   int len)
{
	struct qstr q = QSTR_INIT(name, len);
	struct dentry *real;
	int ret;

	real = d_hash_and_lookup(p->realdir, &q);
	if (IS_ERR_OR_NULL(real)) {
		if (!p->known || p->known->d_name.len != len ||
		    memcmp(p->known->d_name.name, name, len))
			return -EAGAIN;
		real = dget(p->known);
	}
	ret = d_is_negative(real) || strata_is_whiteout_dentry(real);
	dput(real);
	return ret;
}

static bool strata_dir_pass_fill(struct dir_context *ctx, const char *name,
				 int len, loff_t offset, u64 ino,
				 unsigned int type)
{
	struct strata_dir_pass *p = container_of(ctx, struct strata_dir_pass, ctx);
	const char *n = name;
	int nlen = len, ret;

	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'))) {
		ino = len == 1 ? p->dot_ino : p->dotdot_ino;
	} else {
		if (strata_classify_name(&n, &nlen) != STRATA_NAME_ENTRY)
			return true;
		if (type == DT_CHR) {
			ret = strata_dir_pass_chardev(p, name, len);
			if (ret == -EAGAIN) {
				/* Look it up with the directory unlocked. */
				p->miss = kmemdup_nul(name, len, GFP_KERNEL);
				if (!p->miss)
					p->err = -ENOMEM;
				return false;
			}
			if (ret)
				return true;
		}
		ino = strata_ino(p->sfs, ino, p->br);
	}
	p->caller->pos = offset;
	return dir_emit(p->caller, name, len, ino, type);
}

static int strata_dir_iterate_real(struct file *file, struct strata_dir_file *df,
				   struct dir_context *ctx)
{
	struct dentry *dentry = file->f_path.dentry;
	struct strata_entry *e = STRATA_E(dentry);
	struct strata_real r = strata_stack_at(e, strata_entry_upper(e), 0);
	struct strata_dir_pass p = {
		.ctx.actor = strata_dir_pass_fill,
		.caller = ctx,
		.sfs = STRATA_FS(dentry->d_sb),
		.br = r.br,
		.realdir = df->real,
		.dot_ino = file_inode(file)->i_ino,
	};
	struct file *realfile = df->realfile;
	struct dentry *parent;
	const struct cred *old;
	loff_t res;
	int err;

	parent = dget_parent(dentry);
	p.dotdot_ino = d_inode(parent)->i_ino;
	dput(parent);
	if (realfile->f_pos != ctx->pos) {
		res = vfs_llseek(realfile, ctx->pos, SEEK_SET);
		if (res < 0)
			return res;
	}
	for (;;) {
		err = iterate_dir(realfile, &p.ctx);
		err = err ?: p.err;
		if (err || !p.miss)
			break;
		dput(p.known);
		old = strata_override_creds(dentry->d_sb);
		p.known = lookup_one_len_unlocked(p.miss, p.realdir,
						  strlen(p.miss));
		revert_creds(old);
		kfree(p.miss);
		p.miss = NULL;
		if (IS_ERR(p.known)) {
			err = PTR_ERR(p.known);
			p.known = NULL;
			break;
		}
	}
	dput(p.known);
	kfree(p.miss);
	ctx->pos = realfile->f_pos;
	return err;
}

static int strata_iterate(struct file *file, struct dir_context *ctx)
{
	struct strata_dir_file *df = file->private_data;
	struct strata_dname *d;
	unsigned int nup;
	loff_t i;
	int err = 0;

	/* A listing made now shows the branches as they are now. */
	if (ctx->pos == 0)
		strata_refresh_dir(file->f_path.dentry);
	mutex_lock(&df->lock);
	if (!df->ready || ctx->pos == 0) {
		err = strata_dir_try_pass(file->f_path.dentry, df);
		if (!err)
			err = strata_dir_build(file->f_path.dentry, df);
		if (err < 0)
			goto out;
		err = 0;
	}
	if (df->realfile) {
		err = strata_dir_iterate_real(file, df, ctx);
		goto out;
	}
	if (!dir_emit_dots(file, ctx))
		goto out;
	nup = df->upper ? df->upper->nvis : 0;
	for (i = ctx->pos - 2; i < nup; i++) {
		d = df->upper->vis[i];
		if (!dir_emit(ctx, d->name, d->len, d->ino, d->type))
			goto out;
		ctx->pos++;
	}
	if (!df->lower)
		goto out;
	for (i -= nup; i < df->lower->nvis; i++) {
		d = df->lower->vis[i];
		if (!df->masked || !test_bit(i, df->masked)) {
			if (!dir_emit(ctx, d->name, d->len, d->ino, d->type))
				break;
		}
		ctx->pos++;
	}
out:
	mutex_unlock(&df->lock);
	return err;
}

/* rmdir and rename need the target empty in the union view. */
int strata_dir_check_empty(struct dentry *dentry)
{
	struct strata_dir_file df = {};
	int err;

	err = strata_dir_build(dentry, &df);
	if (!err && ((df.upper && df.upper->nvis) || df.nlower))
		err = -ENOTEMPTY;
	strata_dir_file_reset(&df);
	return err;
}

static loff_t strata_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct strata_dir_file *df = file->private_data;
	loff_t res;

	mutex_lock(&df->lock);
	if (df->realfile) {
		/* The real directory's offsets, kept in step with ours. */
		res = vfs_llseek(df->realfile, offset, whence);
		if (res >= 0)
			file->f_pos = df->realfile->f_pos;
		goto out;
	}
	switch (whence) {
	case SEEK_CUR:
		offset += file->f_pos;
		break;
	case SEEK_SET:
		break;
	default:
		res = -EINVAL;
		goto out;
	}
	res = vfs_setpos(file, offset, LLONG_MAX);
out:
	mutex_unlock(&df->lock);
	return res;
}

static int strata_dir_open(struct inode *inode, struct file *file)
{
	struct strata_dir_file *df;
	int err;

	df = strata_fail_alloc(kzalloc(sizeof(*df), GFP_KERNEL));
	if (!df)
		return -ENOMEM;
	mutex_init(&df->lock);
	lockdep_set_class(&df->lock, strata_lock_key(inode->i_sb,
						     STRATA_LOCK_LISTING));
	/* Pass-through is decided now: lseek depends on it. */
	err = strata_dir_try_pass(file->f_path.dentry, df);
	if (err < 0) {
		kfree(df);
		return err;
	}
	/* Listings are built on the first read. */
	file->private_data = df;
	return 0;
}

static int strata_dir_release(struct inode *inode, struct file *file)
{
	struct strata_dir_file *df = file->private_data;

	strata_dir_file_reset(df);
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
