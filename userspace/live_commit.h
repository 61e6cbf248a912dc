/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live_commit.h - commit a mounted container through branch changes.
 */
#ifndef STRATA_LIVE_COMMIT_H
#define STRATA_LIVE_COMMIT_H

#include <jansson.h>

#include "store.h"

struct strata_nl;

struct live_commit {
	const char *target;
	int mfd;
	struct strata_nl *nl;
};

/*
 * Whether the store has room to commit @top: its tar and its unpacked
 * copy, about twice the size of its files, and an inode per entry for
 * each.  0, or -1 after printing why.  Checked before live_freeze(),
 * since a failure after it leaves the union read-only.
 */
int live_room(const struct store *st, const char *top);
/*
 * Make the rw top of the union on @target an rr layer (the union is
 * read-only until live_new_top()).  0, or -1 after printing why; then
 * nothing changed (EBUSY: files open for writing).
 */
int live_freeze(struct live_commit *lc, const char *target);
/*
 * Give container @c a fresh top and @image, and add the top to the union
 * as its rw branch.  0, or -1 after printing why.
 */
int live_new_top(struct live_commit *lc, const struct store *st, json_t *c,
		 const char *image);
void live_close(struct live_commit *lc);

#endif /* STRATA_LIVE_COMMIT_H */
