/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store.h - the layer store: its root, its lock and crash-safe changes.
 *
 * Layout (Documentation/store.rst):
 *   ROOT/lock                       flock()ed by every helper using the store
 *   ROOT/tmp/                       work in progress; emptied under the lock
 *   ROOT/layers/<hex>/diff/         a layer's files, OCI whiteouts as they are
 *   ROOT/layers/<hex>/layer.json    its diff-id and size
 *   ROOT/images/<hex>.json          an image: config digest, layers, config
 *   ROOT/tags.json                  "name:tag" -> image id
 *   ROOT/containers/<name>/         rw/, work/, container.json
 *
 * Everything is built under tmp/, synced, and renamed into place, so a crash
 * leaves either the old state or the new one plus garbage in tmp/.
 */
#ifndef STRATA_STORE_H
#define STRATA_STORE_H

#include <stdbool.h>
#include <jansson.h>

#define STORE_DEFAULT_ROOT "/var/lib/strata"

struct store {
	char *root;
	int rootfd;
	int lockfd;
};

/* --root given on the command line (main.c), or NULL. */
extern const char *store_root_opt;

/* --root, else $STRATA_ROOT, else the default. */
const char *store_root_path(void);

/*
 * Open (creating if needed) and lock the store: shared for readers,
 * exclusive for writers, which also clear what a crashed helper left in
 * tmp/.  Prints why and returns -1 on failure.
 */
int store_open(struct store *st, bool exclusive);
void store_close(struct store *st);

/* ROOT/<formatted>, malloc'ed. */
char *store_path(const struct store *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A new empty directory under tmp/; NULL after printing why. */
char *store_mktemp(const struct store *st, const char *prefix);

/* Sync the store's filesystem, rename @tmp to @dst, sync @dst's parent. */
int store_publish(const struct store *st, const char *tmp, const char *dst);

/* Replace @dst by @j atomically (tmp file, fsync, rename). */
int store_write_json(const struct store *st, const char *dst, json_t *j);

/* Load a JSON file; NULL after printing "PATH: why" (quiet on ENOENT
 * when @missing_ok, errno ENOENT then). */
json_t *store_read_json(const char *path, bool missing_ok);

/* Move @path into tmp/ (atomic) and delete it from there. */
int store_remove(const struct store *st, const char *path);

/*
 * The objects of directory @dir (layers, images): the entries named
 * <64 hex>@suffix, as a sorted array of "sha256:<hex>" strings.
 */
json_t *store_ids(const struct store *st, const char *dir, const char *suffix);

/*
 * Resolve @ref ("sha256:<hex>", or a unique prefix of 4+ hex digits) among
 * store_ids(@dir, @suffix).  0, or -1 after printing "REF: no such
 * @what" or "REF: ambiguous @what reference".
 */
int store_resolve(const struct store *st, const char *dir, const char *suffix,
		  const char *ref, const char *what, char out[72]);

/* rm -rf; 0 or -1 with errno. */
int rm_rf(const char *path);

/* Does @path exist? */
bool path_exists(const char *path);

#endif /* STRATA_STORE_H */
