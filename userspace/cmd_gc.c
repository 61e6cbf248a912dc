// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_gc.c - "strata gc": leftovers, dead containers, unused layers.
 *
 * Runs under the exclusive store lock, so no helper is importing,
 * mounting or committing meanwhile.  Every removal is a rename into tmp/
 * first, so a crash mid-way leaves the store consistent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "container.h"
#include "image.h"
#include "layer.h"
#include "util.h"

void help_gc(FILE *out)
{
	fputs(
"Usage: strata gc\n"
"\n"
"Remove what a crashed helper left in the store, containers whose image\n"
"is gone (unless mounted), and layers no image uses; forget mounts that\n"
"no longer exist.  Prints what it removed.\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage error.\n", out);
}

static void mark_image(const struct store *st, const char *id, json_t *used)
{
	json_t *img = image_load(st, id), *l;
	size_t i;

	json_array_foreach(json_object_get(img, "layers"), i, l)
		json_object_set_new(used, json_string_value(l), json_true());
	json_decref(img);
}

int cmd_gc(int argc, char **argv)
{
	json_t *used = json_object(), *all, *c, *ids, *id;
	int ret = EXIT_OK;
	struct store st;
	size_t i;
	char *p;

	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			help_gc(stdout);
			return EXIT_OK;
		}
		return usage_error("gc", "unexpected argument '%s'", argv[1]);
	}
	/* Opening exclusively also empties tmp/. */
	if (store_open(&st, true))
		return EXIT_FAILED;
	all = container_list(&st);
	/* First what a crash left half-done: images added or removed. */
	if (image_finish_pending(&st, all))
		ret = EXIT_FAILED;
	json_array_foreach(all, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *img = json_string_value(json_object_get(c, "image"));

		if (container_refresh(c) && container_save(&st, c))
			ret = EXIT_FAILED;
		p = store_path(&st, "images/%s.json", img ? digest_hex(img) : "");
		if (img && digest_valid(img) && path_exists(p)) {
			mark_image(&st, img, used);
		} else if (json_is_null(json_object_get(c, "target"))) {
			free(p);
			p = store_path(&st, "containers/%s", name);
			if (store_remove(&st, p))
				ret = EXIT_FAILED;
			else
				printf("removed container %s\n", name);
		}
		free(p);
	}
	json_decref(all);
	ids = store_ids(&st, "images", ".json");
	json_array_foreach(ids, i, id)
		mark_image(&st, json_string_value(id), used);
	json_decref(ids);
	ids = store_ids(&st, "layers", "");
	json_array_foreach(ids, i, id) {
		if (json_object_get(used, json_string_value(id)))
			continue;
		p = store_path(&st, "layers/%s", digest_hex(json_string_value(id)));
		if (store_remove(&st, p))
			ret = EXIT_FAILED;
		else
			printf("removed layer %s\n", json_string_value(id));
		free(p);
	}
	json_decref(ids);
	json_decref(used);
	store_close(&st);
	return ret;
}
