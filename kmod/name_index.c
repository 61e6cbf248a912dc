// SPDX-License-Identifier: GPL-2.0
/*
 * Name indexes of really-read-only (rr) directories.
 *
 * rr branches promise never to change while mounted, so what their
 * directories hold can be read once.  For a union directory whose whole
 * lower stack is rr, the first lookup below it (from four layers on) or
 * the first opendir reads every lower real directory into one listing
 * (dirlist.h): name -> the first layer of the stack that has the name or
 * its ".wh." whiteout, with what readdir reports for it.  A later lookup
 * then skips the layers that cannot answer: a missing name costs one
 * probe instead of two real lookups per layer, and a name of the bottom
 * layer goes there directly; a later opendir emits the listing as it is.
 * The listing lives as long as the union dentry.  Directories with very
 * many names are not kept, and all kept listings together are bounded.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "strata.h"
#include "dirlist.h"

/* Below this many rr layers the real lookups are cheap enough. */
#define STRATA_INDEX_MIN_LAYERS	4
/* Bound on one directory: bigger ones are looked up layer by layer. */
#define STRATA_INDEX_MAX_NAMES	BIT(18)

/*
 * Bound on all kept listings together, in KiB (module parameter
 * "dircache_max_kb").  Past it, readdir builds a listing for each open
 * and lookups walk the layers, as without rr branches.  Kept listings
 * go with their dentries, so the dcache shrinker frees them too.
 */
static unsigned int strata_dircache_max_kb = 65536;
module_param_named(dircache_max_kb, strata_dircache_max_kb, uint, 0644);
MODULE_PARM_DESC(dircache_max_kb,
		 "memory for listings of rr directories kept on dentries, KiB");

static atomic_long_t strata_dircache_bytes = ATOMIC_LONG_INIT(0);

static int strata_dircache_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&strata_dircache_bytes));
}

static const struct kernel_param_ops strata_dircache_bytes_ops = {
	.get = strata_dircache_get,
};

/* What the kept listings hold now, in bytes (read-only). */
module_param_cb(dircache_bytes, &strata_dircache_bytes_ops, NULL, 0444);
MODULE_PARM_DESC(dircache_bytes, "memory held by kept listings, bytes");

void strata_index_free(struct strata_name_index *idx)
{
	if (IS_ERR_OR_NULL(idx))
		return;
	if (idx->published)
		atomic_long_sub(idx->bytes, &strata_dircache_bytes);
	strata_dlist_free(idx);
}

/* Count @l in the bound; false if there is no room for it. */
static bool strata_dircache_charge(struct strata_name_index *l)
{
	long max = (long)READ_ONCE(strata_dircache_max_kb) << 10;

	if (atomic_long_add_return(l->bytes, &strata_dircache_bytes) > max) {
		atomic_long_sub(l->bytes, &strata_dircache_bytes);
		return false;
	}
	l->published = true;
	return true;
}

static bool strata_stack_all_rr(const struct strata_entry *e)
{
	unsigned int i;

	for (i = 0; i < e->nr; i++)
		if (READ_ONCE(e->r[i].br->mode) != STRATA_BR_RR)
			return false;
	return true;
}

/*
 * The index of @e's lower stack, built on first use; NULL when the stack
 * is not indexed (too short, not all rr, too many names, no room, or out
 * of memory: then lookups simply walk every layer).  A listing kept by
 * readdir serves whatever the number of layers.
 */
static struct strata_name_index *strata_index_get(struct super_block *sb,
						  struct strata_entry *e)
{
	struct strata_name_index *idx = READ_ONCE(e->index), *old;

	if (idx)
		return IS_ERR(idx) ? NULL : idx;
	if (e->nr < STRATA_INDEX_MIN_LAYERS)
		return NULL;
	if (!strata_stack_all_rr(e))
		idx = ERR_PTR(-EPERM);
	else
		idx = strata_dlist_build(sb, e->r, e->nr, STRATA_INDEX_MAX_NAMES);
	if (!IS_ERR(idx) && !strata_dircache_charge(idx)) {
		strata_dlist_free(idx);
		idx = ERR_PTR(-ENOSPC);
	}
	/* Whoever published first wins; a failure is remembered too. */
	old = cmpxchg(&e->index, NULL, idx);
	if (old) {
		strata_index_free(idx);
		idx = old;
	}
	return IS_ERR(idx) ? NULL : idx;
}

/*
 * The listing of @e's lower stack for readdir: the one kept on @e
 * (*@shared), or one built for the caller, who frees it.  The listing
 * of an all-rr stack is kept, for later opens and for lookups.
 */
struct strata_name_index *strata_index_listing(struct super_block *sb,
					       struct strata_entry *e,
					       bool *shared)
{
	struct strata_name_index *idx = READ_ONCE(e->index), *l;
	/* Pairs with smp_store_release() in strata_publish(): modes first. */
	u64 gen = smp_load_acquire(&STRATA_FS(sb)->gen);

	*shared = false;
	/*
	 * A kept listing is right for @e's stack until one of its branches
	 * stops being rr (an open directory may outlive such a change).
	 */
	if (!IS_ERR_OR_NULL(idx) &&
	    (idx->gen == gen || strata_stack_all_rr(e))) {
		*shared = true;
		return idx;
	}
	l = strata_dlist_build(sb, e->r, e->nr, UINT_MAX);
	if (IS_ERR(l) || idx || l->count > STRATA_INDEX_MAX_NAMES ||
	    l->gen != gen || !strata_stack_all_rr(e))
		return l;
	if (!strata_dircache_charge(l)) {
		cmpxchg(&e->index, NULL, ERR_PTR(-ENOSPC));
		return l;
	}
	if (cmpxchg(&e->index, NULL, l)) {
		/* Somebody was first: this one stays the caller's. */
		atomic_long_sub(l->bytes, &strata_dircache_bytes);
		l->published = false;
		return l;
	}
	*shared = true;
	return l;
}

/*
 * The first position in @e's lower stack that can answer for @name, or
 * 0 when unknown, or @e->nr when no lower layer has it.
 */
unsigned int strata_index_first(struct super_block *sb, struct strata_entry *e,
				const struct qstr *name)
{
	struct strata_name_index *idx = strata_index_get(sb, e);
	struct strata_dname *d;

	if (!idx)
		return 0;
	d = strata_dlist_find(idx, name->name, name->len);
	return d ? d->first : e->nr;
}
