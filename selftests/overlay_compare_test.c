// SPDX-License-Identifier: GPL-2.0
/*
 * strata's lowerdir= is meant to be a drop-in for overlayfs' (design.md
 * §2).  Mount both over the very same layers, written in the only format
 * overlayfs reads (0/0 character device whiteouts, trusted.overlay.opaque),
 * and compare the two trees: names, types, modes, owners, sizes, link
 * counts, times, contents and link targets.  Inode numbers and directory
 * sizes and link counts are implementation details and are not compared.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define NLAYERS 5

FIXTURE(cmp) {
	char dir[ST_PATH];
	char omnt[ST_PATH], smnt[ST_PATH];
	char **l;
};

FIXTURE_VARIANT(cmp) {
	const char *fs;
};

ST_FS_VARIANTS(cmp);

/* Hand-written cases: each line is one thing overlayfs defines. */
static const char *const fixed[] = {
	"0:f:top=top", "0:f:d/a=0", "0:f:d/sub/x=0", "1:f:d/b=1", "1:f:d/c=1",
	"2:f:d/c=2", "1:f:d/sub/y=1", "2:f:d/sub/z=2", "2:W:d/sub/x",
	"0:W:g", "1:f:g=g1",				/* whiteout */
	"0:W:d/b",					/* whiteout in a merged dir */
	"3:W:gone", "4:f:gone=4",			/* whiteout lower down */
	"0:O:o", "0:f:o/own=0", "1:f:o/hidden=1", "3:f:o/low=3",	/* opaque */
	"2:O:deep/a", "1:f:deep/a/b/c/one=1", "2:f:deep/a/b/c2=2", "3:f:deep/a/x=3",
	"0:f:fd=file", "1:f:fd/z=1",			/* file over dir */
	"0:f:df/x=0", "1:f:df=file", "2:f:df/y=2",	/* dir over file over dir */
	"0:l:sl=d/a", "1:l:lnk=nowhere", "2:l:abs=/etc/hostname",
	"0:f:h1=hard", "0:h:h2=h1", "4:f:k1=k", "4:h:d/k2=k1",	/* hard links */
	"0:p:p", "1:s:sock", "2:c:cdev=1,3", "3:b:bdev=7,0",
	"0:f:m=mode", "0:m:m=750", "1:f:su=suid", "1:m:su=4755", "2:f:e=",
	"2:d:dmode", "2:m:dmode=711", "3:f:dmode/f=3",
	"4:f:d/deepest=4", "4:f:bottomonly/f=4",
	NULL
};

/* Deterministic pseudo-random kind for (layer, name). */
static unsigned int pick(unsigned int layer, unsigned int name, unsigned int depth)
{
	unsigned int x = layer * 7919u + name * 104729u + depth * 1299709u + 12345u;

	x ^= x >> 13;
	x *= 0x5bd1e995u;
	x ^= x >> 15;
	return x;
}

/*
 * Generated cases: in every layer each of 24 names is nothing, a file, a
 * directory (with a child; at the top level also with generated entries one
 * level down), a whiteout, a symlink or an opaque directory, so merges,
 * shadowing and whiteouts meet in many combinations.
 */
enum { NONE, FILE_, DIR_, WHITEOUT, SYMLINK, OPAQUE, KINDS };

static unsigned int kind(unsigned int layer, unsigned int parent, unsigned int name)
{
	return pick(layer, parent * 31 + name, parent) % KINDS;
}

/* How many layers the visible top-level directory r<parent> merges. */
static int merged_layers(unsigned int parent)
{
	int i, n = 0;

	for (i = 0; i < NLAYERS; i++) {
		unsigned int k = kind(i, 0, parent);

		if (k == DIR_ || k == OPAQUE)
			n++;
		if (k == OPAQUE || (k != NONE && k != DIR_))
			break;
	}
	return n;
}

static int generate(const char *dir, unsigned int depth, unsigned int parent)
{
	unsigned int i, n;

	for (i = 0; i < NLAYERS; i++) {
		char rel[8] = "";
		unsigned int pk = kind(i, 0, parent);

		if (depth)
			snprintf(rel, sizeof(rel), "r%02u/", parent % 100);

		/* one level down only where this layer has a directory */
		if (depth && pk != DIR_ && pk != OPAQUE)
			continue;
		for (n = 0; n < 24; n++) {
			char *p = strdup(st_fmt("%s/l%u/%sr%02u", dir, i, rel, n));
			unsigned int k = kind(i, depth ? parent + 1 : 0, n);
			int r = 0;

			/*
			 * overlayfs reads a directory that comes from one layer
			 * straight from that layer, whiteouts included (lookup
			 * hides them).  strata never lists whiteouts; keep this
			 * overlayfs quirk out of the comparison.
			 */
			if (depth && k == WHITEOUT && merged_layers(parent) < 2)
				k = NONE;

			switch (k) {
			case FILE_:
				r = st_put(p, st_fmt("L%u %s%u", i, rel, n));
				break;
			case DIR_:
			case OPAQUE:
				r = st_put(st_fmt("%s/c%u", p, i), "child");
				if (!r && k == OPAQUE)
					r = st_opq_xattr(p, "trusted");
				break;
			case WHITEOUT:
				r = st_wh_ovl(p);
				break;
			case SYMLINK:
				r = st_symlink(st_fmt("r%02u", (n + 1) % 24), p);
				break;
			}
			if (r) {
				fprintf(stderr, "# generate %s: %m\n", p);
				return -1;
			}
			free(p);
		}
	}
	if (depth)
		return 0;
	for (n = 0; n < 24; n++)
		if (generate(dir, 1, n))
			return -1;
	return 0;
}

FIXTURE_SETUP(cmp)
{
	ST_PREPARE(variant->fs, "ovlcmp", self->dir);
	if (!st_have_fstype("overlay")) {
		st_cleanup(self->dir);	/* no teardown after a skip in setup */
		SKIP(return, "overlay is not in /proc/filesystems");
	}
	self->l = st_make_layers(self->dir, NLAYERS);
	ASSERT_NE(NULL, self->l);
	strcpy(self->omnt, st_fmt("%s/ovl", self->dir));
	strcpy(self->smnt, st_fmt("%s/strata", self->dir));
	ST_OK(st_mkdirs(self->omnt));
	ST_OK(st_mkdirs(self->smnt));
}

ST_TEARDOWN(cmp)

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory without . and .. (NULL-terminated). */
static char **names(const char *path, int *n)
{
	char **v = NULL;
	struct dirent *e;
	DIR *d = opendir(path);
	int cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (*n + 1 >= cap) {
			cap = cap ? 2 * cap : 32;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (!v)
		v = calloc(1, sizeof(*v));
	qsort(v, *n, sizeof(*v), cmp_names);
	v[*n] = NULL;
	return v;
}

struct walk {
	const char *ovl, *str;
	int entries, diffs;
};

#define DIFF(w, rel, fmt, ...) do {					\
	if ((w)->diffs++ < 20)						\
		fprintf(stderr, "# /%s: " fmt "\n", rel, ##__VA_ARGS__);	\
} while (0)

static void compare(struct walk *w, const char *rel);

static void compare_entry(struct walk *w, const char *rel)
{
	char *op = strdup(st_fmt("%s/%s", w->ovl, rel));
	char *sp = strdup(st_fmt("%s/%s", w->str, rel));
	struct stat os, ss;

	w->entries++;
	if (lstat(op, &os)) {
		DIFF(w, rel, "overlay lstat: %m");
		goto out;
	}
	if (lstat(sp, &ss)) {
		DIFF(w, rel, "strata lstat: %m");
		goto out;
	}
	if (os.st_mode != ss.st_mode || os.st_uid != ss.st_uid || os.st_gid != ss.st_gid)
		DIFF(w, rel, "mode/owner %o %u:%u vs %o %u:%u", os.st_mode, os.st_uid,
		     os.st_gid, ss.st_mode, ss.st_uid, ss.st_gid);
	if (S_ISDIR(os.st_mode) && S_ISDIR(ss.st_mode)) {
		compare(w, rel);
		goto out;
	}
	if (os.st_size != ss.st_size || os.st_nlink != ss.st_nlink ||
	    os.st_rdev != ss.st_rdev)
		DIFF(w, rel, "size/nlink/rdev %lld/%lu/%#lx vs %lld/%lu/%#lx",
		     (long long)os.st_size, (unsigned long)os.st_nlink,
		     (unsigned long)os.st_rdev, (long long)ss.st_size,
		     (unsigned long)ss.st_nlink, (unsigned long)ss.st_rdev);
	if (os.st_mtim.tv_sec != ss.st_mtim.tv_sec || os.st_mtim.tv_nsec != ss.st_mtim.tv_nsec)
		DIFF(w, rel, "mtime differs");
	if (S_ISREG(os.st_mode)) {
		char *a = st_slurp(op, NULL), *b = st_slurp(sp, NULL);

		if (!a || !b || strcmp(a, b))
			DIFF(w, rel, "content '%s' vs '%s'", a ?: "(unreadable)",
			     b ?: "(unreadable)");
		free(a);
		free(b);
	} else if (S_ISLNK(os.st_mode)) {
		char a[256] = "", b[256] = "";

		if (readlink(op, a, sizeof(a) - 1) < 0 || readlink(sp, b, sizeof(b) - 1) < 0 ||
		    strcmp(a, b))
			DIFF(w, rel, "link '%s' vs '%s'", a, b);
	}
out:
	free(op);
	free(sp);
}

static void compare(struct walk *w, const char *rel)
{
	char *od = strdup(rel[0] ? st_fmt("%s/%s", w->ovl, rel) : w->ovl);
	char *sd = strdup(rel[0] ? st_fmt("%s/%s", w->str, rel) : w->str);
	int on, sn, i, j;
	char **o = names(od, &on), **s = names(sd, &sn);

	if (!o || !s) {
		DIFF(w, rel, "opendir failed");
		return;
	}
	/* Walk both sorted lists; report names only one side has. */
	for (i = 0, j = 0; i < on || j < sn;) {
		int c = i == on ? 1 : j == sn ? -1 : strcmp(o[i], s[j]);

		if (c < 0) {
			DIFF(w, rel, "'%s' only in overlay", o[i++]);
		} else if (c > 0) {
			DIFF(w, rel, "'%s' only in strata", s[j++]);
		} else {
			char sub[512];

			snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", o[i]);
			compare_entry(w, sub);
			i++;
			j++;
		}
	}
	free(od);
	free(sd);
}

static void mount_both(struct __test_metadata *_metadata, FIXTURE_DATA(cmp) *self)
{
	char data[4096];
	int i, n = 0;

	n += snprintf(data + n, sizeof(data) - n, "lowerdir=");
	for (i = 0; i < NLAYERS; i++)
		n += snprintf(data + n, sizeof(data) - n, "%s%s", i ? ":" : "", self->l[i]);
	ASSERT_GT(sizeof(data), (size_t)n);
	ASSERT_EQ(0, mount("overlay", self->omnt, "overlay", 0, data))
		TH_LOG("overlay: %s", strerror(errno));
	ASSERT_EQ(0, mount("none", self->smnt, st_union_type(), 0, data))
		TH_LOG("%s: %s", st_union_type(), strerror(errno));
}

TEST_F(cmp, hand_written_layers)
{
	struct walk w = { self->omnt, self->smnt, 0, 0 };

	ASSERT_EQ(0, st_build(self->dir, fixed));
	ASSERT_EQ(0, chown(st_fmt("%s/k1", self->l[4]), 1000, 1000));
	mount_both(_metadata, self);
	compare(&w, "");
	EXPECT_LT(30, w.entries);
	EXPECT_EQ(0, w.diffs) TH_LOG("%d differences", w.diffs);
	/* The comparison itself must see what overlayfs defines. */
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/g", self->omnt)));
	EXPECT_STREQ("0", st_cat(st_fmt("%s/o/own", self->omnt)));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/o/hidden", self->omnt)));
}

TEST_F(cmp, generated_layers)
{
	struct walk w = { self->omnt, self->smnt, 0, 0 };

	ASSERT_EQ(0, generate(self->dir, 0, 0));
	mount_both(_metadata, self);
	compare(&w, "");
	EXPECT_LT(100, w.entries);
	EXPECT_EQ(0, w.diffs) TH_LOG("%d differences", w.diffs);
}

TEST_HARNESS_MAIN
