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

/* Number the distinct filesystems in branch order: stable across remounts. */
static int strata_index_filesystems(struct strata_fs *sfs)
{
	struct super_block **sbs;
	unsigned int i, j;

	sbs = kvmalloc_array(sfs->nr, sizeof(*sbs), GFP_KERNEL);
	if (!sbs)
		return -ENOMEM;
	sfs->nfs = 0;
	for (i = 0; i < sfs->nr; i++) {
		struct super_block *sb = sfs->br[i].mnt->mnt_sb;

		for (j = 0; j < sfs->nfs && sbs[j] != sb; j++)
			;
		if (j == sfs->nfs)
			sbs[sfs->nfs++] = sb;
		sfs->br[i].fsidx = j;
	}
	kvfree(sbs);
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

	sfs->br = kvcalloc(nr, sizeof(*sfs->br), GFP_KERNEL);
	if (!sfs->br) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		struct strata_branch *br = &sfs->br[i];
		struct vfsmount *mnt;

		mnt = clone_private_mount(&specs[i].path);
		if (IS_ERR(mnt)) {
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
		br->name = kstrdup(specs[i].name, GFP_KERNEL);
		sfs->nr = i + 1;
		if (!br->name) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = strata_index_filesystems(sfs);
	if (err)
		goto out;
	sb->s_stack_depth = depth;
	sfs->whiteout = ctx->whiteout;
	sfs->userxattr = ctx->userxattr;
out:
	kvfree(all);
	return err;
}

void strata_fs_free(struct strata_fs *sfs)
{
	struct vfsmount **mnts;
	unsigned int i;

	dput(sfs->workdir);
	sfs->workdir = NULL;
	if (sfs->br) {
		mnts = kvmalloc_array(sfs->nr, sizeof(*mnts), GFP_KERNEL);
		for (i = 0; i < sfs->nr; i++) {
			kfree(sfs->br[i].name);
			if (mnts)
				mnts[i] = sfs->br[i].mnt;
			else
				kern_unmount(sfs->br[i].mnt);
		}
		/* One RCU grace period for all branches, not one each. */
		if (mnts) {
			kern_unmount_array(mnts, sfs->nr);
			kvfree(mnts);
		}
		kvfree(sfs->br);
	}
	if (sfs->creds)
		put_cred(sfs->creds);
	kfree(sfs);
}
