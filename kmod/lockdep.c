// SPDX-License-Identifier: GPL-2.0
/*
 * Lock classes by stacking depth.  A strata union can be a branch of
 * another one, and the outer union holds its locks (a directory's
 * i_rwsem, an inode's copy_lock, a listing's lock, the index lock) while
 * it calls into the inner one, which takes locks of the same kinds.  One
 * lockdep class per depth tells lockdep that this nesting is ordered:
 * outer union first.
 */
#include "strata.h"

static struct lock_class_key strata_lock_keys[STRATA_LOCK_NR]
					     [FILESYSTEM_MAX_STACK_DEPTH];

struct lock_class_key *strata_lock_key(struct super_block *sb,
				       enum strata_lock_kind kind)
{
	int depth = clamp(sb->s_stack_depth, 1, FILESYSTEM_MAX_STACK_DEPTH);

	return &strata_lock_keys[kind][depth - 1];
}

/* Before unlock_new_inode(), which keeps a class the filesystem set. */
void strata_lockdep_inode(struct inode *inode)
{
	bool dir = S_ISDIR(inode->i_mode);
	struct lock_class_key *key;

	key = strata_lock_key(inode->i_sb,
			      dir ? STRATA_LOCK_DIR : STRATA_LOCK_INODE);
	lockdep_set_class_and_name(&inode->i_rwsem, key,
				   dir ? "&strata->i_rwsem_dir" :
					 "&strata->i_rwsem");
}

/*
 * The freeze protection of a union sits in the same class for every
 * super block of the type, so an outer union writing through an inner
 * one (the inner as its rw branch) looks like recursion on one lock.
 * Give it a class per depth too.  Called before anything takes it.
 */
void strata_lockdep_sb(struct super_block *sb)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	static struct lock_class_key keys[SB_FREEZE_LEVELS]
					 [FILESYSTEM_MAX_STACK_DEPTH];
	static const char *const names[SB_FREEZE_LEVELS] = {
		"strata_sb_writers", "strata_sb_pagefaults",
		"strata_sb_internal",
	};
	int depth = clamp(sb->s_stack_depth, 1, FILESYSTEM_MAX_STACK_DEPTH);
	int i;

	for (i = 0; i < SB_FREEZE_LEVELS; i++)
		lockdep_init_map(&sb->s_writers.rw_sem[i].dep_map, names[i],
				 &keys[i][depth - 1], 0);
#endif
}
