// SPDX-License-Identifier: GPL-2.0
/*
 * oci.c - image import: OCI layouts (index.json, manifests, blobs) and
 * docker save archives (manifest.json, config, layer tars).
 *
 * All layers of all images are staged first; only when every digest has
 * been verified are the layers published, then the image records, then
 * the tags.  A failure on the way removes the staged layers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "image.h"
#include "layer.h"
#include "oci.h"
#include "progress.h"
#include "util.h"

struct pending_image {
	char id[DIGEST_STR_LEN];
	json_t *config;
	json_t *layers;
	char *tag;
};

struct import_ctx {
	const struct store *st;
	const char *dir;		/* the unpacked source */
	const char *src;		/* as the user named it */
	struct staged_layer *layers;
	size_t nlayers;
	struct pending_image *images;
	size_t nimages;
	struct progress pg;
};

/* Read a blob named by digest, verify it, parse it as JSON. */
static json_t *load_verified(struct import_ctx *c, const char *rel,
			     const char *want)
{
	char *p = xasprintf("%s/%s", c->dir, rel);
	char got[DIGEST_STR_LEN];
	json_t *j = NULL;

	if (digest_file(p, got)) {
		err_msg(c->src, "%s: %s", rel, strerror(errno));
	} else if (want && strcmp(got, want)) {
		err_msg(c->src, "%s: digest mismatch: expected %s, got %s", rel,
			want, got);
	} else {
		j = store_read_json(p, false);
	}
	free(p);
	return j;
}

static char *blob_path(const char *digest)
{
	const char *colon = strchr(digest, ':');

	return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest,
			 colon + 1);
}

static int stage_layer(struct import_ctx *c, const char *rel,
		       const char *want_blob, const char *diff_id)
{
	char *p = xasprintf("%s/%s", c->dir, rel);
	struct staged_layer l;
	int ret;

	ret = layer_stage(c->st, p, want_blob, diff_id, &l, &c->pg);
	free(p);
	if (ret)
		return -1;
	c->layers = xrealloc(c->layers, (c->nlayers + 1) * sizeof(*c->layers));
	c->layers[c->nlayers++] = l;
	return 0;
}

/* The diff-ids of a config, checked against the number of layers. */
static json_t *config_diff_ids(struct import_ctx *c, json_t *config,
			       size_t nlayers)
{
	json_t *ids = json_object_get(json_object_get(config, "rootfs"),
				      "diff_ids");
	size_t i;

	if (!json_is_array(ids) || json_array_size(ids) != nlayers) {
		err_msg(c->src, "config: rootfs.diff_ids does not match the layers");
		return NULL;
	}
	for (i = 0; i < nlayers; i++) {
		if (!digest_valid(json_string_value(json_array_get(ids, i)) ?: "")) {
			err_msg(c->src, "config: bad diff-id %zu", i);
			return NULL;
		}
	}
	return ids;
}

static void add_image(struct import_ctx *c, const char *id, json_t *config,
		      json_t *layers, const char *tag)
{
	struct pending_image *im;

	c->images = xrealloc(c->images, (c->nimages + 1) * sizeof(*c->images));
	im = &c->images[c->nimages++];
	snprintf(im->id, sizeof(im->id), "%s", id);
	im->config = json_incref(config);
	im->layers = json_incref(layers);
	im->tag = tag ? xstrdup(tag) : NULL;
}

static int oci_manifest(struct import_ctx *c, const char *digest,
			const char *tag)
{
	json_t *man, *config = NULL, *layers, *ids, *l;
	const char *cdigest;
	char *rel;
	size_t i;
	int ret = -1;

	if (!digest_valid(digest)) {
		err_msg(c->src, "unsupported manifest digest %s", digest);
		return -1;
	}
	rel = blob_path(digest);
	man = load_verified(c, rel, digest);
	free(rel);
	if (!man)
		return -1;
	cdigest = json_string_value(json_object_get(json_object_get(man, "config"),
						    "digest"));
	layers = json_object_get(man, "layers");
	if (!cdigest || !digest_valid(cdigest) || !json_is_array(layers)) {
		err_msg(c->src, "manifest %s: no config or layers (an index of indexes is not supported)",
			digest);
		goto out;
	}
	rel = blob_path(cdigest);
	config = load_verified(c, rel, cdigest);
	free(rel);
	if (!config)
		goto out;
	ids = config_diff_ids(c, config, json_array_size(layers));
	if (!ids)
		goto out;
	json_array_foreach(layers, i, l) {
		const char *ld = json_string_value(json_object_get(l, "digest"));

		if (!ld || !digest_valid(ld)) {
			err_msg(c->src, "manifest %s: layer %zu: bad digest", digest, i);
			goto out;
		}
		rel = blob_path(ld);
		ret = stage_layer(c, rel, ld, json_string_value(json_array_get(ids, i)));
		free(rel);
		if (ret)
			goto out;
		ret = -1;
	}
	add_image(c, cdigest, config, ids, tag);
	ret = 0;
out:
	json_decref(config);
	json_decref(man);
	return ret;
}

static int import_oci(struct import_ctx *c, const char *tag)
{
	json_t *index = load_verified(c, "index.json", NULL), *mans, *m;
	size_t i;
	int ret = -1;

	if (!index)
		return -1;
	mans = json_object_get(index, "manifests");
	if (!json_is_array(mans) || !json_array_size(mans)) {
		err_msg(c->src, "index.json: no manifests");
		goto out;
	}
	json_array_foreach(mans, i, m) {
		const char *d = json_string_value(json_object_get(m, "digest"));
		const char *ref = json_string_value(json_object_get(
			json_object_get(m, "annotations"),
			"org.opencontainers.image.ref.name"));

		if (!d) {
			err_msg(c->src, "index.json: manifest %zu has no digest", i);
			goto out;
		}
		if (oci_manifest(c, d, tag ?: ref))
			goto out;
	}
	ret = 0;
out:
	json_decref(index);
	return ret;
}

/* "blobs/sha256/<hex>" names its own digest; other paths do not. */
static char *digest_of_path(const char *rel)
{
	const char *p = strstr(rel, "sha256/");
	char *d;

	if (!p)
		return NULL;
	d = xasprintf("sha256:%s", p + 7);
	if ((p = strchr(d + 7, '.')))
		*(char *)p = '\0';	/* "<hex>.json" */
	if (digest_valid(d))
		return d;
	free(d);
	return NULL;
}

static int import_docker(struct import_ctx *c, const char *tag)
{
	json_t *man = load_verified(c, "manifest.json", NULL), *e;
	size_t i, j;
	int ret = -1;

	if (!man)
		return -1;
	if (!json_is_array(man) || !json_array_size(man)) {
		err_msg(c->src, "manifest.json: no images");
		goto out;
	}
	json_array_foreach(man, i, e) {
		const char *cfg = json_string_value(json_object_get(e, "Config"));
		json_t *layers = json_object_get(e, "Layers"), *config, *ids, *l;
		json_t *tags = json_object_get(e, "RepoTags");
		char *want = NULL, id[DIGEST_STR_LEN];
		char *p;

		if (!cfg || !json_is_array(layers)) {
			err_msg(c->src, "manifest.json: image %zu: no Config or Layers", i);
			goto out;
		}
		/* The config's file name is its digest ("<hex>.json"). */
		want = digest_of_path(cfg);
		if (!want) {
			char *tmp = xasprintf("sha256/%s", cfg);

			want = digest_of_path(tmp);
			free(tmp);
		}
		config = load_verified(c, cfg, want);
		if (!config) {
			free(want);
			goto out;
		}
		p = xasprintf("%s/%s", c->dir, cfg);
		digest_file(p, id);
		free(p);
		free(want);
		ids = config_diff_ids(c, config, json_array_size(layers));
		if (!ids) {
			json_decref(config);
			goto out;
		}
		json_array_foreach(layers, j, l) {
			const char *rel = json_string_value(l);
			char *bd;

			if (!rel) {
				json_decref(config);
				goto out;
			}
			bd = digest_of_path(rel);
			ret = stage_layer(c, rel, bd,
					  json_string_value(json_array_get(ids, j)));
			free(bd);
			if (ret) {
				json_decref(config);
				goto out;
			}
			ret = -1;
		}
		add_image(c, id, config, ids, tag ?:
			  json_string_value(json_array_get(tags, 0)));
		json_decref(config);
	}
	ret = 0;
out:
	json_decref(man);
	return ret;
}

static int publish(struct import_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nlayers; i++)
		if (layer_publish(c->st, &c->layers[i]))
			return -1;
	for (i = 0; i < c->nimages; i++) {
		struct pending_image *im = &c->images[i];

		if (image_publish(c->st, im->id, im->config, im->layers, im->tag))
			return -1;
	}
	return 0;
}

int oci_import(const struct store *st, const char *src, const char *tag)
{
	struct import_ctx c = { .st = st, .src = src };
	char *tmp = NULL, *p;
	struct stat sb;
	size_t i;
	int ret = -1;

	if (stat(src, &sb)) {
		err_errno(src, errno);
		return -1;
	}
	progress_start(&c.pg, "unpack archive");
	if (S_ISDIR(sb.st_mode)) {
		c.dir = src;
	} else {
		/* An archive: unpack it (checked like a layer) under tmp/. */
		tmp = store_mktemp(st, "import");
		if (!tmp || tar_extract(src, tmp, src, false, &c.pg))
			goto out;
		progress_done(&c.pg);
		c.dir = tmp;
	}
	p = xasprintf("%s/index.json", c.dir);
	if (path_exists(p))
		ret = import_oci(&c, tag);
	else if (free(p), p = xasprintf("%s/manifest.json", c.dir), path_exists(p))
		ret = import_docker(&c, tag);
	else
		err_msg(src, "neither an OCI image layout nor a docker save archive");
	free(p);
	if (!ret)
		ret = publish(&c);
	progress_done(&c.pg);
	if (!ret)
		for (i = 0; i < c.nimages; i++)
			printf("%s\n", c.images[i].id);
out:
	for (i = 0; i < c.nlayers; i++)
		layer_unstage(&c.layers[i]);
	for (i = 0; i < c.nimages; i++) {
		json_decref(c.images[i].config);
		json_decref(c.images[i].layers);
		free(c.images[i].tag);
	}
	free(c.layers);
	free(c.images);
	if (tmp) {
		rm_rf(tmp);
		free(tmp);
	}
	return ret;
}
