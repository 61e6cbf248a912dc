// SPDX-License-Identifier: GPL-2.0
/*
 * Turning the branch list given at mount time into the branch table of a
 * union: defaults for modes, the rules between branches, private clones of
 * the branch mounts, and the filesystem index used for inode numbers.
 */
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/bsearch.h>
#include "strata.h"

/* Dentry flags of filesystems whose names strata cannot merge safely. */
#define STRATA_WEIRD_DENTRY (DCACHE_NEED_AUTOMOUNT | DCACHE_MANAGE_TRANSIT | \
			     DCACHE_OP_HASH | DCACHE_OP_COMPARE)

struct strata_dentry_key {
	struct dentry *dentry;
	unsigned int index;
};

static int strata_key_cmp(const void *a, const void *b)
{
	const struct strata_dentry_key *x = a, *y = b;

	if (x->dentry != y->dentry)
		return x->dentry < y->dentry ? -1 : 1;
	return 0;
}

/*
 * Refuse a branch given twice or one inside another: lookups in the outer
 * one would reach the inner one's files a second time.  Sorting the branch
 * roots and walking each branch's ancestors keeps this O(n log n) for the
 * thousands of branches a container host stacks.
 */
static int strata_check_overlaps(struct fs_context *fc,
				 struct strata_branch_spec *specs,
				 unsigned int nr)
{
	struct strata_dentry_key *keys, key, *hit;
	unsigned int i;
	int err = 0;

	keys = kvmalloc_array(nr, sizeof(*keys), GFP_KERNEL);
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		keys[i].dentry = specs[i].path.dentry;
		keys[i].index = i;
	}
	sort(keys, nr, sizeof(*keys), strata_key_cmp, NULL);
	for (i = 1; i < nr; i++) {
		if (keys[i].dentry == keys[i - 1].dentry) {
			unsigned int later = max(keys[i].index, keys[i - 1].index);

			errorfc(fc, "branch %s: given twice", specs[later].name);
			err = -EINVAL;
			goto out;
		}
	}
	for (i = 0; i < nr && !err; i++) {
		struct dentry *start = specs[i].path.dentry, *d, *parent;

		if (IS_ROOT(start))
			continue;
		for (d = dget_parent(start);; d = parent) {
			key.dentry = d;
			hit = bsearch(&key, keys, nr, sizeof(*keys), strata_key_cmp);
			if (hit) {
				errorfc(fc, "branch %s: inside branch %s",
					specs[i].name, specs[hit->index].name);
				err = -EINVAL;
				break;
			}
			if (IS_ROOT(d))
				break;
			parent = dget_parent(d);
			dput(d);
		}
		dput(d);
	}
out:
	kvfree(keys);
	return err;
}

static int strata_check_branch(struct fs_context *fc,
			       struct strata_branch_spec *spec, int *depth)
{
	struct super_block *sb = spec->path.dentry->d_sb;

	if (spec->path.dentry->d_flags & STRATA_WEIRD_DENTRY) {
		errorfc(fc, "branch %s: filesystem not supported (%s)", spec->name,
			"automount or case-insensitive names");
		return -EINVAL;
	}
	if (strata_mnt_idmap(spec->path.mnt) != STRATA_NOP_IDMAP) {
		errorfc(fc, "branch %s: idmapped mounts are not supported",
			spec->name);
		return -EINVAL;
	}
	if (spec->mode == STRATA_BR_RW &&
	    (sb_rdonly(sb) || __mnt_is_readonly(spec->path.mnt))) {
		errorfc(fc, "branch %s: rw branch on a read-only filesystem",
			spec->name);
		return -EROFS;
	}
	if (sb->s_stack_depth + 1 > FILESYSTEM_MAX_STACK_DEPTH) {
		errorfc(fc, "branch %s: stacking too deep", spec->name);
		return -EINVAL;
	}
	*depth = max(*depth, sb->s_stack_depth + 1);
	return 0;
}

struct strata_fs *strata_fs_alloc(void)
{
	struct strata_fs *sfs = kzalloc(sizeof(*sfs), GFP_KERNEL);

	if (!sfs)
		return NULL;
	INIT_LIST_HEAD(&sfs->branches);
	INIT_LIST_HEAD(&sfs->retired);
	INIT_LIST_HEAD(&sfs->retired_roots);
	mutex_init(&sfs->change_lock);
	mutex_init(&sfs->index_lock);
	return sfs;
}

/* A table for @nr branches; the caller fills br[] and indexes it. */
struct strata_table *strata_table_alloc(struct strata_fs *sfs, unsigned int nr)
{
	struct strata_table *t;

	t = strata_fail_alloc(kvzalloc(struct_size(t, br, nr), GFP_KERNEL));
	if (!t)
		return NULL;
	t->nr = nr;
	t->npos = sfs->next_id;
	t->pos = kvmalloc_array(t->npos, sizeof(*t->pos), GFP_KERNEL);
	if (!t->pos) {
		kvfree(t);
		return NULL;
	}
	INIT_LIST_HEAD(&t->retired);
	return t;
}

/* Fill the id -> position map of a table whose br[] is complete. */
void strata_table_index(struct strata_fs *sfs, struct strata_table *t)
{
	unsigned int i;

	memset(t->pos, 0xff, t->npos * sizeof(*t->pos));
	for (i = 0; i < t->nr; i++)
		t->pos[t->br[i]->id] = i;
}

void strata_table_free(struct strata_table *t)
{
	kvfree(t->pos);
	kvfree(t);
}

/*
 * Number the distinct filesystems in the order branches were added:
 * stable across remounts with the same branches.  Once the inode number
 * layout is fixed (at mount), a filesystem beyond what its bits can
 * number gets no index and its inodes hashed numbers (see strata_ino()).
 */
int strata_branch_fsidx(struct strata_fs *sfs, struct strata_branch *br)
{
	struct super_block *sb = br->mnt->mnt_sb;
	unsigned int j;

	for (j = 0; j < sfs->nfs && sfs->fs_sbs[j] != sb; j++)
		;
	if (j == sfs->nfs) {
		if (sfs->nfs == sfs->fs_cap) {
			unsigned int cap = max(8U, sfs->fs_cap * 2);
			struct super_block **n;

			n = kvmalloc_array(cap, sizeof(*n), GFP_KERNEL);
			if (!n)
				return -ENOMEM;
			if (sfs->nfs)
				memcpy(n, sfs->fs_sbs, sfs->nfs * sizeof(*n));
			kvfree(sfs->fs_sbs);
			sfs->fs_sbs = n;
			sfs->fs_cap = cap;
		}
		sfs->fs_sbs[sfs->nfs++] = sb;
	}
	br->fsidx = j;
	return 0;
}

static int strata_index_filesystems(struct strata_fs *sfs)
{
	struct strata_branch *br;
	int err;

	list_for_each_entry(br, &sfs->branches, all) {
		err = strata_branch_fsidx(sfs, br);
		if (err)
			return err;
	}
	/*
	 * One filesystem: real inode numbers are unique already.  Several:
	 * the top bit marks a hashed fallback, the next bits the fs index.
	 */
	if (sfs->nfs == 1)
		sfs->xino_shift = 64;
	else
		sfs->xino_shift = 64 - 1 - fls(sfs->nfs - 1);
	return 0;
}

int strata_branches_setup(struct fs_context *fc, struct super_block *sb)
{
	struct strata_fs_context *ctx = fc->fs_private;
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_branch_spec *specs = ctx->specs, *all = NULL;
	unsigned int nr = ctx->nr, i;
	int depth = 0, err;

	if (ctx->upper.name) {
		/* overlay spelling: upperdir= is the rw top above lowerdir= */
		all = kvmalloc_array(nr + 1, sizeof(*all), GFP_KERNEL);
		if (!all)
			return -ENOMEM;
		all[0] = ctx->upper;
		if (nr)
			memcpy(all + 1, specs, nr * sizeof(*specs));
		specs = all;
		nr++;
	}
	if (!nr) {
		err = invalfc(fc, "no branches given");
		goto out;
	}
	if (nr > STRATA_MAX_BRANCHES) {
		err = invalfc(fc, "too many branches (max %u)", STRATA_MAX_BRANCHES);
		goto out;
	}

	for (i = 0; i < nr; i++) {
		if (!specs[i].mode_given)
			specs[i].mode = i ? STRATA_BR_RO : STRATA_BR_RW;
		if (specs[i].mode == STRATA_BR_RW && i) {
			err = invalfc(fc, "branch %s: only the top branch may be rw",
				      specs[i].name);
			goto out;
		}
		err = strata_check_branch(fc, &specs[i], &depth);
		if (err)
			goto out;
	}
	if (ctx->workdir.dentry && specs[0].mode != STRATA_BR_RW) {
		err = invalfc(fc, "workdir= needs an rw branch");
		goto out;
	}
	err = strata_check_overlaps(fc, specs, nr);
	if (err)
		goto out;

	for (i = 0; i < nr; i++) {
		struct strata_branch *br;
		struct vfsmount *mnt;

		br = kzalloc(sizeof(*br), GFP_KERNEL);
		if (!br) {
			err = -ENOMEM;
			goto out;
		}
		mnt = clone_private_mount(&specs[i].path);
		if (IS_ERR(mnt)) {
			kfree(br);
			err = PTR_ERR(mnt);
			errorfc(fc, "branch %s: cannot clone its mount (%pe)",
				specs[i].name, mnt);
			goto out;
		}
		/* Lower branches are never written through the union. */
		if (specs[i].mode != STRATA_BR_RW)
			mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
		br->mnt = mnt;
		br->mode = specs[i].mode;
		br->was_rw = br->mode == STRATA_BR_RW;
		br->id = sfs->next_id++;
		list_add_tail(&br->all, &sfs->branches);
		br->name = kstrdup(specs[i].name, GFP_KERNEL);
		if (!br->name) {
			err = -ENOMEM;
			goto out;
		}
	}
	sfs->table = strata_table_alloc(sfs, nr);
	if (!sfs->table) {
		err = -ENOMEM;
		goto out;
	}
	i = 0;
	{
		struct strata_branch *br;

		list_for_each_entry(br, &sfs->branches, all)
			sfs->table->br[i++] = br;
	}
	strata_table_index(sfs, sfs->table);
	err = strata_index_filesystems(sfs);
	if (err)
		goto out;
	sb->s_stack_depth = depth;
	lockdep_set_class(&sfs->index_lock, strata_lock_key(sb, STRATA_LOCK_INDEX));
	sfs->whiteout = ctx->whiteout;
	sfs->userxattr = ctx->userxattr;
out:
	kvfree(all);
	return err;
}

void strata_fs_free(struct strata_fs *sfs)
{
	struct strata_branch *br, *nbr;
	struct strata_table *t, *nt;
	struct strata_entry *e, *ne;
	struct vfsmount **mnts;
	unsigned int n = 0, i = 0;

	dput(sfs->workdir);
	sfs->workdir = NULL;
	/* Before the branch mounts go: the claims hold their dentries. */
	strata_inuse_release(sfs, NULL);
	list_for_each_entry_safe(e, ne, &sfs->retired_roots, retired) {
		list_del(&e->retired);
		strata_entry_free(e);
	}
	list_for_each_entry_safe(t, nt, &sfs->retired, retired) {
		list_del(&t->retired);
		strata_table_free(t);
	}
	if (sfs->table)
		strata_table_free(sfs->table);
	list_for_each_entry(br, &sfs->branches, all)
		n++;
	mnts = n ? kvmalloc_array(n, sizeof(*mnts), GFP_KERNEL) : NULL;
	list_for_each_entry_safe(br, nbr, &sfs->branches, all) {
		WARN_ON_ONCE(atomic_long_read(&br->users));
		dput(br->indexdir);
		if (mnts)
			mnts[i++] = br->mnt;
		else
			kern_unmount(br->mnt);
		kfree(br->name);
		kfree(br);
	}
	/* One RCU grace period for all branches, not one each. */
	if (mnts) {
		kern_unmount_array(mnts, n);
		kvfree(mnts);
	}
	kvfree(sfs->fs_sbs);
	if (sfs->creds)
		put_cred(sfs->creds);
	kfree(sfs);
}
