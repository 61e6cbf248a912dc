// SPDX-License-Identifier: GPL-2.0
/*
 * Renaming directories that have lower contents: no EXDEV, the contents
 * follow the directory, nothing of them shows at the old name, and all of
 * it survives a remount, in both whiteout formats and on every branch
 * filesystem.  The lower branches are never changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(ren) {
	char dir[4096];
	char u[4200], l1[4200], l2[4200], m[4200];
	char *lower_before;
};

FIXTURE_VARIANT(ren) {
	const char *fs;
	const char *wh;
};

#define REN_VARIANTS(fsname)						\
	FIXTURE_VARIANT_ADD(ren, fsname##_aufs) { .fs = #fsname, .wh = "aufs" }; \
	FIXTURE_VARIANT_ADD(ren, fsname##_overlay) { .fs = #fsname, .wh = "overlay" }

REN_VARIANTS(tmpfs);
REN_VARIANTS(ext4);
REN_VARIANTS(xfs);
REN_VARIANTS(btrfs);

/* A listing of both lower branches, to prove they never change. */
static char *lower_tree(const char *l1, const char *l2)
{
	char *a = st_ls(st_fmt("%s/p", l1)), *b = st_ls(st_fmt("%s/p/a", l2));
	char *c = st_ls(st_fmt("%s/p/a/sub", l2)), *d = st_ls(l2);
	char *all = strdup(st_fmt("%s|%s|%s|%s", a, b, c, d));

	free(a);
	free(b);
	free(c);
	free(d);
	return all;
}

static int mount_union(FIXTURE_DATA(ren) *self, const char *wh)
{
	return mount("none", self->m, "strata", 0,
		     st_fmt("br=%s=rw:%s=ro:%s=ro,whiteout=%s", self->u,
			    self->l1, self->l2, wh));
}

FIXTURE_SETUP(ren)
{
	static const char *const spec[] = {
		"1:f:p/a/f1=one",
		"2:f:p/a/f2=two",
		"2:f:p/a/sub/s=deep",
		"2:d:p/t",
		"2:f:p/t/tf=target",
		"2:f:p/c/cf=cee",
		"1:f:other/o=o",
		NULL,
	};

	ST_PREPARE(variant->fs, "ren", self->dir);
	snprintf(self->u, sizeof(self->u), "%s/l0", self->dir);
	snprintf(self->l1, sizeof(self->l1), "%s/l1", self->dir);
	snprintf(self->l2, sizeof(self->l2), "%s/l2", self->dir);
	snprintf(self->m, sizeof(self->m), "%s/m", self->dir);
	ST_OK(st_mkdirs(self->u));
	ST_OK(st_mkdirs(self->m));
	ASSERT_EQ(0, st_build(self->dir, spec));
	self->lower_before = lower_tree(self->l1, self->l2);
	ST_OK(mount_union(self, variant->wh));
}

FIXTURE_TEARDOWN_PARENT(ren)
{
	st_cleanup(self->dir);
}

static void remount(struct __test_metadata *_metadata,
		    FIXTURE_DATA(ren) *self, const char *wh)
{
	ST_OK(umount(self->m));
	ST_OK(mount_union(self, wh));
}

TEST_F(ren, merged_directory)
{
	const char *m = self->m;

	ST_OK(rename(st_fmt("%s/p/a", m), st_fmt("%s/p/b", m)));
	EXPECT_STREQ("f1:f,f2:f,sub:d", st_ls(st_fmt("%s/p/b", m)));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/p/a", m)));
	EXPECT_STREQ("deep", st_cat(st_fmt("%s/p/b/sub/s", m)));
	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("f1:f,f2:f,sub:d", st_ls(st_fmt("%s/p/b", m)));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/p/a", m)));
	EXPECT_STREQ("one", st_cat(st_fmt("%s/p/b/f1", m)));
	EXPECT_STREQ("two", st_cat(st_fmt("%s/p/b/f2", m)));
	EXPECT_STREQ(self->lower_before, lower_tree(self->l1, self->l2));
}

/* Rename a directory, then its parent, then move a child out. */
TEST_F(ren, nested_moves)
{
	const char *m = self->m;

	ST_OK(rename(st_fmt("%s/p/a", m), st_fmt("%s/p/b", m)));
	ST_OK(rename(st_fmt("%s/p", m), st_fmt("%s/q", m)));
	ST_OK(rename(st_fmt("%s/q/b/sub", m), st_fmt("%s/moved", m)));
	ST_OK(rename(st_fmt("%s/q/b", m), st_fmt("%s/x", m)));
	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("f1:f,f2:f", st_ls(st_fmt("%s/x", m)));
	EXPECT_STREQ("s:f", st_ls(st_fmt("%s/moved", m)));
	EXPECT_STREQ("deep", st_cat(st_fmt("%s/moved/s", m)));
	EXPECT_STREQ("c:d,t:d", st_ls(st_fmt("%s/q", m)));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/p", m)));
	EXPECT_STREQ("moved:d,other:d,q:d,x:d", st_ls(m));
	EXPECT_STREQ(self->lower_before, lower_tree(self->l1, self->l2));
}

/*
 * What dpkg does to a directory it upgrades, under a lower-only tree:
 * the new one is built aside, the old renamed away, the new renamed in,
 * the old removed; then the same with one RENAME_EXCHANGE.
 */
TEST_F(ren, dpkg_style_swaps)
{
	const char *m = self->m;

	ST_OK(mkdir(st_fmt("%s/p/c.dpkg-new", m), 0755));
	ST_OK(st_put(st_fmt("%s/p/c.dpkg-new/nf", m), "new"));
	ST_OK(rename(st_fmt("%s/p/c", m), st_fmt("%s/p/c.dpkg-old", m)));
	ST_OK(rename(st_fmt("%s/p/c.dpkg-new", m), st_fmt("%s/p/c", m)));
	EXPECT_STREQ("cf:f", st_ls(st_fmt("%s/p/c.dpkg-old", m)));
	ST_OK(unlink(st_fmt("%s/p/c.dpkg-old/cf", m)));
	ST_OK(rmdir(st_fmt("%s/p/c.dpkg-old", m)));
	EXPECT_STREQ("nf:f", st_ls(st_fmt("%s/p/c", m)));

	/* The second upgrade swaps in one step. */
	ST_OK(mkdir(st_fmt("%s/p/t.dpkg-new", m), 0755));
	ST_OK(st_put(st_fmt("%s/p/t.dpkg-new/tf2", m), "t2"));
	ST_OK(renameat2(AT_FDCWD, st_fmt("%s/p/t.dpkg-new", m), AT_FDCWD,
			st_fmt("%s/p/t", m), RENAME_EXCHANGE));
	EXPECT_STREQ("tf:f", st_ls(st_fmt("%s/p/t.dpkg-new", m)));
	ST_OK(unlink(st_fmt("%s/p/t.dpkg-new/tf", m)));
	ST_OK(rmdir(st_fmt("%s/p/t.dpkg-new", m)));

	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("nf:f", st_ls(st_fmt("%s/p/c", m)));
	EXPECT_STREQ("new", st_cat(st_fmt("%s/p/c/nf", m)));
	EXPECT_STREQ("tf2:f", st_ls(st_fmt("%s/p/t", m)));
	EXPECT_STREQ("a:d,c:d,t:d", st_ls(st_fmt("%s/p", m)));
	EXPECT_STREQ(self->lower_before, lower_tree(self->l1, self->l2));
}

/* A merged target must be empty; then its lower contents stay hidden. */
TEST_F(ren, over_lower_directory)
{
	const char *m = self->m;

	EXPECT_EQ(-1, rename(st_fmt("%s/p/a", m), st_fmt("%s/p/t", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	ST_OK(unlink(st_fmt("%s/p/t/tf", m)));
	ST_OK(rename(st_fmt("%s/p/a", m), st_fmt("%s/p/t", m)));
	EXPECT_STREQ("f1:f,f2:f,sub:d", st_ls(st_fmt("%s/p/t", m)));
	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("f1:f,f2:f,sub:d", st_ls(st_fmt("%s/p/t", m)));
	EXPECT_STREQ("c:d,t:d", st_ls(st_fmt("%s/p", m)));
}

TEST_F(ren, exchange_and_noreplace)
{
	const char *m = self->m;

	ST_OK(renameat2(AT_FDCWD, st_fmt("%s/p/a", m), AT_FDCWD,
			st_fmt("%s/p/c", m), RENAME_EXCHANGE));
	EXPECT_STREQ("cf:f", st_ls(st_fmt("%s/p/a", m)));
	EXPECT_STREQ("f1:f,f2:f,sub:d", st_ls(st_fmt("%s/p/c", m)));
	EXPECT_EQ(-1, renameat2(AT_FDCWD, st_fmt("%s/p/c", m), AT_FDCWD,
				st_fmt("%s/p/a", m), RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, errno);
	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("cf:f", st_ls(st_fmt("%s/p/a", m)));
	EXPECT_STREQ("f1:f,f2:f,sub:d", st_ls(st_fmt("%s/p/c", m)));
}

/* A renamed directory is changed and removed like any other. */
TEST_F(ren, change_then_remove)
{
	const char *m = self->m;

	ST_OK(rename(st_fmt("%s/p/a", m), st_fmt("%s/b", m)));
	ST_OK(st_put(st_fmt("%s/b/new", m), "fresh"));
	ST_OK(unlink(st_fmt("%s/b/f1", m)));
	EXPECT_STREQ("f2:f,new:f,sub:d", st_ls(st_fmt("%s/b", m)));
	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("f2:f,new:f,sub:d", st_ls(st_fmt("%s/b", m)));
	EXPECT_EQ(-1, rmdir(st_fmt("%s/b", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	ST_OK(unlink(st_fmt("%s/b/f2", m)));
	ST_OK(unlink(st_fmt("%s/b/new", m)));
	ST_OK(unlink(st_fmt("%s/b/sub/s", m)));
	ST_OK(rmdir(st_fmt("%s/b/sub", m)));
	ST_OK(rmdir(st_fmt("%s/b", m)));
	remount(_metadata, self, variant->wh);
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/b", m)));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/p/a", m)));
	EXPECT_STREQ(self->lower_before, lower_tree(self->l1, self->l2));
}

TEST_HARNESS_MAIN
