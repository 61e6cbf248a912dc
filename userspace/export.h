/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export.h - write a branch directory as a deterministic OCI layer tar.
 */
#ifndef STRATA_EXPORT_H
#define STRATA_EXPORT_H

struct progress;

/*
 * The union view of the tree being exported, for what only the union
 * shows.  layer_export() calls open() the first time it meets such a
 * thing, so a plain export needs neither privilege nor the module.
 */
struct union_view {
	/*
	 * A descriptor of the union's root directory (O_PATH will do),
	 * which layer_export() closes; or -1 after printing why.
	 */
	int (*open)(struct union_view *v);
	const char *root;	/* union_view_mounted(): the mount point */
};

/* union_view.open for the union mounted on v->root. */
int union_view_mounted(struct union_view *v);

/*
 * Write the tree @dir as an OCI layer tarball to @fd: entries sorted by
 * name, pax format, times in whole seconds, numeric owners only.
 * Overlay-format whiteouts (0/0 character devices) become ".wh.NAME",
 * overlay opaque xattrs become ".wh..wh..opq", strata's and overlay's
 * private xattrs are dropped.  A directory renamed in the union (strata
 * redirect xattr) is exported whole, as an opaque directory read from
 * @view; without a view (NULL) it is an error.  A metadata-only copy
 * (strata metacopy xattr) is exported with its data: through @view if it
 * is open already, else from the first of @lowers (the directories of
 * the layers below @dir, top first, NULL-terminated; may be NULL) that
 * has it, else through @view.
 * Returns 0, or -1 after printing the file and the cause.
 */
int layer_export(const char *dir, struct union_view *view,
		 char *const *lowers, int fd, struct progress *pg);

#endif /* STRATA_EXPORT_H */
