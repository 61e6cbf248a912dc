// SPDX-License-Identifier: GPL-2.0
/*
 * Inode numbers in a writable union stay the same when a file or a
 * directory is copied up, when it is renamed afterwards, and across a
 * remount; readdir's d_ino agrees with st_ino throughout.
 */
#include <dirent.h>
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

FIXTURE(ino) {
	char dir[4096];
	char u[4200], l1[4200], m[4200];
};

FIXTURE_VARIANT(ino) {
	const char *fs;
};

ST_FS_VARIANTS(ino);

static int mount_union(FIXTURE_DATA(ino) *self)
{
	return mount("none", self->m, "strata", 0,
		     st_fmt("br=%s=rw:%s=ro", self->u, self->l1));
}

FIXTURE_SETUP(ino)
{
	static const char *const spec[] = {
		"1:f:f=data",
		"1:f:d/g=more",
		"1:f:d/h=still lower",
		NULL,
	};

	ST_PREPARE(variant->fs, "ino", self->dir);
	snprintf(self->u, sizeof(self->u), "%s/l0", self->dir);
	snprintf(self->l1, sizeof(self->l1), "%s/l1", self->dir);
	snprintf(self->m, sizeof(self->m), "%s/m", self->dir);
	ST_OK(st_mkdirs(self->u));
	ST_OK(st_mkdirs(self->m));
	ASSERT_EQ(0, st_build(self->dir, spec));
	ST_OK(mount_union(self));
}

FIXTURE_TEARDOWN_PARENT(ino)
{
	st_cleanup(self->dir);
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? 0 : st.st_ino;
}

/* d_ino of @name in @dir, or 0. */
static ino_t d_ino_of(const char *dir, const char *name)
{
	struct dirent *de;
	ino_t ino = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strcmp(de->d_name, name))
			ino = de->d_ino;
	closedir(d);
	return ino;
}

TEST_F(ino, copy_up_rename_remount)
{
	const char *m = self->m;
	ino_t f = ino_of(st_fmt("%s/f", m)), d = ino_of(st_fmt("%s/d", m));
	ino_t g = ino_of(st_fmt("%s/d/g", m));
	int fd;

	ASSERT_NE(0, f);
	ASSERT_NE(0, d);
	/* Copy up f (data), d (as g's parent) and g (metadata). */
	fd = open(st_fmt("%s/f", m), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "new", 3));
	close(fd);
	ST_OK(chmod(st_fmt("%s/d/g", m), 0600));
	EXPECT_EQ(f, ino_of(st_fmt("%s/f", m)));
	EXPECT_EQ(d, ino_of(st_fmt("%s/d", m)));
	EXPECT_EQ(g, ino_of(st_fmt("%s/d/g", m)));
	/* The copies really are in the rw branch, with other numbers. */
	EXPECT_STREQ("f", st_ltype(st_fmt("%s/f", self->u)));
	EXPECT_STREQ("f", st_ltype(st_fmt("%s/d/g", self->u)));

	ST_OK(rename(st_fmt("%s/d/g", m), st_fmt("%s/g2", m)));
	EXPECT_EQ(g, ino_of(st_fmt("%s/g2", m)));

	ST_OK(umount(m));
	ST_OK(mount_union(self));
	EXPECT_EQ(f, ino_of(st_fmt("%s/f", m)));
	EXPECT_EQ(d, ino_of(st_fmt("%s/d", m)));
	EXPECT_EQ(g, ino_of(st_fmt("%s/g2", m)));
	EXPECT_EQ(f, d_ino_of(m, "f"));
	EXPECT_EQ(d, d_ino_of(m, "d"));
	EXPECT_EQ(g, d_ino_of(m, "g2"));
	EXPECT_EQ(ino_of(st_fmt("%s/d/h", m)), d_ino_of(st_fmt("%s/d", m), "h"));
	EXPECT_STREQ("datanew", st_cat(st_fmt("%s/f", m)));
}

/* Numbers stay unique: a new file never takes a copied file's number. */
TEST_F(ino, unique_after_copy_up)
{
	const char *m = self->m;
	ino_t f = ino_of(st_fmt("%s/f", m));

	ST_OK(chmod(st_fmt("%s/f", m), 0640));
	ST_OK(st_put(st_fmt("%s/new", m), "x"));
	EXPECT_NE(f, ino_of(st_fmt("%s/new", m)));
	EXPECT_NE(ino_of(st_fmt("%s/d", m)), ino_of(st_fmt("%s/new", m)));
	ST_OK(umount(m));
	ST_OK(mount_union(self));
	EXPECT_NE(ino_of(st_fmt("%s/f", m)), ino_of(st_fmt("%s/new", m)));
	EXPECT_EQ(f, ino_of(st_fmt("%s/f", m)));
}

TEST_HARNESS_MAIN
