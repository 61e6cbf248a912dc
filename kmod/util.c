// SPDX-License-Identifier: GPL-2.0
/*
 * Union dentries: their stacks of real dentries and their operations.
 */
#include <linux/slab.h>
#include <linux/namei.h>
#include "strata.h"

struct strata_entry *strata_entry_alloc(unsigned int nr)
{
	struct strata_entry *e;

	e = strata_fail_alloc(kvzalloc(struct_size(e, r, nr), GFP_KERNEL));
	if (e)
		e->nr = nr;
	return e;
}

/*
 * Put the reference of a stack slot.  Slots count as users of their
 * branch (branch-del refuses a branch with users); whoever fills one
 * counts it.
 */
void strata_real_drop(struct strata_real *r)
{
	if (!r->dentry)
		return;
	/* Not cleared: RCU path walk may still read a freed entry's stack. */
	dput(r->dentry);
	atomic_long_dec(&r->br->users);
}

void strata_entry_free(struct strata_entry *e)
{
	struct strata_entry *older;
	unsigned int i;

	for (; e; e = older) {
		older = e->older;
		strata_index_free(e->index);
		if (!e->pinned) {
			struct strata_real up = { e->upper, e->upper_br };

			strata_real_drop(&up);
			for (i = 0; i < e->nr; i++)
				strata_real_drop(&e->r[i]);
		}
		/* RCU path walk may still be reading the stack in d_revalidate. */
		kvfree_rcu(e, rcu);
	}
}

/*
 * Publish the rw-branch dentry of @e; takes over the reference, which
 * counts as a user of @br.
 */
void strata_entry_set_upper(struct strata_entry *e, struct dentry *upper,
			    struct strata_branch *br)
{
	atomic_long_inc(&br->users);
	WRITE_ONCE(e->upper_br, br);
	/* Pairs with smp_load_acquire() in strata_entry_upper(). */
	smp_store_release(&e->upper, upper);
}

/*
 * A dentry whose rw-branch copy lives in a branch that is no longer the
 * union's rw branch (a branch change made it read-only) is stale: write
 * through it would change a read-only layer.
 */
int strata_check_upper(struct dentry *dentry)
{
	struct strata_fs *sfs = STRATA_FS(dentry->d_sb);
	struct strata_entry *e = dentry->d_fsdata;
	struct strata_branch *rw = strata_rw_branch(sfs);
	struct inode *inode = d_inode(dentry);

	if (!rw || !strata_is_writable(sfs))
		return -EROFS;
	if (e && strata_entry_upper(e) && READ_ONCE(e->upper_br) != rw)
		return -ESTALE;
	if (inode && strata_inode_upper(inode) &&
	    READ_ONCE(STRATA_I(inode)->upper_br) != rw)
		return -ESTALE;
	return 0;
}

/* ".wh.*" names belong to the branch formats and never reach users. */
bool strata_is_reserved_name(const char *name, unsigned int len)
{
	return len >= STRATA_WH_PREFIX_LEN &&
	       !memcmp(name, STRATA_WH_PREFIX, STRATA_WH_PREFIX_LEN);
}

/*
 * What a real directory entry means to a union: "." and ".." and the
 * ".wh..wh.*" markers mean nothing, ".wh.NAME" is a whiteout of NAME
 * (*name and *len are moved to NAME), anything else is an entry.
 */
enum strata_name_kind strata_classify_name(const char **name, int *len)
{
	const char *n = *name;

	if (n[0] == '.' && (*len == 1 || (*len == 2 && n[1] == '.')))
		return STRATA_NAME_SKIP;
	if (!strata_is_reserved_name(n, *len))
		return STRATA_NAME_ENTRY;
	if (*len <= STRATA_WH_PREFIX_LEN ||
	    (*len >= sizeof(STRATA_WH_META) - 1 &&
	     !memcmp(n, STRATA_WH_META, sizeof(STRATA_WH_META) - 1)))
		return STRATA_NAME_SKIP;
	*name += STRATA_WH_PREFIX_LEN;
	*len -= STRATA_WH_PREFIX_LEN;
	return STRATA_NAME_WHITEOUT;
}

static void strata_d_release(struct dentry *dentry)
{
	strata_entry_free(dentry->d_fsdata);
}

/*
 * The real file behind a union dentry, for code that must reach the
 * inode holding the data (@data: file locks, the 6.1 fake-path file) or
 * the attributes (fsnotify).  They differ for a metadata-only copy.
 */
struct dentry *strata_d_real(struct dentry *dentry, bool data)
{
	struct path path;

	if (!d_is_reg(dentry) || !dentry->d_fsdata)
		return dentry;
	if (!data)
		return strata_real_dentry(dentry);
	strata_data_path(dentry, &path);
	return path.dentry;
}

/*
 * A real dentry unhashed underneath (a ro branch changed) makes the union
 * dentry stale; the next lookup rebuilds it.  So does a branch change
 * since the dentry was looked up (d_time holds the change count it is
 * known to be right for) that touches what its lookup saw.  Branches
 * that ask for revalidation themselves (network filesystems) are asked
 * too.
 */
static int strata_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct strata_entry *e;
	struct dentry *upper;
	unsigned int i;
	int ret;

	if (!strata_dentry_current(dentry))
		return 0;
	/* After the count that vouches for it (strata_adopt_entry()). */
	e = READ_ONCE(dentry->d_fsdata);
	if (!e)
		return 1;
	upper = strata_entry_upper(e);
	for (i = 0; i < strata_stack_nr(e, upper); i++) {
		struct dentry *real = strata_stack_at(e, upper, i).dentry;

		if (d_unhashed(real))
			return 0;
		if (real->d_flags & DCACHE_OP_REVALIDATE) {
			if (flags & LOOKUP_RCU)
				return -ECHILD;
			ret = real->d_op->d_revalidate(real, flags);
			if (ret <= 0)
				return ret;
		}
	}
	return 1;
}

const struct dentry_operations strata_dentry_ops = {
	.d_release	= strata_d_release,
	.d_real		= strata_d_real_op,
	.d_revalidate	= strata_d_revalidate,
};
