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

	e = kvzalloc(struct_size(e, r, nr), GFP_KERNEL);
	if (e)
		e->nr = nr;
	return e;
}

void strata_entry_free(struct strata_entry *e)
{
	unsigned int i;

	if (!e)
		return;
	strata_index_free(e->index);
	dput(e->upper);
	for (i = 0; i < e->nr; i++)
		dput(e->r[i].dentry);
	/* RCU path walk may still be reading the stack in d_revalidate. */
	kvfree_rcu(e, rcu);
}

/* Publish the rw-branch dentry of @e; takes over the reference. */
void strata_entry_set_upper(struct strata_entry *e, struct dentry *upper)
{
	/* Pairs with smp_load_acquire() in strata_entry_upper(). */
	smp_store_release(&e->upper, upper);
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
 * inode holding the data (file locks, fsnotify, the 6.1 fake-path file).
 */
struct dentry *strata_d_real(struct dentry *dentry)
{
	if (!d_is_reg(dentry) || !dentry->d_fsdata)
		return dentry;
	return strata_real_dentry(dentry);
}

/*
 * A real dentry unhashed underneath (a ro branch changed) makes the union
 * dentry stale; the next lookup rebuilds it.  Branches that ask for
 * revalidation themselves (network filesystems) are asked too.
 */
static int strata_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct strata_entry *e = READ_ONCE(dentry->d_fsdata);
	struct dentry *upper;
	unsigned int i;
	int ret;

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
