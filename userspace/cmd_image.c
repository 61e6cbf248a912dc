// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_image.c - "strata image import|ls|rm|tag".
 */
#include <dirent.h>
#include <getopt.h>
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

/* Parse "--json"/"--tag" and "-h"; returns the index of the first operand,
 * or -1 with *ret set. */
static int parse_opts(int argc, char **argv, const char *cmd, bool *json,
		      const char **tag, int *ret)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jt:h", opts, NULL)) != -1) {
		if (c == 'j' && json) {
			*json = true;
		} else if (c == 't' && tag) {
			*tag = optarg;
		} else if (c == 'h') {
			help_image(stdout);
			*ret = EXIT_OK;
			return -1;
		} else {
			*ret = option_error(cmd, c, argv);
			return -1;
		}
	}
	return optind;
}

static int image_import(int argc, char **argv)
{
	const char *tag = NULL;
	struct store st;
	int i, ret;

	i = parse_opts(argc, argv, "image import", NULL, &tag, &ret);
	if (i < 0)
		return ret;
	if (i + 1 != argc)
		return usage_error("image import", "expected one FILE or DIR");
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = oci_import(&st, argv[i], tag) ? EXIT_FAILED : EXIT_OK;
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
	json_t *tags, *out = json_array();
	bool json = false;
	struct store st;
	struct dirent **ents;
	char *dir;
	int i, n, ret;

	i = parse_opts(argc, argv, "image ls", &json, NULL, &ret);
	if (i < 0)
		return ret;
	if (i != argc)
		return usage_error("image ls", "unexpected argument '%s'", argv[i]);
	if (store_open(&st, false))
		return EXIT_FAILED;
	tags = tags_load(&st);
	dir = store_path(&st, "images");
	n = scandir(dir, &ents, NULL, alphasort);
	free(dir);
	if (!json)
		printf("%-19s %6s  %s\n", "IMAGE ID", "LAYERS", "TAGS");
	for (i = 0; i < n; i++) {
		char id[DIGEST_STR_LEN], *t;
		json_t *img, *ta;

		if (strlen(ents[i]->d_name) == DIGEST_HEX_LEN + 5) {
			snprintf(id, sizeof(id), "sha256:%.64s", ents[i]->d_name);
			img = image_load(&st, id);
			if (img) {
				ta = json_array();
				t = tags_of(tags, id, ta);
				if (json)
					json_array_append_new(out, json_pack("{s:s, s:O, s:o}",
						"id", id, "layers", json_object_get(img, "layers"),
						"tags", ta));
				else
					printf("%-19.19s %6zu  %s\n", id,
					       json_array_size(json_object_get(img, "layers")), t);
				if (!json)
					json_decref(ta);
				free(t);
				json_decref(img);
			}
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	if (json)
		print_json(out);
	json_decref(out);
	json_decref(tags);
	store_close(&st);
	return EXIT_OK;
}

static int image_rm(int argc, char **argv)
{
	char id[DIGEST_STR_LEN], *p;
	json_t *tags, *cs, *c, *v;
	struct store st;
	const char *k;
	void *tmp;
	size_t j;
	int i, ret;

	i = parse_opts(argc, argv, "image rm", NULL, NULL, &ret);
	if (i < 0)
		return ret;
	if (i + 1 != argc)
		return usage_error("image rm", "expected one IMAGE");
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
	tags = tags_load(&st);
	if (!tags)
		goto out;
	json_object_foreach_safe(tags, tmp, k, v)
		if (!strcmp(json_string_value(v), id))
			json_object_del(tags, k);
	/* Tags first: a crash in between leaves an untagged image, not a
	 * tag pointing nowhere. */
	if (!tags_save(&st, tags)) {
		p = store_path(&st, "images/%s.json", digest_hex(id));
		if (!store_remove(&st, p))
			ret = EXIT_OK;
		free(p);
	}
	json_decref(tags);
out:
	store_close(&st);
	return ret;
}

static int image_tag_cmd(int argc, char **argv)
{
	char id[DIGEST_STR_LEN];
	struct store st;
	int i, ret;

	i = parse_opts(argc, argv, "image tag", NULL, NULL, &ret);
	if (i < 0)
		return ret;
	if (i + 2 != argc)
		return usage_error("image tag", "expected IMAGE and NAME[:TAG]");
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
