// SPDX-License-Identifier: GPL-2.0
/*
 * image.c - image records and the tag table.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "layer.h"
#include "util.h"

char *image_tag_normalize(const char *tag)
{
	const char *slash = strrchr(tag, '/');

	if (strchr(slash ? slash : tag, ':'))
		return xstrdup(tag);
	return xasprintf("%s:latest", tag);
}

json_t *tags_load(const struct store *st)
{
	char *p = store_path(st, "tags.json");
	json_t *t = store_read_json(p, true);

	if (!t && errno == ENOENT)
		t = json_object();
	free(p);
	return t;
}

int tags_save(const struct store *st, json_t *tags)
{
	char *p = store_path(st, "tags.json");
	int ret = store_write_json(st, p, tags);

	free(p);
	return ret;
}

int image_resolve(const struct store *st, const char *ref,
		  char id[DIGEST_STR_LEN])
{
	char *norm = image_tag_normalize(ref);
	json_t *tags = tags_load(st), *v;

	if (!tags) {
		free(norm);
		return -1;
	}
	v = json_object_get(tags, norm);
	free(norm);
	if (json_is_string(v)) {
		snprintf(id, DIGEST_STR_LEN, "%s", json_string_value(v));
		json_decref(tags);
		return 0;
	}
	json_decref(tags);
	return store_resolve(st, "images", ".json", ref, "image", id);
}

json_t *image_load(const struct store *st, const char *id)
{
	char *p = store_path(st, "images/%s.json", digest_hex(id));
	json_t *j = store_read_json(p, false);

	free(p);
	return j;
}

int image_save_id(const struct store *st, const char *id, json_t *config,
		  json_t *layers)
{
	json_t *img = json_pack("{s:s, s:O, s:O}", "id", id, "layers", layers,
				"config", config);
	char *p = store_path(st, "images/%s.json", digest_hex(id));
	int ret = store_write_json(st, p, img);

	free(p);
	json_decref(img);
	return ret;
}

int image_tag(const struct store *st, const char *id, const char *tag)
{
	json_t *tags = tags_load(st);
	char *norm;
	int ret;

	if (!tags)
		return -1;
	norm = image_tag_normalize(tag);
	json_object_set_new(tags, norm, json_string(id));
	ret = tags_save(st, tags);
	free(norm);
	json_decref(tags);
	return ret;
}

int image_save(const struct store *st, json_t *config, json_t *layers,
	       const char *tag, char id[DIGEST_STR_LEN])
{
	char *text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);

	if (!text) {
		err_msg(NULL, "cannot encode the image config");
		return -1;
	}
	digest_buf(text, strlen(text), id);
	free(text);
	return image_publish(st, id, config, layers, tag);
}

static char *pending_path(const struct store *st, const char *id)
{
	return store_path(st, "images/%s.pending", digest_hex(id));
}

int image_intent(const struct store *st, const char *id, const char *op,
		 const char *tag)
{
	json_t *j = json_pack("{s:s, s:s?}", "op", op, "tag", tag);
	char *p = pending_path(st, id);
	int ret = store_write_json(st, p, j);

	json_decref(j);
	free(p);
	return ret;
}

void image_intent_done(const struct store *st, const char *id)
{
	char *p = pending_path(st, id);

	unlink(p);
	free(p);
}

int image_publish(const struct store *st, const char *id, json_t *config,
		  json_t *layers, const char *tag)
{
	char *rec = store_path(st, "images/%s.json", digest_hex(id));
	bool fresh = !path_exists(rec);
	int ret = -1;

	free(rec);
	/*
	 * A new record and its tag are two renames: a crash between them
	 * would leave an untagged image nobody asked for.  The intent says
	 * so, and gc removes such a half-made image (image_finish_pending).
	 */
	if (fresh && tag && image_intent(st, id, "add", tag))
		return -1;
	if (!image_save_id(st, id, config, layers) &&
	    (!tag || !image_tag(st, id, tag)))
		ret = 0;
	if (fresh && tag && !ret)
		image_intent_done(st, id);
	return ret;
}

/* Is any tag on @id?  -1 when tags.json cannot be read. */
static int tagged(const struct store *st, const char *id)
{
	json_t *tags = tags_load(st), *v;
	const char *k;
	int ret = 0;

	if (!tags)
		return -1;
	json_object_foreach(tags, k, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), id))
			ret = 1;
	json_decref(tags);
	return ret;
}

int image_drop(const struct store *st, const char *id)
{
	json_t *tags = tags_load(st), *v;
	const char *k;
	void *tmp;
	char *p;
	int ret = -1;

	if (!tags)
		return -1;
	json_object_foreach_safe(tags, tmp, k, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), id))
			json_object_del(tags, k);
	/* Tags first: a crash in between leaves an untagged image, not a
	 * tag pointing nowhere (and the intent, for gc, if there is one). */
	if (!tags_save(st, tags)) {
		p = store_path(st, "images/%s.json", digest_hex(id));
		ret = path_exists(p) ? store_remove(st, p) : 0;
		free(p);
	}
	json_decref(tags);
	return ret;
}

int image_finish_pending(const struct store *st, json_t *containers)
{
	char *dir = store_path(st, "images");
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	free(dir);
	while (d && (de = readdir(d))) {
		char id[DIGEST_STR_LEN], *p, *rec;
		const char *op;
		json_t *j, *c;
		bool drop = false;
		size_t i;

		if (strlen(de->d_name) != 64 + 8 || strcmp(de->d_name + 64, ".pending"))
			continue;
		snprintf(id, sizeof(id), "sha256:%.64s", de->d_name);
		p = pending_path(st, id);
		rec = store_path(st, "images/%s.json", digest_hex(id));
		j = store_read_json(p, true);
		op = json_string_value(json_object_get(j, "op"));
		if (op && path_exists(rec)) {
			/* An image rm that did not finish, or an image
			 * published without the tag it was published for. */
			drop = !strcmp(op, "rm") ||
			       (!strcmp(op, "add") && !tagged(st, id));
			json_array_foreach(containers, i, c)
				if (!strcmp(json_string_value(json_object_get(c, "image")) ?: "", id))
					drop = false;
		}
		if (drop && image_drop(st, id)) {
			ret = -1;	/* the intent stays for the next gc */
		} else {
			if (drop)
				printf("removed image %s (%s interrupted)\n", id,
				       !strcmp(op, "rm") ? "image rm" : "its import or commit");
			unlink(p);
		}
		json_decref(j);
		free(rec);
		free(p);
	}
	if (d)
		closedir(d);
	return ret;
}

char **image_layer_dirs(const struct store *st, json_t *img)
{
	json_t *layers = json_object_get(img, "layers");
	size_t i = json_array_size(layers), n = 0;
	char **v = xmalloc((i + 1) * sizeof(*v));

	while (i--) {
		const char *id = json_string_value(json_array_get(layers, i));

		if (id && digest_valid(id))
			v[n++] = layer_diff_dir(st, id);
	}
	v[n] = NULL;
	return v;
}

void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
