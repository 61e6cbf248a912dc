// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile on-disk content: branches prepared by someone else may hold
 * whiteout look-alikes, whiteouts where directories belong, junk in
 * strata's own xattrs (redirect loops, "..", absolute and huge values,
 * corrupt origin inode numbers), type clashes across branches, symlink
 * loops, fifos and sockets.  The union must mount, list, stat, read and
 * take writes on top of all that without a splat, answer with sane
 * errors, and never show anything that is not in its own branches.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define SECRET "outside-secret"	/* the name and content of the file outside */
#define MAXDEPTH 12

FIXTURE(hb) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
	long entries, errors, reads;
	bool aufs;
};

FIXTURE_VARIANT(hb) {
	const char *fs;
	const char *wh;
};

FIXTURE_VARIANT_ADD(hb, tmpfs_aufs) { .fs = "tmpfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(hb, tmpfs_overlay) { .fs = "tmpfs", .wh = "overlay" };
FIXTURE_VARIANT_ADD(hb, ext4_aufs) { .fs = "ext4", .wh = "aufs" };
FIXTURE_VARIANT_ADD(hb, ext4_overlay) { .fs = "ext4", .wh = "overlay" };

static int xset(const char *path, const char *name, const void *v, size_t n)
{
	return lsetxattr(path, name, v, n, 0);
}

/* A name of @n bytes made of @c, with @prefix in front. */
static const char *longname(const char *prefix, char c, size_t n)
{
	static char b[2][300];
	static int k;
	char *p = b[k++ & 1];
	size_t pl = strlen(prefix);

	memcpy(p, prefix, pl);
	memset(p + pl, c, n - pl);
	p[n] = 0;
	return p;
}

FIXTURE_SETUP(hb)
{
	static const char *const base[] = {
		/* whiteout look-alikes and meta names */
		"1:f:.wh..=a whiteout of nothing",
		"1:f:.wh...=whiteout of \"..\"",
		"1:f:.wh..wh..=meta junk",
		"1:d:.wh..wh.plnk",
		"2:f:plain=lower plain",
		"1:d:odq",
		"1:f:odq/.wh..wh..opq/inner=opaque marker is a directory",
		"2:f:odq/below=hidden or not",
		/* 0/0 whiteouts where directories are expected */
		"2:f:wd/f=under a whiteout",
		"1:W:wd",
		"1:f:dirslot=a file over a directory",
		"2:W:dirslot/x",
		"2:f:dirslot/y=y",
		/* type clashes */
		"0:f:df=file on top",
		"1:f:df/inner=dir below",
		"1:f:fd=file in the middle",
		"2:f:fd/deep=dir at the bottom",
		"1:d:dd",
		"2:f:dd=file under a dir",
		/* loops, fifos, sockets */
		"1:l:sl1=sl2",
		"1:l:sl2=sl1",
		"2:l:self=self",
		"2:l:up=../../../outside/" SECRET,
		"1:p:fifo",
		"2:s:sock",
		"2:c:null=1,3",
		/* directories for the xattr junk */
		"2:f:ra/fa=a below",
		"2:f:rb/fb=b below",
		"2:f:file=a file",
		"1:d:opq_junk",
		"2:f:opq_junk/seen=maybe",
		"1:d:opq_empty",
		"2:f:opq_empty/seen=maybe",
		NULL,
	};
	/* Redirect values, each on its own rw-branch directory r<i>. */
	static const char *const redir[] = {
		"/rb", "/ra", "/../outside", "/ra/../../outside", "../outside",
		"/" SECRET, "/file", "/", "//", "", "/fifo", "/.wh..wh.work",
		"/sl1", "/dd", "/ra/./fa", "/odq/.wh..wh..opq",
	};
	char big[4500];
	unsigned long long huge = ~0ULL;
	const char *wh = variant->wh;
	size_t i;

	ST_PREPARE(variant->fs, "hostile", self->dir);
	self->aufs = !strcmp(wh, "aufs");
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	snprintf(self->mnt, sizeof(self->mnt), "%.4000s/mnt", self->dir);
	ASSERT_EQ(0, st_mkdirs(self->mnt));
	ASSERT_EQ(0, st_put(st_fmt("%s/outside/%s", self->dir, SECRET), SECRET));
	ASSERT_EQ(0, st_build(self->dir, base));

	/* 255-byte names, and a .wh. whiteout of a 251-byte name. */
	ASSERT_EQ(0, st_put(st_fmt("%s/%s", self->l[2], longname("n", 'a', 255)), "255"));
	ASSERT_EQ(0, st_put(st_fmt("%s/%s", self->l[2], longname("w", 'b', 251)), "251"));
	ASSERT_EQ(0, st_put(st_fmt("%s/%s", self->l[1], longname(".wh.w", 'b', 255)), ""));
	ASSERT_EQ(0, st_put(st_fmt("%s/%s", self->l[1], longname(".wh.", '.', 255)), ""));

	/* Opaque markers with junk values. */
	memset(big, 'z', sizeof(big));
	ASSERT_EQ(0, xset(st_fmt("%s/opq_junk", self->l[1]), "trusted.overlay.opaque",
			  big, 2000));
	ASSERT_EQ(0, xset(st_fmt("%s/opq_empty", self->l[1]), "trusted.overlay.opaque",
			  "", 0));

	/* Redirects in the rw branch. */
	for (i = 0; i < ARRAY_SIZE(redir); i++) {
		const char *d = st_fmt("%s/r%zu", self->l[0], i);

		ASSERT_EQ(0, st_mkdirs(d));
		ASSERT_EQ(0, xset(d, "trusted.strata.redirect", redir[i], strlen(redir[i])));
		/* The user.* spelling too: it must be ignored without userxattr. */
		xset(d, "user.strata.redirect", redir[i], strlen(redir[i]));
	}
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/ra", self->l[0])));
	ASSERT_EQ(0, xset(st_fmt("%s/ra", self->l[0]), "trusted.strata.redirect", "/rb", 3));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/rb", self->l[0])));
	ASSERT_EQ(0, xset(st_fmt("%s/rb", self->l[0]), "trusted.strata.redirect", "/ra", 3));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/rlong", self->l[0])));
	big[0] = '/';
	for (i = 1; i + 2 < sizeof(big); i += 2)
		big[i] = 'q', big[i + 1] = '/';
	ASSERT_EQ(0, xset(st_fmt("%s/rlong", self->l[0]), "trusted.strata.redirect",
			  big, 4000));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/rnul", self->l[0])));
	ASSERT_EQ(0, xset(st_fmt("%s/rnul", self->l[0]), "trusted.strata.redirect",
			  "/ra\0/../outside", 16));

	/* Corrupt origin inode numbers and impure markers. */
	ASSERT_EQ(0, st_put(st_fmt("%s/ino3", self->l[0]), "3"));
	ASSERT_EQ(0, xset(st_fmt("%s/ino3", self->l[0]), "trusted.strata.ino", "abc", 3));
	ASSERT_EQ(0, st_put(st_fmt("%s/inohuge", self->l[0]), "huge"));
	ASSERT_EQ(0, xset(st_fmt("%s/inohuge", self->l[0]), "trusted.strata.ino",
			  &huge, sizeof(huge)));
	ASSERT_EQ(0, st_put(st_fmt("%s/ino0", self->l[0]), "0"));
	ASSERT_EQ(0, xset(st_fmt("%s/ino0", self->l[0]), "trusted.strata.ino",
			  "\0\0\0\0\0\0\0\0", 8));
	ASSERT_EQ(0, st_put(st_fmt("%s/inobig", self->l[0]), "big"));
	ASSERT_EQ(0, xset(st_fmt("%s/inobig", self->l[0]), "trusted.strata.ino", big, 3000));
	ASSERT_EQ(0, xset(self->l[0], "trusted.strata.impure", "junk", 4));
	ASSERT_EQ(0, xset(st_fmt("%s/r0", self->l[0]), "trusted.strata.impure", "y", 1));
	ASSERT_EQ(0, st_put(st_fmt("%s/r0/imp", self->l[0]), "i"));
	ASSERT_EQ(0, xset(st_fmt("%s/r0/imp", self->l[0]), "trusted.strata.ino", &huge, 8));

	/* An opaque marker at the root of a lower branch, both spellings. */
	ASSERT_EQ(0, xset(self->l[2], "trusted.overlay.opaque", "x", 1));
	ASSERT_EQ(0, st_put(st_fmt("%s/.wh..wh..opq", self->l[2]), "root opaque"));

	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2,
				 st_fmt("whiteout=%s", wh)))
		TH_LOG("mount: %s", strerror(errno));
}

ST_TEARDOWN(hb);

/* An errno that tells the user the branch content is bad, or plain POSIX. */
static bool sane(int e)
{
	switch (e) {
	case EIO: case EINVAL: case ENOENT: case ENOTDIR: case EISDIR:
	case ELOOP: case ENXIO: case EXDEV: case ENOTEMPTY: case EEXIST:
	case EPERM: case EACCES: case EOPNOTSUPP: case ENAMETOOLONG:
	case EAGAIN: case ENODATA: case ESTALE:
		return true;
	}
	return false;
}

#define SANE(what, path) EXPECT_TRUE(sane(errno)) TH_LOG("%s %s: %s", what, path, \
							 strerrorname_np(errno))

static void walk(struct __test_metadata *_metadata, FIXTURE_DATA(hb) *self,
		 const char *path, int depth)
{
	char seen[4096] = "/", buf[4096];
	struct dirent *de;
	DIR *d;

	if (depth > MAXDEPTH)
		return;
	d = opendir(path);
	if (!d) {
		self->errors++;
		SANE("opendir", path);
		return;
	}
	while ((de = readdir(d))) {
		const char *p, *name = de->d_name;
		struct stat st;
		ssize_t n;
		int fd;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		self->entries++;
		/* Nothing from outside the branches, no whiteout shown. */
		EXPECT_STRNE(SECRET, name) TH_LOG("in %s", path);
		if (self->aufs)
			EXPECT_NE(0, strncmp(name, ".wh.", 4))
				TH_LOG("whiteout name %s shown in %s", name, path);
		p = strdup(st_fmt("%s/%s", path, name));
		/* A name listed once per directory (short names only). */
		if (strlen(name) < 64) {
			const char *key = st_fmt("/%s/", name);

			EXPECT_EQ(NULL, strstr(seen, key)) TH_LOG("%s listed twice", p);
			if (strlen(seen) + strlen(key) < sizeof(seen))
				strcat(seen, key + 1);
		}
		if (lstat(p, &st)) {
			self->errors++;
			SANE("lstat", p);
			free((void *)p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk(_metadata, self, p, depth + 1);
		} else if (S_ISLNK(st.st_mode)) {
			n = readlink(p, buf, sizeof(buf));
			if (n < 0)
				SANE("readlink", p);
		} else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) {
			fd = open(p, O_RDONLY | O_NONBLOCK);
			if (fd < 0) {
				self->errors++;
				SANE("open", p);
			} else {
				n = read(fd, buf, sizeof(buf) - 1);
				if (n < 0) {
					SANE("read", p);
				} else {
					buf[n] = 0;
					self->reads++;
				}
				if (n > 0)
					EXPECT_EQ(NULL, strstr(buf, SECRET))
						TH_LOG("%s shows the outside file", p);
				close(fd);
			}
		}
		free((void *)p);
	}
	closedir(d);
}

/* Copy-up, create, rename and unlink everywhere the walk found names. */
static void scribble(struct __test_metadata *_metadata, const char *path, int depth)
{
	struct dirent *de;
	char **names = NULL;
	int n = 0, i;
	DIR *d = opendir(path);

	if (!d || depth > 3) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	closedir(d);
	if (mkdir(st_fmt("%s/newdir", path), 0755) && errno != EEXIST)
		SANE("mkdir in", path);
	if (st_put(st_fmt("%s/newfile", path), "new"))
		SANE("create in", path);
	for (i = 0; i < n; i++) {
		const char *p = strdup(st_fmt("%s/%s", path, names[i]));
		struct stat st;
		int fd;

		if (lstat(p, &st)) {
			SANE("lstat", p);
		} else if (S_ISDIR(st.st_mode)) {
			scribble(_metadata, p, depth + 1);
			if (i % 3 == 0 && rename(p, st_fmt("%s/%s.mv", path, names[i])))
				SANE("rename dir", p);
		} else if (S_ISREG(st.st_mode)) {
			fd = open(p, O_WRONLY | O_APPEND | O_NONBLOCK);
			if (fd < 0) {
				SANE("open for write", p);
			} else {
				if (write(fd, "+", 1) != 1)
					SANE("write", p);
				close(fd);
			}
			if (i % 2 && rename(p, st_fmt("%s/%s.mv", path, names[i])))
				SANE("rename", p);
		} else if (i % 2 && unlink(p)) {
			SANE("unlink", p);
		}
		free((void *)p);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

TEST_F(hb, walk_and_write)
{
	char *out;

	walk(_metadata, self, self->mnt, 0);
	TH_LOG("%s: %ld entries, %ld reads, %ld refused", variant->wh,
	       self->entries, self->reads, self->errors);
	/* The plain entries are there, the hidden ones are not. */
	EXPECT_STREQ("lower plain", st_cat(st_fmt("%s/plain", self->mnt)));
	EXPECT_STREQ("255", st_cat(st_fmt("%s/%s", self->mnt, longname("n", 'a', 255))));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/%s", self->mnt, longname("w", 'b', 251))));
	EXPECT_STREQ("<ENOENT>", st_ltype(st_fmt("%s/wd/f", self->mnt)));
	EXPECT_STREQ("f", st_ltype(st_fmt("%s/df", self->mnt)));

	scribble(_metadata, self->mnt, 0);
	self->entries = self->errors = self->reads = 0;
	walk(_metadata, self, self->mnt, 0);
	TH_LOG("after writes: %ld entries, %ld reads, %ld refused",
	       self->entries, self->reads, self->errors);

	/* Nothing was written outside the branches, nor below the rw one. */
	EXPECT_STREQ(SECRET ":f", st_ls(st_fmt("%s/outside", self->dir)));
	out = st_ls(self->dir);
	EXPECT_STREQ("l0:d,l1:d,l2:d,mnt:d,outside:d", out);
	free(out);
	EXPECT_STREQ("lower plain", st_cat(st_fmt("%s/plain", self->l[2])));
	EXPECT_STREQ("a file", st_cat(st_fmt("%s/file", self->l[2])));
	ASSERT_EQ(0, umount2(self->mnt, 0)) TH_LOG("umount: %s", strerror(errno));
}

TEST_HARNESS_MAIN
