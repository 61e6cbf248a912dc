// SPDX-License-Identifier: GPL-2.0
/*
 * image.c - image records and the tag table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (image_save_id(st, id, config, layers))
		return -1;
	return tag ? image_tag(st, id, tag) : 0;
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
