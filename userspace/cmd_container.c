// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_container.c - containers: "strata mount IMAGE TARGET", the
 * container side of "strata umount", "strata commit" and
 * "strata container ls|rm".
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "commit.h"
#include "container.h"
#include "container_union.h"
#include "image.h"
#include "kmod.h"
#include "layer.h"
#include "live_commit.h"
#include "mount.h"
#include "util.h"

void help_commit(FILE *out)
{
	fputs(
"Usage: strata commit [--tag NAME[:TAG]] CONTAINER|TARGET\n"
"\n"
"Store the container's rw top as a new layer and make an image of its\n"
"image's layers plus that one; prints the new image id.  A mounted\n"
"container is made read-only while its top is read, then writable again.\n"
"\n"
"Exit status: 0 committed, 1 failed, 2 usage error.\n", out);
}

void help_container(FILE *out)
{
	fputs(
"Usage: strata container ls [--json]\n"
"       strata container rm NAME\n"
"\n"
"Containers are made by 'strata mount IMAGE TARGET' and kept after\n"
"'strata umount' (without --rm); mounting the image again with the same\n"
"--name continues them.  rm is refused while the container is mounted.\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage error.\n", out);
}

static bool valid_name(const char *n)
{
	size_t i;

	if (!*n || n[0] == '.' || strlen(n) > 128)
		return false;
	for (i = 0; n[i]; i++)
		if (!(n[i] == '-' || n[i] == '_' || n[i] == '.' ||
		      (n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'z') ||
		      (n[i] >= 'A' && n[i] <= 'Z')))
			return false;
	return true;
}

static char *random_name(void)
{
	unsigned int r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	return xasprintf("c%08x", r);
}

int mount_image(const char *image, const char *target_arg,
		const char *name_arg, bool readonly, const char *module)
{
	struct mount_request req = { .fstype = "strata", .readonly = readonly };
	struct branch_list bl = {};
	char id[DIGEST_STR_LEN], target[PATH_MAX];
	char *name = NULL, *work = NULL;
	json_t *img = NULL, *c = NULL;
	bool created = false;
	struct store st;
	int ret = EXIT_FAILED;

	if (name_arg && !valid_name(name_arg))
		return usage_error("mount", "bad container name '%s'", name_arg);
	if (!realpath(target_arg, target)) {
		err_msg(target_arg, "%s", strerror(errno));
		return EXIT_FAILED;
	}
	/* Exclusive: gc must not take layers away while we mount them. */
	if (store_open(&st, true))
		return EXIT_FAILED;
	if (image_resolve(&st, image, id))
		goto out;
	img = image_load(&st, id);
	if (!img)
		goto out;
	name = name_arg ? xstrdup(name_arg) : random_name();
	c = container_load(&st, name);
	if (c) {
		container_refresh(c);
		if (!json_is_null(json_object_get(c, "target"))) {
			err_msg(name, "container is mounted on %s",
				json_string_value(json_object_get(c, "target")));
			goto out;
		}
		if (strcmp(json_string_value(json_object_get(c, "image")), id)) {
			err_msg(name, "container belongs to image %s",
				json_string_value(json_object_get(c, "image")));
			goto out;
		}
	} else {
		c = container_create(&st, name, id);
		if (!c)
			goto out;
		created = true;
	}
	if (container_branches(&st, img, c, &bl))
		goto out;
	work = store_path(&st, "containers/%s/work", name);
	req.target = target;
	req.branches = &bl;
	req.workdir = work;
	if (fs_make_available(req.fstype, module))
		goto out;
	if (union_mount(&req))
		goto out;
	json_object_set_new(c, "target", json_string(target));
	if (container_save(&st, c)) {
		union_umount(target);
		goto out;
	}
	printf("%s\n", name);
	ret = EXIT_OK;
out:
	/* A container made for a mount that failed has no reason to stay. */
	if (ret && created) {
		char *p = store_path(&st, "containers/%s", name);

		store_remove(&st, p);
		free(p);
	}
	branch_list_free(&bl);
	json_decref(img);
	json_decref(c);
	free(work);
	free(name);
	store_close(&st);
	return ret;
}

int umount_container(const char *target, int remove)
{
	char canon[PATH_MAX], *p;
	struct store st;
	json_t *c;
	int ret = -1;

	if (!realpath(target, canon))
		return 1;
	if (store_open(&st, true))
		return -1;
	c = container_by_target(&st, canon);
	if (!c) {
		store_close(&st);
		return 1;
	}
	if (mounted_strata(canon) && union_umount(canon))
		goto out;
	json_object_set_new(c, "target", json_null());
	if (container_save(&st, c))
		goto out;
	container_drop_old_tops(&st, c);
	if (remove) {
		p = store_path(&st, "containers/%s",
			       json_string_value(json_object_get(c, "name")));
		ret = store_remove(&st, p);
		free(p);
	} else {
		ret = 0;
	}
out:
	json_decref(c);
	store_close(&st);
	return ret;
}

/* Is the union on @target mounted read-only? */
static bool union_readonly(const char *target)
{
	struct statvfs sv;

	return !statvfs(target, &sv) && (sv.f_flag & ST_RDONLY);
}

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char canon[PATH_MAX], layer[DIGEST_STR_LEN], id[DIGEST_STR_LEN];
	const char *tag = NULL, *target;
	json_t *c = NULL, *img = NULL, *config = NULL, *layers, *hist;
	struct live_commit lc = { .mfd = -1 };
	struct container_view cv = { .lockfd = -1 };
	bool live = false;
	struct store st;
	char *rw = NULL, **lowers = NULL;
	int ch, ret = EXIT_FAILED;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
		if (ch == 't') {
			tag = optarg;
		} else if (ch == 'h') {
			help_commit(stdout);
			return EXIT_OK;
		} else {
			return option_error("commit", ch, argv);
		}
	}
	if (optind + 1 != argc)
		return usage_error("commit", "expected one CONTAINER or TARGET");
	if (store_open(&st, true))
		return EXIT_FAILED;
	c = valid_name(argv[optind]) ? container_load(&st, argv[optind]) : NULL;
	if (!c && realpath(argv[optind], canon))
		c = container_by_target(&st, canon);
	if (!c) {
		err_msg(argv[optind], "no such container or container mount");
		goto out;
	}
	container_refresh(c);
	target = json_string_value(json_object_get(c, "target"));
	img = image_load(&st, json_string_value(json_object_get(c, "image")));
	if (!img)
		goto out;
	rw = container_top(&st, c);
	if (target && !union_readonly(target)) {
		/*
		 * Live: the top becomes an rr layer while it is exported,
		 * then a fresh rw top goes over it (live_commit.c).  An rr
		 * branch cannot become rw again, so a failed export would
		 * leave the union read-only: check for room first.
		 */
		if (live_room(&st, rw) || live_freeze(&lc, target))
			goto out;
		live = true;
	}
	/* Unmounted or mounted read-only, nobody writes the top. */
	lowers = image_layer_dirs(&st, img);
	container_view_init(&cv, &st, c, img);
	ret = layer_from_dir(&st, rw, &cv.v, lowers, layer) ? EXIT_FAILED :
							       EXIT_OK;
	container_view_close(&cv);
	if (ret) {
		if (live)
			err_msg(target, "the union stays read-only; umount and mount it again to write");
		goto out;
	}
	ret = EXIT_FAILED;
	config = json_deep_copy(json_object_get(img, "config"));
	if (!json_is_object(config))
		config = json_object();
	layers = json_copy(json_object_get(img, "layers"));
	json_array_append_new(layers, json_string(layer));
	json_object_set_new(config, "rootfs", json_pack("{s:s, s:O}", "type",
		"layers", "diff_ids", layers));
	hist = json_object_get(config, "history");
	if (json_is_array(hist))
		json_array_append_new(hist, json_pack("{s:s}", "created_by",
						      "strata commit"));
	if (!image_save(&st, config, layers, tag, id) &&
	    (!live || !live_new_top(&lc, &st, c, id))) {
		puts(id);
		ret = EXIT_OK;
	}
	json_decref(layers);
out:
	json_decref(config);
	json_decref(img);
	json_decref(c);
	free(rw);
	strv_free(lowers);
	live_close(&lc);
	store_close(&st);
	return ret;
}

static int container_ls(int argc, char **argv)
{
	struct verb_opts o = { .allow_json = true };
	struct store st;
	json_t *all, *c;
	size_t i;
	int ret;

	if (verb_options(argc, argv, "container ls", &o, help_container, &ret) < 0)
		return ret;
	if (store_open(&st, false))
		return EXIT_FAILED;
	all = container_list(&st);
	json_array_foreach(all, i, c)
		container_refresh(c);
	if (o.json) {
		print_json(all);
	} else {
		printf("%-20s %-19s %s\n", "NAME", "IMAGE", "MOUNTED ON");
		json_array_foreach(all, i, c)
			printf("%-20s %-19.19s %s\n",
			       json_string_value(json_object_get(c, "name")),
			       json_string_value(json_object_get(c, "image")),
			       json_string_value(json_object_get(c, "target")) ?: "-");
	}
	json_decref(all);
	store_close(&st);
	return EXIT_OK;
}

static int container_rm(int argc, char **argv)
{
	struct verb_opts o = { .operands = 1 };
	struct store st;
	json_t *c;
	char *p;
	int ret;

	if (verb_options(argc, argv, "container rm", &o, help_container, &ret) < 0)
		return ret;
	if (!valid_name(argv[optind]))
		return usage_error("container rm", "bad container name '%s'",
				   argv[optind]);
	argv += optind - 1;
	if (store_open(&st, true))
		return EXIT_FAILED;
	ret = EXIT_FAILED;
	c = container_load(&st, argv[1]);
	if (!c) {
		err_msg(argv[1], "no such container");
	} else if (container_refresh(c), json_string_value(json_object_get(c, "target"))) {
		err_msg(argv[1], "container is mounted on %s",
			json_string_value(json_object_get(c, "target")));
	} else {
		p = store_path(&st, "containers/%s", argv[1]);
		if (!store_remove(&st, p))
			ret = EXIT_OK;
		free(p);
	}
	json_decref(c);
	store_close(&st);
	return ret;
}

int cmd_container(int argc, char **argv)
{
	static const struct subcommand subs[] = {
		{ "ls", container_ls },
		{ "rm", container_rm },
		{}
	};

	return run_subcommand("container", subs, argc, argv, help_container);
}
