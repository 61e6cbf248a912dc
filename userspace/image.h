/* SPDX-License-Identifier: GPL-2.0 */
/*
 * image.h - images (ordered layer lists with a config) and their tags.
 *
 * images/<hex>.json: { "id": "sha256:<hex of the config>",
 *   "layers": [ diff-ids, bottom first as in OCI ], "config": {...} }
 * tags.json: { "name:tag": "sha256:<image id>", ... }
 */
#ifndef STRATA_IMAGE_H
#define STRATA_IMAGE_H

#include <jansson.h>

#include "digest.h"
#include "store.h"

/* "name" -> "name:latest"; malloc'ed. */
char *image_tag_normalize(const char *tag);

/* Load tags.json ({} when missing); NULL after printing why. */
json_t *tags_load(const struct store *st);
int tags_save(const struct store *st, json_t *tags);

/*
 * Resolve a tag, an image id or a unique id prefix (4+ hex digits) to
 * an image id.  0, or -1 after printing why.
 */
int image_resolve(const struct store *st, const char *ref,
		  char id[DIGEST_STR_LEN]);
/* images/<hex>.json of @id, or NULL after printing why. */
json_t *image_load(const struct store *st, const char *id);
/*
 * Write an image record for @config (its canonical JSON is hashed for the
 * id) with @layers (array of diff-ids, bottom first), and point @tag (may
 * be NULL) at it.  Returns 0 and the id in @id.
 */
int image_save(const struct store *st, json_t *config, json_t *layers,
	       const char *tag, char id[DIGEST_STR_LEN]);
/* Same, for an image whose id is known (the digest of its config blob). */
int image_save_id(const struct store *st, const char *id, json_t *config,
		  json_t *layers);
/* Point @tag at @id. */
int image_tag(const struct store *st, const char *id, const char *tag);
/*
 * The layer directories of image record @img, top first, NULL-terminated
 * (free with strv_free); entries that are no valid layer id are skipped.
 */
char **image_layer_dirs(const struct store *st, json_t *img);
void strv_free(char **v);

/*
 * Interrupted image changes.  images/<hex>.pending ({"op": "add"|"rm",
 * "tag": ...}) is written (synced) before a change that takes two steps
 * and removed after it: "add" before a new image record and its tag,
 * "rm" before an image's tags and record are removed.  gc finishes what
 * a crash interrupted: image_finish_pending() removes an image whose rm
 * was under way, or which was added for a tag and has none, unless a
 * container in @containers uses it, and removes the intents.
 */
int image_intent(const struct store *st, const char *id, const char *op,
		 const char *tag);
void image_intent_done(const struct store *st, const char *id);
int image_finish_pending(const struct store *st, json_t *containers);
/* Save the record of @id and point @tag (may be NULL) at it, with an
 * "add" intent around the two when the image is new. */
int image_publish(const struct store *st, const char *id, json_t *config,
		  json_t *layers, const char *tag);
/* Remove every tag of @id, then its record. */
int image_drop(const struct store *st, const char *id);

#endif /* STRATA_IMAGE_H */
