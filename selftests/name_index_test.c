// SPDX-License-Identifier: GPL-2.0
/*
 * rr branches are read through a per-directory name index; ro branches
 * are looked up layer by layer.  Both must give the same union: the same
 * stack of generated layers (files, directories, both whiteout formats,
 * opaque directories, entries beside their own whiteouts) is mounted once
 * with every branch rr and once with every branch ro, and the two trees
 * are compared name by name, type by type and content by content,
 * including lookups of names that readdir does not show.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define LAYERS	40
#define NAMES	24

FIXTURE(idx) {
	char dir[4096];
	char **layers;
	char rr[4200], ro[4200];
};

FIXTURE_VARIANT(idx) {
	const char *fs;
};

ST_FS_VARIANTS(idx);

static unsigned int seed = 12345;

static unsigned int rnd(unsigned int n)
{
	seed = seed * 1103515245 + 12345;
	return (seed >> 16) % n;
}

/* Layer contents: each layer touches a few names in ./ and in ./d/. */
static int build_layers(char **layers)
{
	int l, k;

	for (l = LAYERS - 1; l >= 0; l--) {
		const char *sub = rnd(2) ? "" : "d/";

		if (st_mkdirs(st_fmt("%s/d", layers[l])))
			return -1;
		for (k = 0; k < 6; k++) {
			const char *p = st_fmt("%s/%sn%u", layers[l], sub, rnd(NAMES));
			struct stat st;

			if (!lstat(p, &st))
				continue;
			switch (rnd(6)) {
			case 0:
			case 1:
				if (st_put(p, st_fmt("layer %d", l)))
					return -1;
				break;
			case 2:
				if (st_mkdirs(p) || st_put(st_fmt("%s/in%d", p, l), "x"))
					return -1;
				if (!rnd(3) && st_opq_aufs(p))
					return -1;
				break;
			case 3:
				if (st_wh_aufs(p))
					return -1;
				break;
			case 4:
				if (st_wh_ovl(p))
					return -1;
				break;
			case 5:
				/* an entry beside its own whiteout */
				if (st_put(p, st_fmt("both %d", l)) || st_wh_aufs(p))
					return -1;
				break;
			}
		}
	}
	return 0;
}

static int mount_mode(const char *target, char **layers, const char *mode)
{
	char *opts = malloc(LAYERS * 4300 + 16), *o = opts;
	int l, ret;

	o += sprintf(o, "br=");
	for (l = 0; l < LAYERS; l++)
		o += sprintf(o, "%s%s=%s", l ? ":" : "", layers[l], mode);
	ret = mount("none", target, "strata", 0, opts);
	free(opts);
	return ret;
}

FIXTURE_SETUP(idx)
{
	ST_PREPARE(variant->fs, "idx", self->dir);
	self->layers = st_make_layers(self->dir, LAYERS);
	ASSERT_NE(NULL, self->layers);
	ASSERT_EQ(0, build_layers(self->layers));
	snprintf(self->rr, sizeof(self->rr), "%s/rr", self->dir);
	snprintf(self->ro, sizeof(self->ro), "%s/ro", self->dir);
	ST_OK(st_mkdirs(self->rr));
	ST_OK(st_mkdirs(self->ro));
	ST_OK(mount_mode(self->rr, self->layers, "rr"));
	ST_OK(mount_mode(self->ro, self->layers, "ro"));
}

FIXTURE_TEARDOWN_PARENT(idx)
{
	st_cleanup(self->dir);
}

static void same_name(struct __test_metadata *_metadata,
		      FIXTURE_DATA(idx) *self, const char *rel)
{
	const char *a = strdup(st_ltype(st_fmt("%s/%s", self->rr, rel)));
	const char *b = strdup(st_ltype(st_fmt("%s/%s", self->ro, rel)));

	EXPECT_STREQ(b, a) TH_LOG("type of %s", rel);
	if (!strcmp(a, "f")) {
		char *ca = strdup(st_cat(st_fmt("%s/%s", self->rr, rel)));

		EXPECT_STREQ(st_cat(st_fmt("%s/%s", self->ro, rel)), ca)
			TH_LOG("content of %s", rel);
		free(ca);
	}
	free((void *)a);
	free((void *)b);
}

TEST_F(idx, same_union_as_layer_by_layer)
{
	const char *dirs[] = { "", "d/" };
	unsigned int i, k;

	for (i = 0; i < 2; i++) {
		char *la = st_ls(st_fmt("%s/%s", self->rr, dirs[i]));

		EXPECT_STREQ(st_ls(st_fmt("%s/%s", self->ro, dirs[i])), la)
			TH_LOG("listing of /%s", dirs[i]);
		free(la);
		for (k = 0; k < NAMES; k++) {
			const char *rel = st_fmt("%sn%u", dirs[i], k);
			char *inner;

			same_name(_metadata, self, rel);
			inner = strdup(rel);
			if (!strcmp(st_ltype(st_fmt("%s/%s", self->ro, inner)), "d")) {
				char *la2 = st_ls(st_fmt("%s/%s", self->rr, inner));

				EXPECT_STREQ(st_ls(st_fmt("%s/%s", self->ro, inner)), la2)
					TH_LOG("listing of /%s", inner);
				free(la2);
			}
			free(inner);
		}
		/* names nobody has, looked up twice (cached index) */
		same_name(_metadata, self, st_fmt("%smissing", dirs[i]));
		same_name(_metadata, self, st_fmt("%smissing", dirs[i]));
	}
}

/* A name only the bottom layer has is found through the index. */
TEST_F(idx, bottom_layer_name)
{
	ST_OK(umount(self->rr));
	ST_OK(st_put(st_fmt("%s/only-bottom", self->layers[LAYERS - 1]), "deep"));
	ST_OK(mount_mode(self->rr, self->layers, "rr"));
	EXPECT_STREQ("deep", st_cat(st_fmt("%s/only-bottom", self->rr)));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/not-there", self->rr)));
}

TEST_HARNESS_MAIN
