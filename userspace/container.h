/* SPDX-License-Identifier: GPL-2.0 */
/*
 * container.h - containers: a rw top and a work dir over an image.
 *
 * containers/<name>/container.json: { "name", "image": "<id>",
 *   "target": "/mount/point" or null, "top": "rw" or "rw.N" (absent: "rw") }
 *
 * "top" names the container's rw top directory inside containers/<name>/.
 */
#ifndef STRATA_CONTAINER_H
#define STRATA_CONTAINER_H

#include <stdbool.h>
#include <jansson.h>

#include "store.h"

/* containers/<name>/container.json, or NULL (quiet when missing). */
json_t *container_load(const struct store *st, const char *name);
int container_save(const struct store *st, json_t *c);
/* Create containers/<name> with rw/, work/ and its record (atomic). */
json_t *container_create(const struct store *st, const char *name,
			 const char *image);
/* containers/<name>/<top>, malloc'ed; "top" absent or bad: "rw". */
char *container_top(const struct store *st, json_t *c);
/* Remove the tops of an unmounted container other than its current one. */
void container_drop_old_tops(const struct store *st, json_t *c);
/* The container mounted on the canonical path @target, or NULL. */
json_t *container_by_target(const struct store *st, const char *target);
/* All container records (array). */
json_t *container_list(const struct store *st);
/* Is @target the mount point of a mounted strata union? */
bool mounted_strata(const char *target);
/* NULL target when the recorded mount is gone; true if it changed. */
bool container_refresh(json_t *c);

#endif /* STRATA_CONTAINER_H */
