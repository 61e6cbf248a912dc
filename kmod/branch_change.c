// SPDX-License-Identifier: GPL-2.0
/*
 * Live branch changes: add a branch to a mounted union, remove one, or
 * change a branch's mode, and revalidate what the dcache holds.
 *
 * A change runs with the union frozen: every operation that writes holds
 * sb_start_write() on the union (the VFS takes it for namespace changes
 * and writes, strata_open() for copy-up on open), so none straddles a
 * change.  Lookups do not stop.  A change publishes a new branch table
 * and a new root entry, then bumps the change count; a lookup that ran
 * on the old ones stamps its dentry with the old count, and revalidation
 * replays the changes since against what the lookup saw (its stack and
 * the branch where it stopped).  Old tables, root entries and removed
 * branches stay allocated until unmount, as a lookup may still walk them.
 */
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <net/netlink.h>
#include "strata.h"

static bool strata_entry_uses(const struct strata_entry *e,
			      const struct strata_branch *br)
{
	unsigned int i;

	if (strata_entry_upper(e) && READ_ONCE(e->upper_br) == br)
		return true;
	for (i = 0; i < e->nr; i++)
		if (e->r[i].br == br)
			return true;
	return false;
}

/* Does change @c make a dentry looked up before it wrong?  @e: NULL if negative. */
static bool strata_change_hits(const struct strata_table *t,
			       const struct strata_entry *e,
			       const struct strata_change *c)
{
	unsigned int added, stop;

	switch (c->kind) {
	case STRATA_CHANGE_ADD:
		/* Only a walk that stopped above the new branch missed nothing. */
		if (!e || !e->stop)
			return true;
		added = strata_branch_pos(t, c->br);
		stop = strata_branch_pos(t, e->stop);
		if (added == UINT_MAX)
			return false;	/* removed again since */
		return stop == UINT_MAX || added < stop;
	case STRATA_CHANGE_DEL:
		/* A negative dentry may have been a whiteout there. */
		return !e || e->stop == c->br || strata_entry_uses(e, c->br);
	case STRATA_CHANGE_MODE:
		if (!e)
			return false;
		/* The copy in a former rw branch is no longer an upper. */
		if (c->old_mode == STRATA_BR_RW)
			return strata_entry_uses(e, c->br);
		/* A name index trusts rr branches never to change. */
		if (c->old_mode == STRATA_BR_RR && READ_ONCE(e->index))
			return strata_entry_uses(e, c->br);
		return false;
	}
	return true;
}

/*
 * Is a dentry (entry @e, NULL if negative) that was right after change
 * @from still right after change @to?  Called from d_revalidate, also in
 * RCU walk: it only reads.  Too old for the change log: no.
 */
bool strata_entry_still_valid(struct strata_fs *sfs,
			      const struct strata_entry *e, u64 from, u64 to)
{
	struct strata_table *t = strata_table(sfs);
	u64 g;

	if (from > to || to - from >= STRATA_CHANGE_LOG)
		return false;
	for (g = from + 1; g <= to; g++) {
		const struct strata_change *slot;
		struct strata_change c;

		slot = &sfs->changes[g % STRATA_CHANGE_LOG];
		if (READ_ONCE(slot->gen) != g)
			return false;
		/* A seqcount by hand: pairs with the smp_wmb()s of publish. */
		smp_rmb();
		c.kind = READ_ONCE(slot->kind);
		c.br = READ_ONCE(slot->br);
		c.old_mode = READ_ONCE(slot->old_mode);
		/* Re-check the generation after the fields: see above. */
		smp_rmb();
		/* Overwritten by a newer change meanwhile: too old. */
		if (READ_ONCE(slot->gen) != g)
			return false;
		if (strata_change_hits(t, e, &c))
			return false;
	}
	return true;
}

/* Serialise with other changes, then stop every writer of the union. */
static int strata_change_begin(struct super_block *sb,
			       struct netlink_ext_ack *extack)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	int err;

	mutex_lock(&sfs->change_lock);
	err = strata_freeze_super(sb);
	if (err) {
		mutex_unlock(&sfs->change_lock);
		strata_nl_errf(extack, "cannot freeze the union for the change (frozen already?)");
	}
	return err;
}

enum strata_sb_access { STRATA_SB_KEEP, STRATA_SB_RO, STRATA_SB_RW };

/* The union's read-only flag follows whether the top branch is rw. */
static void strata_set_sb_rdonly(struct super_block *sb, bool ro)
{
	down_write(&sb->s_umount);
	if (ro)
		sb->s_flags |= SB_RDONLY;
	else
		sb->s_flags &= ~SB_RDONLY;
	up_write(&sb->s_umount);
}

/*
 * Let writers in again, then set the union's read-only flag to what the
 * change made the top.  Not while frozen: freeze and thaw take and drop
 * the write locks only for a writable superblock.  In between, strata's
 * own checks (no rw branch: EROFS) keep writers off a former rw branch.
 */
static void strata_change_end(struct super_block *sb,
			      enum strata_sb_access access)
{
	strata_thaw_super(sb);
	if (access != STRATA_SB_KEEP)
		strata_set_sb_rdonly(sb, access == STRATA_SB_RO);
	mutex_unlock(&STRATA_FS(sb)->change_lock);
}

/* The root inode follows the top branch; old inodes are pinned by it. */
static void strata_root_inode_update(struct super_block *sb,
				     struct strata_table *t)
{
	struct strata_inode *si = STRATA_I(d_inode(sb->s_root));
	struct strata_branch *top = t->br[0];
	struct inode *real = d_inode(top->mnt->mnt_root);
	struct inode *old_real = si->real, *old_upper = si->upper;
	bool rw = top->mode == STRATA_BR_RW;

	ihold(real);
	if (rw)
		ihold(real);
	WRITE_ONCE(si->upper_br, rw ? top : NULL);
	WRITE_ONCE(si->real, real);
	/* Pairs with smp_load_acquire() in strata_inode_upper(). */
	smp_store_release(&si->upper, rw ? real : NULL);
	strata_copyattr(d_inode(sb->s_root));
	/* The branch mounts keep both alive for readers still using them. */
	iput(old_upper);
	iput(old_real);
}

/*
 * Make @t the branch table: a new root entry, then the change record,
 * then the change count that tells revalidation to look.  Runs frozen,
 * under change_lock.
 */
static int strata_publish(struct super_block *sb, struct strata_table *t,
			  enum strata_change_kind kind,
			  struct strata_branch *br, enum strata_mode old_mode)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_table *old_t = sfs->table;
	struct strata_entry *old_e = STRATA_E(sb->s_root), *e;
	struct strata_change *slot;
	u64 gen = sfs->gen + 1;
	int err;

	strata_table_index(sfs, t);
	err = strata_build_root_entry(sb, t, &e);
	if (err)
		return err;

	slot = &sfs->changes[gen % STRATA_CHANGE_LOG];
	WRITE_ONCE(slot->gen, 0);
	/* Readers see gen 0 (unusable) before fields change: smp_rmb() above. */
	smp_wmb();
	WRITE_ONCE(slot->kind, kind);
	WRITE_ONCE(slot->br, br);
	WRITE_ONCE(slot->old_mode, old_mode);
	/* The fields before the generation that vouches for them. */
	smp_wmb();
	WRITE_ONCE(slot->gen, gen);

	/* Pairs with smp_load_acquire() in strata_table(). */
	smp_store_release(&sfs->table, t);
	WRITE_ONCE(sb->s_root->d_fsdata, e);
	/* Pairs with the acquire in strata_lookup(): table, then count. */
	smp_store_release(&sb->s_root->d_time, (unsigned long)gen);
	/* Pairs with smp_load_acquire() in strata_d_revalidate(). */
	smp_store_release(&sfs->gen, gen);
	strata_root_inode_update(sb, t);

	list_add(&old_t->retired, &sfs->retired);
	list_add(&old_e->retired, &sfs->retired_roots);
	atomic64_inc(&sfs->stats.branch_changes);
	return 0;
}

/* What mount time checks of a branch, for one added live. */
static int strata_check_new_branch(struct super_block *sb,
				   const struct path *path, const char *name,
				   enum strata_mode mode,
				   struct netlink_ext_ack *extack)
{
	struct strata_table *t = strata_table(STRATA_FS(sb));
	struct super_block *bsb = path->dentry->d_sb;
	struct dentry *d;
	unsigned int i;

	if (bsb == sb) {
		strata_nl_errf(extack, "branch %s: inside the union itself", name);
		return -EINVAL;
	}
	if (path->dentry->d_flags & (DCACHE_NEED_AUTOMOUNT | DCACHE_MANAGE_TRANSIT |
				     DCACHE_OP_HASH | DCACHE_OP_COMPARE)) {
		strata_nl_errf(extack, "branch %s: filesystem not supported", name);
		return -EINVAL;
	}
	if (strata_mnt_idmap(path->mnt) != STRATA_NOP_IDMAP) {
		strata_nl_errf(extack, "branch %s: idmapped mounts are not supported",
			       name);
		return -EINVAL;
	}
	if (mode == STRATA_BR_RW &&
	    (sb_rdonly(bsb) || __mnt_is_readonly(path->mnt))) {
		strata_nl_errf(extack, "branch %s: rw branch on a read-only filesystem",
			       name);
		return -EROFS;
	}
	/* The union's own depth is fixed while it is mounted. */
	if (bsb->s_stack_depth + 1 > sb->s_stack_depth) {
		strata_nl_errf(extack, "branch %s: stacked deeper than the union allows",
			       name);
		return -EINVAL;
	}
	for (i = 0; i < t->nr; i++) {
		struct dentry *root = t->br[i]->mnt->mnt_root;

		if (root->d_sb != bsb)
			continue;
		d = path->dentry;
		if (is_subdir(d, root) || is_subdir(root, d)) {
			strata_nl_errf(extack, "branch %s: overlaps branch %s",
				       name, t->br[i]->name);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * A new rw branch will get its work directory emptied: claim it first,
 * so that no other mounted union's directories are touched.
 */
static int strata_claim_rw(struct super_block *sb, const struct path *path,
			   const char *name, struct netlink_ext_ack *extack)
{
	struct strata_inuse_dir dir = { path->dentry, name, "rw branch" };
	struct strata_inuse_busy busy = {};
	int err;

	err = strata_inuse_claim(STRATA_FS(sb), &dir, 1, &busy);
	if (err == -EBUSY)
		strata_nl_errf(extack, "branch %s: in use by another mounted union (its %s)",
			       name, busy.theirs ?: "directory");
	kfree(busy.theirs);
	return err;
}

/* The branch at @index of @t, or NULL after saying there is none. */
static struct strata_branch *strata_branch_at(struct strata_table *t,
					      unsigned int index,
					      struct netlink_ext_ack *extack)
{
	if (index < t->nr)
		return t->br[index];
	strata_nl_errf(extack, "no branch at index %u (%u branches)", index,
		       t->nr);
	return NULL;
}

/* Take back a branch just added (its rw set-up failed). */
static void strata_undo_add(struct super_block *sb, struct strata_branch *br)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_table *t = sfs->table, *nt;

	/* Without memory for a table, leave it as a ro top: still sound. */
	WRITE_ONCE(br->mode, STRATA_BR_RO);
	nt = strata_table_alloc(sfs, t->nr - 1);
	if (!nt)
		return;
	memcpy(nt->br, t->br + 1, (t->nr - 1) * sizeof(*nt->br));
	if (strata_publish(sb, nt, STRATA_CHANGE_DEL, br, STRATA_BR_RW)) {
		strata_table_free(nt);
		return;
	}
}

int strata_branch_add(struct super_block *sb, const struct path *path,
		      const char *name, enum strata_mode mode,
		      unsigned int pos, struct netlink_ext_ack *extack)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_table *t, *nt = NULL;
	struct strata_branch *br = NULL;
	struct vfsmount *mnt;
	int err;

	err = strata_change_begin(sb, extack);
	if (err)
		return err;
	t = sfs->table;
	err = -EINVAL;
	if (t->nr >= STRATA_MAX_BRANCHES) {
		strata_nl_errf(extack, "too many branches (max %u)",
			       STRATA_MAX_BRANCHES);
		goto out;
	}
	if (pos > t->nr) {
		strata_nl_errf(extack, "position %u is below the bottom (%u branches)",
			       pos, t->nr);
		goto out;
	}
	if (mode == STRATA_BR_RW && pos) {
		strata_nl_errf(extack, "only the top branch may be rw");
		goto out;
	}
	if (!pos && strata_rw_branch(sfs)) {
		strata_nl_errf(extack, "the top branch is rw: set it ro or rr first");
		goto out;
	}
	err = strata_check_new_branch(sb, path, name, mode, extack);
	if (err)
		goto out;
	if (mode == STRATA_BR_RW) {
		err = strata_claim_rw(sb, path, name, extack);
		if (err)
			goto out;
	}

	err = -ENOMEM;
	br = strata_fail_alloc(kzalloc(sizeof(*br), GFP_KERNEL));
	if (!br)
		goto out_unclaim;
	br->name = kstrdup(name, GFP_KERNEL);
	if (!br->name)
		goto out_free;
	mnt = clone_private_mount(path);
	if (IS_ERR(mnt)) {
		err = PTR_ERR(mnt);
		strata_nl_errf(extack, "branch %s: cannot clone its mount (%d)",
			       name, err);
		goto out_free;
	}
	if (mode != STRATA_BR_RW)
		mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
	br->mnt = mnt;
	br->mode = mode;
	br->was_rw = mode == STRATA_BR_RW;
	br->id = sfs->next_id++;
	err = strata_branch_fsidx(sfs, br);
	if (err)
		goto out_unmount;

	nt = strata_table_alloc(sfs, t->nr + 1);
	if (!nt) {
		err = -ENOMEM;
		goto out_unmount;
	}
	memcpy(nt->br, t->br, pos * sizeof(*nt->br));
	nt->br[pos] = br;
	memcpy(nt->br + pos + 1, t->br + pos, (t->nr - pos) * sizeof(*nt->br));
	list_add_tail(&br->all, &sfs->branches);

	err = strata_publish(sb, nt, STRATA_CHANGE_ADD, br, mode);
	if (err)
		goto out_unlist;
	if (mode == STRATA_BR_RW) {
		/*
		 * The work directory lives in the new rw branch, which must be
		 * the top to set it up.  Writers are still stopped; if it
		 * fails, the branch goes again.
		 */
		err = strata_workdir_setup_live(sb);
		if (err) {
			strata_nl_errf(extack, "branch %s: cannot set up its work directory (%d)",
				       name, err);
			strata_undo_add(sb, br);
			strata_inuse_release(sfs, path->dentry);
			goto out;
		}
	}
	strata_change_end(sb, mode == STRATA_BR_RW ? STRATA_SB_RW : STRATA_SB_KEEP);
	strata_nl_branch_event(sb, STRATA_CHANGE_ADD, br, pos);
	return 0;

out_unlist:
	list_del(&br->all);
	strata_table_free(nt);
out_unmount:
	kern_unmount(br->mnt);
out_free:
	kfree(br->name);
	kfree(br);
out_unclaim:
	if (mode == STRATA_BR_RW)
		strata_inuse_release(sfs, path->dentry);
out:
	strata_change_end(sb, STRATA_SB_KEEP);
	return err;
}

/* Leaving the rw branch: nothing may still write to it. */
static int strata_leave_rw(struct super_block *sb, struct strata_branch *br,
			   struct netlink_ext_ack *extack)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	int n = atomic_read(&sfs->open_writers);

	if (n) {
		strata_nl_errf(extack, "branch %s: %d union files are open for writing",
			       br->name, n);
		return -EBUSY;
	}
	return 0;
}

static void strata_left_rw(struct super_block *sb)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct dentry *work = sfs->workdir;

	WRITE_ONCE(sfs->workdir, NULL);
	dput(work);
}

int strata_branch_del(struct super_block *sb, unsigned int index,
		      struct netlink_ext_ack *extack)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_table *t, *nt;
	struct strata_branch *br;
	long users;
	int err;

	err = strata_change_begin(sb, extack);
	if (err)
		return err;
	t = sfs->table;
	br = strata_branch_at(t, index, extack);
	err = -EINVAL;
	if (!br)
		goto out;
	if (t->nr == 1) {
		strata_nl_errf(extack, "branch %s: the only branch of the union",
			       br->name);
		goto out;
	}
	if (br->mode == STRATA_BR_RW) {
		strata_nl_errf(extack, "branch %s: the rw branch; set it ro or rr first",
			       br->name);
		goto out;
	}
	/* Cached dentries nobody uses would hold it: drop them first. */
	if (atomic_long_read(&br->users))
		shrink_dcache_sb(sb);
	users = atomic_long_read(&br->users);
	if (users) {
		strata_nl_errf(extack,
			       "branch %s: in use (%ld files or directories of it are open, mapped, or working directories)",
			       br->name, users);
		err = -EBUSY;
		goto out;
	}
	err = -ENOMEM;
	nt = strata_table_alloc(sfs, t->nr - 1);
	if (!nt)
		goto out;
	memcpy(nt->br, t->br, index * sizeof(*nt->br));
	memcpy(nt->br + index, t->br + index + 1,
	       (t->nr - index - 1) * sizeof(*nt->br));
	err = strata_publish(sb, nt, STRATA_CHANGE_DEL, br, br->mode);
	if (err) {
		strata_table_free(nt);
		goto out;
	}
	strata_change_end(sb, STRATA_SB_KEEP);
	strata_nl_branch_event(sb, STRATA_CHANGE_DEL, br, index);
	return 0;
out:
	strata_change_end(sb, STRATA_SB_KEEP);
	return err;
}

int strata_branch_set(struct super_block *sb, unsigned int index,
		      enum strata_mode mode, struct netlink_ext_ack *extack)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_table *t, *nt;
	struct strata_branch *br;
	enum strata_mode old;
	int err;

	err = strata_change_begin(sb, extack);
	if (err)
		return err;
	t = sfs->table;
	br = strata_branch_at(t, index, extack);
	err = -EINVAL;
	if (!br)
		goto out;
	old = br->mode;
	if (mode == old) {
		err = 0;
		goto out;
	}
	if (mode == STRATA_BR_RW) {
		strata_nl_errf(extack,
			       "branch %s: a branch cannot become rw; add a new rw branch on top",
			       br->name);
		goto out;
	}
	if (old == STRATA_BR_RW) {
		err = strata_leave_rw(sb, br, extack);
		if (err)
			goto out;
	}
	err = -ENOMEM;
	nt = strata_table_alloc(sfs, t->nr);
	if (!nt)
		goto out;
	memcpy(nt->br, t->br, t->nr * sizeof(*nt->br));
	WRITE_ONCE(br->mode, mode);
	err = strata_publish(sb, nt, STRATA_CHANGE_MODE, br, old);
	if (err) {
		WRITE_ONCE(br->mode, old);
		strata_table_free(nt);
		goto out;
	}
	if (old == STRATA_BR_RW)
		strata_left_rw(sb);
	strata_change_end(sb, old == STRATA_BR_RW ? STRATA_SB_RO : STRATA_SB_KEEP);
	strata_nl_branch_event(sb, STRATA_CHANGE_MODE, br, index);
	return 0;
out:
	strata_change_end(sb, STRATA_SB_KEEP);
	return err;
}
