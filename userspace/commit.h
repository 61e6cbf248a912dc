/* SPDX-License-Identifier: GPL-2.0 */
/*
 * commit.h - a directory becomes a layer of the store.
 */
#ifndef STRATA_COMMIT_H
#define STRATA_COMMIT_H

#include "digest.h"
#include "export.h"
#include "store.h"

/*
 * Export @dir as an OCI layer tar (export.c) into tmp/, then stage and
 * publish that tar as a layer, so a layer made here is byte for byte what
 * "layer diff" gives back.  @view, @lowers: see layer_export().  The
 * layer's diff-id goes to @diff_id.  0, or -1 after printing why.
 */
int layer_from_dir(const struct store *st, const char *dir,
		   struct union_view *view, char *const *lowers,
		   char diff_id[DIGEST_STR_LEN]);

#endif /* STRATA_COMMIT_H */
