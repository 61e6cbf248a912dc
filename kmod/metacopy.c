// SPDX-License-Identifier: GPL-2.0
/*
 * Metadata-only copies.  chmod, chown, utimes, xattr changes, link and
 * rename of a lower regular file copy its attributes into the rw branch
 * but not its data: the copy there (a "stub") is a sparse file of the
 * same size with a record naming the lower file.  Reads go to the lower
 * file, through its page cache; the first open for writing or truncate
 * copies the data into the stub in place and only then removes the
 * record (copy_up.c), so a crash leaves a stub that still reads right.
 *
 * The record, xattr strata.metacopy in the trusted (or, with userxattr,
 * user) namespace, format version 1:
 *
 *	u8 version;		1
 *	u8 reserved[7];		0
 *	__le64 size;		of the data, as a check
 *	char path[];		of the data file from its branch root,
 *				"/usr/lib/x", no NUL
 *
 * The path is walked name by name in each branch below the stub's, top
 * first; the first regular file of the recorded size that is not a stub
 * itself holds the data.  Names are plain (no "." or "..", no symlink is
 * followed), so a record, forged or not, reaches nothing but files of
 * this union's own branches below it.  Records are honoured only in
 * branches that were rw in this mount, as redirects are: an image
 * layer's xattrs never decide where data comes from.
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>
#include "vfs.h"

#define STRATA_METACOPY_V1	1

struct strata_metacopy_rec {
	u8 version;
	u8 reserved[7];
	__le64 size;
	char path[];
} __packed;

static const char *strata_metacopy_xattr(const struct strata_fs *sfs)
{
	return sfs->userxattr ? "user.strata.metacopy" :
				"trusted.strata.metacopy";
}

/* Is @real a stub?  Only asked of files in branches that were rw. */
static bool strata_is_stub(struct strata_fs *sfs, struct dentry *real)
{
	return vfs_getxattr(STRATA_NOP_IDMAP, real, strata_metacopy_xattr(sfs),
			    NULL, 0) > 0;
}

/* The path of @r from its branch root into @buf (PATH_MAX bytes). */
static char *strata_branch_path(const struct strata_real *r, char *buf)
{
	struct dentry *root = r->br->mnt->mnt_root;
	char *p, *rp, *rbuf;
	size_t rlen;

	p = dentry_path_raw(r->dentry, buf, PATH_MAX);
	if (IS_ERR(p) || IS_ROOT(root))
		return p;
	rbuf = __getname();
	if (!rbuf)
		return ERR_PTR(-ENOMEM);
	rp = dentry_path_raw(root, rbuf, PATH_MAX);
	if (IS_ERR(rp)) {
		p = rp;
		goto out;
	}
	rlen = strlen(rp);
	if (strncmp(p, rp, rlen) || p[rlen] != '/')
		p = ERR_PTR(-EXDEV);	/* not under its branch root */
	else
		p += rlen;
out:
	__putname(rbuf);
	return p;
}

/* Write the record naming @data into @stub.  Mounter's credentials. */
int strata_metacopy_set(struct super_block *sb, struct dentry *stub,
			const struct strata_real *data, loff_t size)
{
	struct strata_metacopy_rec *rec;
	char *buf, *path;
	size_t len;
	int err;

	buf = strata_fail_alloc(__getname());
	if (!buf)
		return -ENOMEM;
	path = strata_branch_path(data, buf);
	if (IS_ERR(path)) {
		err = PTR_ERR(path);
		goto out;
	}
	len = strlen(path);
	rec = kzalloc(sizeof(*rec) + len, GFP_KERNEL);
	if (!rec) {
		err = -ENOMEM;
		goto out;
	}
	rec->version = STRATA_METACOPY_V1;
	rec->size = cpu_to_le64(size);
	memcpy(rec->path, path, len);
	err = strata_do_setxattr(stub, strata_metacopy_xattr(STRATA_FS(sb)),
				 rec, sizeof(*rec) + len, 0);
	kfree(rec);
out:
	__putname(buf);
	return err;
}

/* Read and check the record of @real: NULL if there is none. */
static struct strata_metacopy_rec *
strata_metacopy_read(struct strata_fs *sfs, struct dentry *real, size_t *plen)
{
	const char *name = strata_metacopy_xattr(sfs);
	struct strata_metacopy_rec *rec;
	ssize_t len;
	size_t i, start;

	len = vfs_getxattr(STRATA_NOP_IDMAP, real, name, NULL, 0);
	if (len == -ENODATA || len == -EOPNOTSUPP)
		return NULL;
	if (len < 0)
		return ERR_PTR(len);
	if (len < sizeof(*rec) + 2 || len >= sizeof(*rec) + PATH_MAX)
		return ERR_PTR(-EIO);
	/* One spare byte: the path is used as a string. */
	rec = strata_fail_alloc(kzalloc(len + 1, GFP_KERNEL));
	if (!rec)
		return ERR_PTR(-ENOMEM);
	if (vfs_getxattr(STRATA_NOP_IDMAP, real, name, rec, len) != len)
		goto bad;
	len -= sizeof(*rec);
	if (rec->version != STRATA_METACOPY_V1 || rec->path[0] != '/' ||
	    memchr(rec->path, '\0', len))
		goto bad;
	/* Every component a plain name a union could show. */
	for (start = 1, i = 1; i <= len; i++) {
		size_t n = i - start;
		const char *c = rec->path + start;
		bool dots = c[0] == '.' && (n == 1 || (n == 2 && c[1] == '.'));

		if (i < len && rec->path[i] != '/')
			continue;
		if (!n || n > NAME_MAX || dots || strata_is_reserved_name(c, n))
			goto bad;
		start = i + 1;
	}
	*plen = len;
	return rec;
bad:
	kfree(rec);
	return ERR_PTR(-EIO);
}

/* Walk @path (modified) from @root by plain names; NULL if absent. */
static struct dentry *strata_walk_names(struct dentry *root, char *path)
{
	struct dentry *d = dget(root), *next;
	char *comp;

	while ((comp = strsep(&path, "/"))) {
		if (!*comp)
			continue;
		if (!d_can_lookup(d)) {
			dput(d);
			return NULL;
		}
		next = lookup_one_len_unlocked(comp, d, strlen(comp));
		dput(d);
		if (IS_ERR(next))
			return next;
		if (d_is_negative(next)) {
			dput(next);
			return NULL;
		}
		d = next;
	}
	return d;
}

/*
 * Is @real, found in branch @br, a stub?  If so, find its data below @br
 * and return 1 with it in a new *@ldp; 0 if it is no stub.  -EIO when
 * the data is nowhere (the layer holding it is not in this union).
 * Called with the mounter's credentials.
 */
int strata_metacopy_get(struct super_block *sb, struct dentry *real,
			struct strata_branch *br, struct strata_lowerdata **ldp)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_table *t = strata_table(sfs);
	struct strata_metacopy_rec *rec;
	unsigned int i, pos;
	size_t len;
	char *path;
	int err = -EIO;

	if (!br->was_rw || !d_is_reg(real))
		return 0;
	rec = strata_metacopy_read(sfs, real, &len);
	if (IS_ERR_OR_NULL(rec))
		return PTR_ERR_OR_ZERO(rec);
	path = kmalloc(len + 1, GFP_KERNEL);
	if (!path) {
		err = -ENOMEM;
		goto out;
	}
	pos = strata_branch_pos(t, br);
	for (i = pos == UINT_MAX ? t->nr : pos + 1; i < t->nr; i++) {
		struct strata_branch *b = t->br[i];
		struct dentry *d;

		memcpy(path, rec->path, len + 1);
		d = strata_walk_names(b->mnt->mnt_root, path);
		if (IS_ERR(d)) {
			err = PTR_ERR(d);
			break;
		}
		if (!d)
			continue;
		if (d_is_reg(d) && i_size_read(d_inode(d)) == le64_to_cpu(rec->size) &&
		    !(b->was_rw && strata_is_stub(sfs, d))) {
			struct strata_real data = { d, b };

			*ldp = strata_lowerdata_new(&data);
			err = *ldp ? 1 : -ENOMEM;
			dput(d);
			break;
		}
		dput(d);
	}
	kfree(path);
out:
	kfree(rec);
	return err;
}

/* The lower data @data of a stub to be; the new holds a reference. */
struct strata_lowerdata *strata_lowerdata_new(const struct strata_real *data)
{
	struct strata_lowerdata *ld = kmalloc(sizeof(*ld), GFP_KERNEL);

	if (ld) {
		ld->data.dentry = dget(data->dentry);
		ld->data.br = data->br;
		ld->active = true;
	}
	return ld;
}

void strata_lowerdata_free(struct strata_lowerdata *ld)
{
	if (ld) {
		dput(ld->data.dentry);
		kfree(ld);
	}
}

/*
 * Make @inode a metadata-only copy of *@ldp, which it takes: before its
 * stub is published, so that whoever sees the stub sees the data.
 */
void strata_metacopy_publish(struct inode *inode, struct strata_lowerdata **ldp)
{
	struct strata_inode *si = STRATA_I(inode);

	if (strata_is_metacopy(inode))
		return;		/* a stub in a lower branch, copied up again */
	if (WARN_ON_ONCE(si->lowerdata))
		return;
	/* Pairs with smp_load_acquire() in strata_is_metacopy(). */
	smp_store_release(&si->lowerdata, *ldp);
	*ldp = NULL;
}

/* @inode has its data now; its lower data stays for earlier readers. */
void strata_metacopy_done(struct inode *inode)
{
	/* Pairs with smp_load_acquire() in strata_is_metacopy(). */
	smp_store_release(&STRATA_I(inode)->lowerdata->active, false);
}

/* Remove the record of a stub whose data is now its own. */
int strata_metacopy_clear(struct super_block *sb, struct dentry *stub)
{
	int err;

	err = strata_do_removexattr(stub, strata_metacopy_xattr(STRATA_FS(sb)));
	return err == -ENODATA ? 0 : err;
}
