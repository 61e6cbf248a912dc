// SPDX-License-Identifier: GPL-2.0
/*
 * Directory dentries that outlive a branch change.
 *
 * d_revalidate drops a dentry that a branch change made wrong, and the
 * next path walk looks its name up again.  A directory that is still in
 * use (an open descriptor, a working directory, the parent of a dentry
 * in use) survives that: d_splice_alias() brings the old dentry back
 * instead of the new one, and a lookup relative to a descriptor starts
 * from its directory without revalidating it.  Both would go on with the
 * stack of the directory's first lookup, which may still show a removed
 * branch, miss an added one, or stamp its children with an old change
 * count so that they fail revalidation forever.  Here such a dentry takes
 * over the stack a new lookup builds.
 *
 * The stack it had stays allocated until the dentry goes: code holding
 * the dentry reads its stack without locks and may sleep on what it
 * found there.
 */
#include <linux/dcache.h>
#include "strata.h"

/* At most this many ancestors are brought up to date for one lookup. */
#define STRATA_REFRESH_MAX	64

/*
 * Is @dentry (positive or negative) right as of the latest branch change?
 * Also in RCU walk, from d_revalidate: it only reads, and moves d_time
 * on over changes that do not concern the dentry.
 */
bool strata_dentry_current(struct dentry *dentry)
{
	struct strata_fs *sfs = STRATA_FS(dentry->d_sb);
	/* Pairs with smp_store_release() in strata_publish(). */
	u64 gen = smp_load_acquire(&sfs->gen);
	/* Pairs with smp_store_release() in strata_adopt_entry(). */
	u64 seen = smp_load_acquire(&dentry->d_time);

	if (seen == gen || IS_ROOT(dentry))
		return true;
	if (!strata_entry_still_valid(sfs, READ_ONCE(dentry->d_fsdata),
				      seen, gen))
		return false;
	WRITE_ONCE(dentry->d_time, gen);
	return true;
}

/*
 * Give the directory @dentry the stack @e, right as of change @time.
 * Copy-up publishes a directory's rw-branch copy under copy_lock: one
 * made after @e was looked up is carried over.
 */
void strata_adopt_entry(struct dentry *dentry, struct strata_entry *e,
			unsigned long time)
{
	struct strata_inode *si = STRATA_I(d_inode(dentry));
	struct strata_entry *old;
	struct dentry *upper;

	mutex_lock(&si->copy_lock);
	old = dentry->d_fsdata;
	upper = old ? strata_entry_upper(old) : NULL;
	if (upper && !strata_entry_upper(e))
		strata_entry_set_upper(e, dget(upper), READ_ONCE(old->upper_br));
	e->older = old;
	WRITE_ONCE(dentry->d_fsdata, e);
	/* Pairs with the acquires of d_revalidate and lookup: stack, count. */
	smp_store_release(&dentry->d_time, time);
	mutex_unlock(&si->copy_lock);
}

/* Look @dentry up again in its parent, whose stack is current. */
static bool strata_refresh_one(struct dentry *dentry)
{
	struct dentry *parent = dget_parent(dentry);
	struct inode *inode = d_inode(dentry);
	struct name_snapshot name;
	struct strata_entry *e;
	unsigned long time;
	int err;

	take_dentry_name_snapshot(&name, dentry);
	/* The parent's count before its stack, as in strata_lookup(). */
	time = smp_load_acquire(&parent->d_time);
	err = strata_lookup_stack(parent, &name.name, false, &e);
	release_dentry_name_snapshot(&name);
	dput(parent);
	if (err)
		return false;
	/* Removed, renamed over or replaced meanwhile: leave it as it is. */
	if (!e || !inode || IS_DEADDIR(inode) ||
	    !strata_dir_inode_matches(inode, e)) {
		strata_entry_free(e);
		return false;
	}
	strata_adopt_entry(dentry, e, time);
	return true;
}

/*
 * Bring the stack of the directory @dir up to date, its stale ancestors
 * first (each one is looked up in its parent's stack).  One that cannot
 * be, because its name now means something else, keeps the stack it has.
 */
void strata_refresh_dir(struct dentry *dir)
{
	unsigned int n;

	for (n = 0; n < STRATA_REFRESH_MAX; n++) {
		struct dentry *d, *parent;
		bool done;

		if (strata_dentry_current(dir))
			return;
		/* The highest stale one: its parent is current. */
		d = dget(dir);
		for (;;) {
			parent = dget_parent(d);
			if (parent == d || strata_dentry_current(parent))
				break;
			dput(d);
			d = parent;
		}
		dput(parent);
		done = !strata_refresh_one(d);
		dput(d);
		if (done)
			return;
	}
}
