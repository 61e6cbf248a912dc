// SPDX-License-Identifier: GPL-2.0
/*
 * Inode numbers and devices (design.md §3): st_ino unique within the union
 * and stable across cache eviction and remounts, one st_dev for the whole
 * union, hard links inside a branch keep sharing st_ino and st_nlink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(ino) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
};

FIXTURE_VARIANT(ino) {
	const char *fs;
};

ST_FS_VARIANTS(ino);

FIXTURE_SETUP(ino)
{
	const char *const spec[] = {
		"0:f:f0=0", "0:f:d/a=0", "0:f:e/only=0", "0:l:s=f0", "0:f:dup=0",
		"0:w:gone",
		"1:f:f1=1", "1:f:d/b=1", "1:f:d/sub/x=1", "1:f:h1=h",
		"1:h:hl2=h1", "1:h:d/h3=h1", "1:f:dup=1", "1:f:gone=1",
		"2:f:f2=2", "2:f:d/c=2", "2:f:d/sub/y=2", "2:p:fifo", "2:d:deep/er/est",
		"3:f:f3=3", "3:f:d/d3=3", "3:f:deep/er/est/z=3",
		NULL
	};

	ST_PREPARE(variant->fs, "inode", self->dir);
	self->l = st_make_layers(self->dir, 4);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	ASSERT_EQ(0, st_build(self->dir, spec));
}

ST_TEARDOWN(ino)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)

#define MOUNT_AT(where, layers, n)					\
	ASSERT_EQ(0, st_mount_union(where, layers, n, "ro", NULL))	\
		TH_LOG("mount: %s", strerror(errno))

struct node {
	char path[256];
	struct stat st;
};

struct tree {
	struct node *v;
	int n, cap;
};

/* Every entry below @root (root included as ""), in readdir order. */
static int walk(const char *root, const char *rel, struct tree *t)
{
	const char *full = rel[0] ? st_fmt("%s/%s", root, rel) : root;
	struct dirent *e;
	struct node *nd;
	DIR *d;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
	}
	nd = &t->v[t->n++];
	snprintf(nd->path, sizeof(nd->path), "%s", rel);
	if (lstat(full, &nd->st))
		return -1;
	if (!S_ISDIR(nd->st.st_mode))
		return 0;
	d = opendir(full);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char sub[256];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
			     e->d_name) >= (int)sizeof(sub) || walk(root, sub, t)) {
			closedir(d);
			return -1;
		}
	}
	return closedir(d);
}

static struct node *find(struct tree *t, const char *path)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].path, path))
			return &t->v[i];
	return NULL;
}

/* Same set of paths with the same st_ino in both trees? */
static int same_inos(struct tree *a, struct tree *b, char *why, size_t wlen)
{
	int i;

	if (a->n != b->n) {
		snprintf(why, wlen, "%d entries, then %d", a->n, b->n);
		return -1;
	}
	for (i = 0; i < a->n; i++) {
		struct node *o = find(b, a->v[i].path);

		if (!o || o->st.st_ino != a->v[i].st.st_ino) {
			snprintf(why, wlen, "/%s: ino %llu, then %llu", a->v[i].path,
				 (unsigned long long)a->v[i].st.st_ino,
				 o ? (unsigned long long)o->st.st_ino : 0ULL);
			return -1;
		}
	}
	return 0;
}

TEST_F(ino, stable_across_remount)
{
	struct tree t1 = { 0 }, t2 = { 0 }, t3 = { 0 }, t4 = { 0 };
	char *mnt2 = strdup(st_fmt("%s/mnt2", self->dir));
	char why[512] = "";

	ASSERT_EQ(0, st_mkdirs(mnt2));
	MOUNT_AT(self->mnt, self->l, 4);
	ASSERT_EQ(0, walk(self->mnt, "", &t1));
	ASSERT_LT(20, t1.n);

	/* Evicted and looked up again. */
	ASSERT_EQ(0, st_drop_caches());
	ASSERT_EQ(0, walk(self->mnt, "", &t2));
	EXPECT_EQ(0, same_inos(&t1, &t2, why, sizeof(why))) TH_LOG("after drop_caches: %s", why);

	/* A second mount of the same branches, at the same time. */
	MOUNT_AT(mnt2, self->l, 4);
	ASSERT_EQ(0, walk(mnt2, "", &t3));
	EXPECT_EQ(0, same_inos(&t1, &t3, why, sizeof(why))) TH_LOG("second mount: %s", why);

	/* Unmounted, caches dropped, mounted again. */
	ASSERT_EQ(0, st_umount(mnt2));
	ASSERT_EQ(0, st_umount(self->mnt));
	ASSERT_EQ(0, st_drop_caches());
	MOUNT_AT(self->mnt, self->l, 4);
	ASSERT_EQ(0, walk(self->mnt, "", &t4));
	EXPECT_EQ(0, same_inos(&t1, &t4, why, sizeof(why))) TH_LOG("remount: %s", why);
}

static bool is_link(const char *path)
{
	return !strcmp(path, "h1") || !strcmp(path, "hl2") || !strcmp(path, "d/h3");
}

/*
 * Number of entry pairs whose st_ino sharing is wrong: the names of the
 * hard-linked branch inode (is_link) must share one, all others must not.
 */
static int bad_shares(struct tree *t, bool links, char *why, size_t wlen)
{
	int i, j, bad = 0;

	for (i = 0; i < t->n; i++) {
		for (j = i + 1; j < t->n; j++) {
			bool want = links && is_link(t->v[i].path) && is_link(t->v[j].path);
			bool same = t->v[i].st.st_ino == t->v[j].st.st_ino;

			if (want == same)
				continue;
			if (!bad++)
				snprintf(why, wlen, "/%s and /%s: ino %llu and %llu",
					 t->v[i].path, t->v[j].path,
					 (unsigned long long)t->v[i].st.st_ino,
					 (unsigned long long)t->v[j].st.st_ino);
		}
	}
	return bad;
}

TEST_F(ino, unique_within_union)
{
	struct tree t = { 0 };
	char why[1200] = "";

	MOUNT_AT(self->mnt, self->l, 4);
	ASSERT_EQ(0, walk(self->mnt, "", &t));
	EXPECT_EQ(0, bad_shares(&t, true, why, sizeof(why))) TH_LOG("first: %s", why);
}

/*
 * Branches on different filesystems have colliding inode numbers (two
 * fresh tmpfs instances number their inodes alike); the union must not.
 */
TEST_F(ino, unique_across_filesystems)
{
	char *layers[3], why[1200] = "";
	struct tree t = { 0 };
	struct stat s1, s2;
	int i, j, collide = 0;

	for (i = 0; i < 2; i++) {
		layers[i] = strdup(st_fmt("%s/t%d", self->dir, i));
		ASSERT_EQ(0, st_mkdirs(layers[i]));
		ASSERT_EQ(0, mount("tmpfs", layers[i], "tmpfs", 0, "mode=0755"));
		for (j = 0; j < 40; j++) {
			ASSERT_EQ(0, st_put(st_fmt("%s/t%d_%02d", layers[i], i, j), "x"));
		}
		ASSERT_EQ(0, st_put(st_fmt("%s/sub/t%d", layers[i], i), "x"));
	}
	layers[2] = self->l[0];
	for (j = 0; j < 40; j++) {
		ASSERT_EQ(0, stat(st_fmt("%s/t0_%02d", layers[0], j), &s1));
		ASSERT_EQ(0, stat(st_fmt("%s/t1_%02d", layers[1], j), &s2));
		collide += s1.st_ino == s2.st_ino;
	}
	if (!collide)
		TH_LOG("note: the two tmpfs instances did not reuse inode numbers");
	MOUNT_AT(self->mnt, layers, 3);
	ASSERT_EQ(0, walk(self->mnt, "", &t));
	ASSERT_LT(80, t.n);
	EXPECT_EQ(0, bad_shares(&t, false, why, sizeof(why))) TH_LOG("first: %s", why);
}

TEST_F(ino, one_st_dev)
{
	struct tree t = { 0 };
	struct stat root, br;
	int i;

	MOUNT_AT(self->mnt, self->l, 4);
	ASSERT_EQ(0, stat(self->mnt, &root));
	ASSERT_EQ(0, stat(self->l[0], &br));
	EXPECT_NE(br.st_dev, root.st_dev);
	ASSERT_EQ(0, walk(self->mnt, "", &t));
	for (i = 0; i < t.n; i++) {
		EXPECT_EQ(root.st_dev, t.v[i].st.st_dev) TH_LOG("/%s", t.v[i].path);
	}
}

TEST_F(ino, hard_links)
{
	struct stat a, b, c, real;

	MOUNT_AT(self->mnt, self->l, 4);
	ASSERT_EQ(0, stat(st_fmt("%s/h1", self->l[1]), &real));
	ASSERT_EQ(3, real.st_nlink);
	ASSERT_EQ(0, stat(U("h1"), &a));
	ASSERT_EQ(0, stat(U("hl2"), &b));
	ASSERT_EQ(0, stat(U("d/h3"), &c));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_ino, c.st_ino);
	EXPECT_EQ(3, a.st_nlink);
	EXPECT_EQ(3, b.st_nlink);
	EXPECT_EQ(3, c.st_nlink);
	/* A file that is not a link stays alone. */
	ASSERT_EQ(0, stat(U("f1"), &b));
	EXPECT_EQ(1, b.st_nlink);
	EXPECT_NE(a.st_ino, b.st_ino);
}

TEST_F(ino, directories_stable)
{
	const char *dirs[] = { "", "d", "d/sub", "e", "deep/er/est" };
	ino_t first[5];
	struct stat st;
	unsigned int i;

	MOUNT_AT(self->mnt, self->l, 4);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		ASSERT_EQ(0, stat(U(dirs[i]), &st)) TH_LOG("/%s", dirs[i]);
		first[i] = st.st_ino;
	}
	ASSERT_EQ(0, st_umount(self->mnt));
	ASSERT_EQ(0, st_drop_caches());
	MOUNT_AT(self->mnt, self->l, 4);
	/* Deepest first this time, so the lookup order differs. */
	for (i = ARRAY_SIZE(dirs); i-- > 0;) {
		ASSERT_EQ(0, stat(U(dirs[i]), &st)) TH_LOG("/%s", dirs[i]);
		EXPECT_EQ(first[i], st.st_ino) TH_LOG("/%s", dirs[i]);
	}
}

TEST_HARNESS_MAIN
