// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_image.c - "strata image import|ls|rm|tag".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "container.h"
#include "image.h"
#include "oci.h"
#include "store.h"
#include "util.h"

void help_image(FILE *out)
{
	fputs(
"Usage: strata image import [--tag NAME[:TAG]] FILE|DIR\n"
"       strata image ls [--json]\n"
"       strata image rm IMAGE\n"
"       strata image tag IMAGE NAME[:TAG]\n"
"\n"
"import  read an OCI image layout (directory or tar) or a docker save\n"
"        archive; every blob digest and diff-id is verified; prints the\n"
"        image ids\n"
"ls      list images: id, layers, tags\n"
"rm      remove an image and its tags; refused while a container uses it\n"
"tag     point NAME:TAG at IMAGE (TAG defaults to latest)\n"
"\n"
"IMAGE is NAME[:TAG], an image id or a unique prefix of one.\n"
"The store is --root DIR, $STRATA_ROOT or " STORE_DEFAULT_ROOT ".\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage error.\n", out);
}

static int image_import(int argc, char **argv)
{
	struct verb_opts o = { .allow_tag = true, .operands = 1 };
	struct store st;
	int i, ret;

	i = verb_options(argc, argv, "image import", &o, help_image, &ret);
	if (i < 0)
		return ret;
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = oci_import(&st, argv[i], o.tag) ? EXIT_FAILED : EXIT_OK;
	store_close(&st);
	return ret;
}

void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s)
		puts(s);
	free(s);
}

/* Tags of image @id, as one comma-separated string (malloc'ed). */
static char *tags_of(json_t *tags, const char *id, json_t *arr)
{
	const char *k;
	json_t *v;
	char *s = xstrdup("");

	json_object_foreach(tags, k, v) {
		char *n;

		if (strcmp(json_string_value(v), id))
			continue;
		n = xasprintf("%s%s%s", s, *s ? "," : "", k);
		free(s);
		s = n;
		json_array_append_new(arr, json_string(k));
	}
	return s;
}

static int image_ls(int argc, char **argv)
{
	struct verb_opts o = { .allow_json = true };
	json_t *tags, *ids, *v, *out = json_array();
	struct store st;
	size_t i;
	int ret;

	if (verb_options(argc, argv, "image ls", &o, help_image, &ret) < 0)
		return ret;
	if (store_open(&st, false))
		return EXIT_FAILED;
	tags = tags_load(&st);
	ids = store_ids(&st, "images", ".json");
	if (!o.json)
		printf("%-19s %6s  %s\n", "IMAGE ID", "LAYERS", "TAGS");
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		json_t *img = image_load(&st, id), *ta = json_array();
		json_t *layers = json_object_get(img, "layers");
		char *t;

		if (!img)
			continue;
		t = tags_of(tags, id, ta);
		if (o.json)
			json_array_append_new(out, json_pack("{s:s, s:O, s:O}", "id", id,
							     "layers", layers, "tags", ta));
		else
			printf("%-19.19s %6zu  %s\n", id, json_array_size(layers), t);
		json_decref(ta);
		free(t);
		json_decref(img);
	}
	if (o.json)
		print_json(out);
	json_decref(out);
	json_decref(ids);
	json_decref(tags);
	store_close(&st);
	return EXIT_OK;
}

static int image_rm(int argc, char **argv)
{
	char id[DIGEST_STR_LEN];
	json_t *cs, *c;
	struct store st;
	struct verb_opts o = { .operands = 1 };
	size_t j;
	int i, ret;

	i = verb_options(argc, argv, "image rm", &o, help_image, &ret);
	if (i < 0)
		return ret;
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	if (image_resolve(&st, argv[i], id))
		goto out;
	cs = container_list(&st);
	json_array_foreach(cs, j, c) {
		if (!strcmp(json_string_value(json_object_get(c, "image")), id)) {
			err_msg(argv[i], "in use by container %s",
				json_string_value(json_object_get(c, "name")));
			json_decref(cs);
			goto out;
		}
	}
	json_decref(cs);
	/* Tags, then the record; the intent lets gc finish it after a crash. */
	if (!image_intent(&st, id, "rm", NULL) && !image_drop(&st, id)) {
		image_intent_done(&st, id);
		ret = EXIT_OK;
	}
out:
	store_close(&st);
	return ret;
}

static int image_tag_cmd(int argc, char **argv)
{
	char id[DIGEST_STR_LEN];
	struct verb_opts o = { .operands = 2 };
	struct store st;
	int i, ret;

	i = verb_options(argc, argv, "image tag", &o, help_image, &ret);
	if (i < 0)
		return ret;
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	if (!image_resolve(&st, argv[i], id) && !image_tag(&st, id, argv[i + 1]))
		ret = EXIT_OK;
	store_close(&st);
	return ret;
}

int cmd_image(int argc, char **argv)
{
	static const struct subcommand subs[] = {
		{ "import", image_import },
		{ "ls", image_ls },
		{ "rm", image_rm },
		{ "tag", image_tag_cmd },
		{}
	};

	return run_subcommand("image", subs, argc, argv, help_image);
}
