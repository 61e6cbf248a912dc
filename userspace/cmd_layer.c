// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_layer.c - "strata layer create|ls|rm|diff".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "commit.h"
#include "container.h"
#include "container_union.h"
#include "export.h"
#include "image.h"
#include "layer.h"
#include "progress.h"
#include "util.h"

void help_layer(FILE *out)
{
	fputs(
"Usage: strata layer import FILE\n"
"       strata layer create DIR\n"
"       strata layer ls [--json]\n"
"       strata layer rm LAYER\n"
"       strata layer diff LAYER|CONTAINER >FILE.tar\n"
"\n"
"import  store one layer tar (plain, gzip or zstd; entries checked as for\n"
"        image import); prints its diff-id\n"
"create  store the tree DIR as a layer (OCI whiteouts kept; overlay\n"
"        whiteouts and opaque xattrs converted); prints its diff-id\n"
"ls      list layers: diff-id, size of the tar, images using it\n"
"rm      remove a layer; refused while an image uses it\n"
"diff    write the layer, or a container's rw top, as an OCI layer tar\n"
"        on standard output (deterministic: the same tree gives the same\n"
"        bytes); directories renamed in a container's union are read\n"
"        through it, a detached read-only one if it is not mounted\n"
"\n"
"LAYER is a diff-id (sha256:HEX) or a unique prefix of its hex digits.\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage error.\n", out);
}

static int layer_create(int argc, char **argv)
{
	struct verb_opts o = { .operands = 1 };
	char id[DIGEST_STR_LEN];
	struct store st;
	int i, ret;

	i = verb_options(argc, argv, "layer create", &o, help_layer, &ret);
	if (i < 0)
		return ret;
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	if (!layer_from_dir(&st, argv[i], NULL, NULL, id)) {
		puts(id);
		ret = EXIT_OK;
	}
	store_close(&st);
	return ret;
}

static int layer_import(int argc, char **argv)
{
	struct verb_opts o = { .operands = 1 };
	struct staged_layer l;
	struct progress pg;
	struct store st;
	int i, ret;

	i = verb_options(argc, argv, "layer import", &o, help_layer, &ret);
	if (i < 0)
		return ret;
	if (store_open(&st, true))
		return EXIT_FAILED;
	progress_start(&pg, "import");
	ret = EXIT_FAILED;
	if (!layer_stage(&st, argv[i], NULL, NULL, &l, &pg)) {
		if (!layer_publish(&st, &l)) {
			puts(l.diff_id);
			ret = EXIT_OK;
		}
		layer_unstage(&l);
	}
	store_close(&st);
	return ret;
}

/* The images that list layer @id. */
static json_t *layer_users(const struct store *st, const char *id)
{
	json_t *users = json_array(), *ids = store_ids(st, "images", ".json");
	json_t *iid, *l;
	size_t i, j;

	json_array_foreach(ids, i, iid) {
		json_t *img = image_load(st, json_string_value(iid));

		json_array_foreach(json_object_get(img, "layers"), j, l) {
			if (!strcmp(json_string_value(l), id)) {
				json_array_append(users, iid);
				break;
			}
		}
		json_decref(img);
	}
	json_decref(ids);
	return users;
}

static int layer_ls(int argc, char **argv)
{
	struct verb_opts o = { .allow_json = true };
	json_t *out = json_array(), *ids, *v;
	struct store st;
	size_t i;
	int ret;

	if (verb_options(argc, argv, "layer ls", &o, help_layer, &ret) < 0)
		return ret;
	if (store_open(&st, false))
		return EXIT_FAILED;
	ids = store_ids(&st, "layers", "");
	if (!o.json)
		printf("%-19s %12s  %s\n", "LAYER", "SIZE", "IMAGES");
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		char *p = store_path(&st, "layers/%s/layer.json", digest_hex(id));
		json_t *meta = store_read_json(p, false), *users;
		json_int_t size = json_integer_value(json_object_get(meta, "size"));

		free(p);
		users = layer_users(&st, id);
		if (o.json)
			json_array_append_new(out, json_pack("{s:s, s:I, s:O}", "id", id,
							     "size", size, "images", users));
		else
			printf("%-19.19s %12lld  %zu\n", id, (long long)size,
			       json_array_size(users));
		json_decref(users);
		json_decref(meta);
	}
	if (o.json)
		print_json(out);
	json_decref(out);
	json_decref(ids);
	store_close(&st);
	return EXIT_OK;
}

static int layer_rm(int argc, char **argv)
{
	char id[DIGEST_STR_LEN], *p;
	struct store st;
	struct verb_opts o = { .operands = 1 };
	json_t *users;
	int i, ret;

	i = verb_options(argc, argv, "layer rm", &o, help_layer, &ret);
	if (i < 0)
		return ret;
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	if (layer_resolve(&st, argv[i], id))
		goto out;
	users = layer_users(&st, id);
	if (json_array_size(users)) {
		err_msg(argv[i], "in use by image %s",
			json_string_value(json_array_get(users, 0)));
		json_decref(users);
		goto out;
	}
	json_decref(users);
	p = store_path(&st, "layers/%s", digest_hex(id));
	if (!store_remove(&st, p))
		ret = EXIT_OK;
	free(p);
out:
	store_close(&st);
	return ret;
}

static int layer_diff(int argc, char **argv)
{
	char id[DIGEST_STR_LEN], *dir = NULL, **lowers = NULL;
	struct container_view cv = { .lockfd = -1 };
	struct union_view *view = NULL;
	struct progress pg;
	struct store st;
	struct verb_opts o = { .operands = 1 };
	json_t *c, *img = NULL;
	int i, ret;

	i = verb_options(argc, argv, "layer diff", &o, help_layer, &ret);
	if (i < 0)
		return ret;
	if (isatty(STDOUT_FILENO))
		return usage_error("layer diff", "standard output is a terminal; redirect it to a file");
	if (store_open(&st, false))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	c = container_load(&st, argv[i]);
	if (c) {
		img = image_load(&st, json_string_value(json_object_get(c, "image")));
		if (!img)
			goto out;
		dir = container_top(&st, c);
		container_refresh(c);
		/* Where stubs of the top find their data. */
		lowers = image_layer_dirs(&st, img);
		container_view_init(&cv, &st, c, img);
		view = &cv.v;
	} else if (!layer_resolve(&st, argv[i], id)) {
		dir = layer_diff_dir(&st, id);
	}
	if (dir) {
		progress_start(&pg, "diff");
		if (!layer_export(dir, view, lowers, STDOUT_FILENO, &pg))
			ret = EXIT_OK;
		progress_done(&pg);
	}
out:
	container_view_close(&cv);
	json_decref(img);
	free(dir);
	strv_free(lowers);
	json_decref(c);
	store_close(&st);
	return ret;
}

int cmd_layer(int argc, char **argv)
{
	static const struct subcommand subs[] = {
		{ "import", layer_import },
		{ "create", layer_create },
		{ "ls", layer_ls },
		{ "rm", layer_rm },
		{ "diff", layer_diff },
		{}
	};

	return run_subcommand("layer", subs, argc, argv, help_layer);
}
