/* SPDX-License-Identifier: GPL-2.0 */
/*
 * container_union.h - the union of a container: its branch list, and a
 * detached read-only union of an unmounted container for exports.
 */
#ifndef STRATA_CONTAINER_UNION_H
#define STRATA_CONTAINER_UNION_H

#include <jansson.h>

#include "branchspec.h"
#include "export.h"
#include "store.h"

/*
 * The branches container @c of image @img is mounted with: its rw top,
 * then the image's layers top first, rr.  0, or -1 after printing why.
 */
int container_branches(const struct store *st, json_t *img, json_t *c,
		       struct branch_list *bl);

/*
 * The union view of container @c for layer_export(): the union mounted on
 * its target (container_refresh() first), or for an unmounted container,
 * on first need, the union "strata mount --readonly" would make, opened
 * detached (mount.h), so it shows in no mount table and goes away when
 * the export closes it.  The caller holds the store lock, so no mount of
 * the container can start meanwhile; the container directory's flock,
 * held from the open until container_view_close(), keeps two exports
 * (the store lock is shared for "layer diff") from setting up its work
 * directory at once.
 */
struct container_view {
	struct union_view v;	/* what layer_export() is given */
	const struct store *st;
	json_t *c, *img;
	int lockfd;
};

void container_view_init(struct container_view *cv, const struct store *st,
			 json_t *c, json_t *img);
/* Drop the lock; the export has closed the union already. */
void container_view_close(struct container_view *cv);

#endif /* STRATA_CONTAINER_UNION_H */
