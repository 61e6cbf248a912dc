// SPDX-License-Identifier: GPL-2.0
/*
 * Directories in use: a union with an rw branch writes into that branch
 * and empties its work directory (and prunes its hard-link index) at
 * every set-up, so a second union over the same directories would
 * delete the temporaries of the first one's copy-ups in flight.  Each
 * union therefore claims the real directories it writes to, its rw
 * branch root and its workdir= directory (the work and index
 * directories lie inside one of them), for its whole life, and a union
 * whose own would be, lie inside or contain another union's claim is
 * refused before it touches anything.
 *
 * Claims are on real dentries, so a bind mount or another mount of the
 * same filesystem reaches the same claim.  They are few (two per
 * writable union), so one list under one mutex does: test and claim are
 * one step, and a mount racing another sees the winner's claims.
 */
#include <linux/dcache.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include "strata.h"

struct strata_claim {
	struct list_head node;		/* in strata_claims */
	struct dentry *dentry;		/* held */
	struct strata_fs *owner;
	char *name;			/* for the other union's message */
	const char *what;		/* "rw branch" or "workdir" */
};

static DEFINE_MUTEX(strata_claims_lock);
static LIST_HEAD(strata_claims);

/* Does @d overlap another union's claim?  Under strata_claims_lock. */
static struct strata_claim *strata_claim_conflict(struct strata_fs *sfs,
						  struct dentry *d)
{
	struct strata_claim *c;

	list_for_each_entry(c, &strata_claims, node) {
		/* A branch added again to the same union is no conflict. */
		if (c->owner == sfs || c->dentry->d_sb != d->d_sb)
			continue;
		if (is_subdir(d, c->dentry) || is_subdir(c->dentry, d))
			return c;
	}
	return NULL;
}

/*
 * Claim @n directories for @sfs, all or none.  On a conflict: -EBUSY,
 * with @busy->mine the index of ours and @busy->theirs a copy of the
 * other claim's description (the caller frees it).
 */
int strata_inuse_claim(struct strata_fs *sfs,
		       const struct strata_inuse_dir *dirs, unsigned int n,
		       struct strata_inuse_busy *busy)
{
	struct strata_claim *new[STRATA_INUSE_MAX] = {}, *c;
	unsigned int i;
	int err = 0;

	if (WARN_ON_ONCE(n > ARRAY_SIZE(new)))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		new[i] = strata_fail_alloc(kzalloc(sizeof(*new[i]), GFP_KERNEL));
		if (new[i])
			new[i]->name = kstrdup(dirs[i].name, GFP_KERNEL);
		if (!new[i] || !new[i]->name) {
			err = -ENOMEM;
			goto out;
		}
	}
	mutex_lock(&strata_claims_lock);
	for (i = 0; i < n; i++) {
		c = strata_claim_conflict(sfs, dirs[i].dentry);
		if (c) {
			busy->mine = i;
			busy->theirs = kasprintf(GFP_KERNEL, "%s %s", c->what,
						 c->name);
			err = -EBUSY;
			break;
		}
	}
	for (i = 0; !err && i < n; i++) {
		new[i]->dentry = dget(dirs[i].dentry);
		new[i]->owner = sfs;
		new[i]->what = dirs[i].what;
		list_add_tail(&new[i]->node, &strata_claims);
		new[i] = NULL;
	}
	mutex_unlock(&strata_claims_lock);
out:
	for (i = 0; i < n; i++) {
		if (new[i])
			kfree(new[i]->name);
		kfree(new[i]);
	}
	return err;
}

/*
 * Give back claims of @sfs: with @dentry the newest one on it (a live add
 * that failed; an older claim on the same directory, from a branch the
 * union still holds, stays), else all of them (the super block is going,
 * or was never made).  dput() outside the lock.
 */
void strata_inuse_release(struct strata_fs *sfs, struct dentry *dentry)
{
	struct strata_claim *c, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&strata_claims_lock);
	list_for_each_entry_safe_reverse(c, tmp, &strata_claims, node) {
		if (c->owner != sfs || (dentry && c->dentry != dentry))
			continue;
		list_move(&c->node, &gone);
		if (dentry)
			break;
	}
	mutex_unlock(&strata_claims_lock);
	list_for_each_entry_safe(c, tmp, &gone, node) {
		dput(c->dentry);
		kfree(c->name);
		kfree(c);
	}
}

/*
 * At mount, before the work directory is set up: claim the rw branch
 * root and the workdir= directory, or fail naming the one in use.
 */
int strata_inuse_claim_mount(struct fs_context *fc, struct super_block *sb)
{
	struct strata_fs_context *ctx = fc->fs_private;
	struct strata_branch *rw = strata_top(STRATA_FS(sb));
	struct strata_inuse_dir dirs[STRATA_INUSE_MAX] = {
		{ rw->mnt->mnt_root, rw->name, "rw branch" },
		{ ctx->workdir.dentry, ctx->workdir_name, "workdir" },
	};
	struct strata_inuse_busy busy = {};
	int err;

	err = strata_inuse_claim(STRATA_FS(sb), dirs, dirs[1].dentry ? 2 : 1,
				 &busy);
	if (err == -EBUSY)
		errorfc(fc, "%s %s: in use by another mounted union (its %s)",
			busy.mine ? "workdir" : "branch", dirs[busy.mine].name,
			busy.theirs ?: "directory");
	kfree(busy.theirs);
	return err;
}
