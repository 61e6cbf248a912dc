/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export.h - write a branch directory as a deterministic OCI layer tar.
 */
#ifndef STRATA_EXPORT_H
#define STRATA_EXPORT_H

struct progress;

/*
 * Write the tree @dir as an OCI layer tarball to @fd: entries sorted by
 * name, pax format, times in whole seconds, numeric owners only.
 * Overlay-format whiteouts (0/0 character devices) become ".wh.NAME",
 * overlay opaque xattrs become ".wh..wh..opq", strata's and overlay's
 * private xattrs are dropped.  A directory renamed in the union (strata
 * redirect xattr) is exported whole, read from the union mounted at
 * @union_root; without it (NULL) such a directory is an error.  A
 * metadata-only copy (strata metacopy xattr) is exported with its data,
 * read through @union_root or else found in @lowers (the directories of
 * the layers below @dir, top first, NULL-terminated; may be NULL).
 * Returns 0, or -1 after printing the file and the cause.
 */
int layer_export(const char *dir, const char *union_root,
		 char *const *lowers, int fd, struct progress *pg);

#endif /* STRATA_EXPORT_H */
