// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_layer.c - "strata layer create|ls|rm|diff".
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "commit.h"
#include "container.h"
#include "export.h"
#include "image.h"
#include "layer.h"
#include "progress.h"
#include "util.h"

void help_layer(FILE *out)
{
	fputs(
"Usage: strata layer create DIR\n"
"       strata layer ls [--json]\n"
"       strata layer rm LAYER\n"
"       strata layer diff LAYER|CONTAINER >FILE.tar\n"
"\n"
"create  store the tree DIR as a layer (OCI whiteouts kept; overlay\n"
"        whiteouts and opaque xattrs converted); prints its diff-id\n"
"ls      list layers: diff-id, size of the tar, images using it\n"
"rm      remove a layer; refused while an image uses it\n"
"diff    write the layer, or a container's rw top, as an OCI layer tar\n"
"        on standard output (deterministic: the same tree gives the same\n"
"        bytes)\n"
"\n"
"LAYER is a diff-id (sha256:HEX) or a unique prefix of its hex digits.\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage error.\n", out);
}

static int parse(int argc, char **argv, const char *cmd, bool *json, int *ret)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		if (c == 'j' && json) {
			*json = true;
		} else if (c == 'h') {
			help_layer(stdout);
			*ret = EXIT_OK;
			return -1;
		} else {
			*ret = option_error(cmd, c, argv);
			return -1;
		}
	}
	return optind;
}

static int layer_create(int argc, char **argv)
{
	char id[DIGEST_STR_LEN];
	struct store st;
	int i, ret;

	i = parse(argc, argv, "layer create", NULL, &ret);
	if (i < 0)
		return ret;
	if (i + 1 != argc)
		return usage_error("layer create", "expected one DIR");
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	if (!layer_from_dir(&st, argv[i], NULL, id)) {
		puts(id);
		ret = EXIT_OK;
	}
	store_close(&st);
	return ret;
}

/* How many images list @id. */
static json_t *layer_users(const struct store *st, const char *id)
{
	json_t *users = json_array();
	struct dirent *de;
	char *dir = store_path(st, "images");
	DIR *d = opendir(dir);

	free(dir);
	while (d && (de = readdir(d))) {
		char iid[DIGEST_STR_LEN];
		json_t *img, *l;
		size_t i;

		if (strlen(de->d_name) != DIGEST_HEX_LEN + 5)
			continue;
		snprintf(iid, sizeof(iid), "sha256:%.64s", de->d_name);
		img = image_load(st, iid);
		json_array_foreach(json_object_get(img, "layers"), i, l) {
			if (!strcmp(json_string_value(l), id)) {
				json_array_append_new(users, json_string(iid));
				break;
			}
		}
		json_decref(img);
	}
	if (d)
		closedir(d);
	return users;
}

static int layer_ls(int argc, char **argv)
{
	json_t *out = json_array();
	struct dirent **ents;
	bool json = false;
	struct store st;
	int i, n, ret;
	char *dir;

	i = parse(argc, argv, "layer ls", &json, &ret);
	if (i < 0)
		return ret;
	if (i != argc)
		return usage_error("layer ls", "unexpected argument '%s'", argv[i]);
	if (store_open(&st, false))
		return EXIT_FAILED;
	dir = store_path(&st, "layers");
	n = scandir(dir, &ents, NULL, alphasort);
	free(dir);
	if (!json)
		printf("%-19s %12s  %s\n", "LAYER", "SIZE", "IMAGES");
	for (i = 0; i < n; i++) {
		char id[DIGEST_STR_LEN], *p;
		json_t *meta, *users;

		if (strlen(ents[i]->d_name) != DIGEST_HEX_LEN)
			goto next;
		snprintf(id, sizeof(id), "sha256:%.64s", ents[i]->d_name);
		p = store_path(&st, "layers/%s/layer.json", ents[i]->d_name);
		meta = store_read_json(p, false);
		free(p);
		users = layer_users(&st, id);
		if (json)
			json_array_append_new(out, json_pack("{s:s, s:I, s:o}", "id", id,
				"size", json_integer_value(json_object_get(meta, "size")),
				"images", users));
		else {
			printf("%-19.19s %12lld  %zu\n", id,
			       (long long)json_integer_value(json_object_get(meta, "size")),
			       json_array_size(users));
			json_decref(users);
		}
		json_decref(meta);
next:
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	if (json)
		print_json(out);
	json_decref(out);
	store_close(&st);
	return EXIT_OK;
}

static int layer_rm(int argc, char **argv)
{
	char id[DIGEST_STR_LEN], *p;
	struct store st;
	json_t *users;
	int i, ret;

	i = parse(argc, argv, "layer rm", NULL, &ret);
	if (i < 0)
		return ret;
	if (i + 1 != argc)
		return usage_error("layer rm", "expected one LAYER");
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
	char id[DIGEST_STR_LEN], *dir = NULL;
	const char *target = NULL;
	struct progress pg;
	struct store st;
	json_t *c;
	int i, ret;

	i = parse(argc, argv, "layer diff", NULL, &ret);
	if (i < 0)
		return ret;
	if (i + 1 != argc)
		return usage_error("layer diff", "expected one LAYER or CONTAINER");
	if (isatty(STDOUT_FILENO))
		return usage_error("layer diff", "standard output is a terminal; redirect it to a file");
	if (store_open(&st, false))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	c = container_load(&st, argv[i]);
	if (c) {
		dir = store_path(&st, "containers/%s/rw", argv[i]);
		container_refresh(c);
		target = json_string_value(json_object_get(c, "target"));
	} else if (!layer_resolve(&st, argv[i], id)) {
		dir = layer_diff_dir(&st, id);
	}
	if (dir) {
		progress_start(&pg, "diff");
		if (!layer_export(dir, target, STDOUT_FILENO, &pg))
			ret = EXIT_OK;
		progress_done(&pg);
	}
	free(dir);
	json_decref(c);
	store_close(&st);
	return ret;
}

int cmd_layer(int argc, char **argv)
{
	static const struct subcommand subs[] = {
		{ "create", layer_create },
		{ "ls", layer_ls },
		{ "rm", layer_rm },
		{ "diff", layer_diff },
		{}
	};

	return run_subcommand("layer", subs, argc, argv, help_layer);
}
