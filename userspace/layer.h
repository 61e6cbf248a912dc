/* SPDX-License-Identifier: GPL-2.0 */
/*
 * layer.h - layers in the store: staging from a tar blob, publishing,
 * lookup.  A layer is named by its diff-id, the sha256 of its
 * uncompressed tar.
 */
#ifndef STRATA_LAYER_H
#define STRATA_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "store.h"

struct progress;

/* A layer unpacked under tmp/, or already in the store (tmp == NULL). */
struct staged_layer {
	char diff_id[DIGEST_STR_LEN];
	char *tmp;
	uint64_t size;		/* bytes of the uncompressed tar */
};

/*
 * Verify the blob at @blob (its sha256 must be @want_blob, and its
 * uncompressed sha256 @want_diff_id, when those are given), check every
 * entry, and unpack it under tmp/ unless the store has the layer already.
 * Plain, gzip and zstd blobs are read.  Returns 0, or -1 after printing
 * which file and why; nothing is left behind then.
 */
int layer_stage(const struct store *st, const char *blob,
		const char *want_blob, const char *want_diff_id,
		struct staged_layer *out, struct progress *pg);
/* Move a staged layer into layers/ (no-op when it was there already). */
int layer_publish(const struct store *st, struct staged_layer *l);
void layer_unstage(struct staged_layer *l);

/*
 * Unpack the tar @file into the existing directory @dir with the checks of
 * tarsafe.c; used for image archives too.  Prints "OBJ: entry: why".
 */
int tar_extract(const char *file, const char *dir, const char *obj,
		bool privileged, struct progress *pg);

/*
 * Resolve @ref ("sha256:<hex>", or a unique hex prefix of at least 4
 * digits) to a stored layer's diff-id.  0, or -1 after printing why.
 */
int layer_resolve(const struct store *st, const char *ref,
		  char out[DIGEST_STR_LEN]);

/* ROOT/layers/<hex>/diff, malloc'ed. */
char *layer_diff_dir(const struct store *st, const char *diff_id);

#endif /* STRATA_LAYER_H */
