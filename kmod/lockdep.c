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
