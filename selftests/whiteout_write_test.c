// SPDX-License-Identifier: GPL-2.0
/*
 * What a writable union writes to its rw branch (design.md §2, §4;
 * Documentation/formats.rst): the exact entries for unlink, rmdir, mkdir
 * over a whiteout and rename, in whiteout=aufs (".wh.NAME" files,
 * ".wh..wh..opq") and whiteout=overlay (0/0 character devices,
 * trusted.overlay.opaque=y); layers written in one format read through a
 * mount of the other; and the work directory: empty after every operation,
 * emptied of stale entries at mount.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define WORK ".wh..wh.work"
#define LS(dir) (st_ls(dir) ?: st_fmt("<%s>", strerrorname_np(errno)))

/* ---- local helpers (writable-union tests) ---- */

/*
 * The entries of a rw-branch directory with what matters about each:
 * "NAME:f0" (file, size), "NAME:W" (0/0 chardev), "NAME:c" (another
 * chardev), "NAME:d" or "NAME:dO" (dir with trusted.overlay.opaque=y).
 */
static const char *entries(const char *dir, bool skip_work)
{
	struct dirent **names;
	char *out = calloc(1, ST_PATH);
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return st_fmt("<%s>", strerrorname_np(errno));
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name, *p = st_fmt("%s/%s", dir, nm);
		char v[8] = "";
		struct stat st;

		if (!strcmp(nm, ".") || !strcmp(nm, "..") ||
		    (skip_work && (!strcmp(nm, WORK) ||
				       !strcmp(nm, ".wh..wh.index"))) || lstat(p, &st))
			goto next;
		snprintf(out + strlen(out), ST_PATH - strlen(out), "%s%s:", *out ? "," : "", nm);
		if (S_ISREG(st.st_mode))
			snprintf(out + strlen(out), ST_PATH - strlen(out), "f%lld",
				 (long long)st.st_size);
		else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
			strcat(out, "W");
		else if (S_ISDIR(st.st_mode))
			strcat(out, getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 &&
				    v[0] == 'y' ? "dO" : "d");
		else
			snprintf(out + strlen(out), ST_PATH - strlen(out), "%c",
				 st_type_char(st.st_mode));
next:
		free(names[i]);
	}
	free(names);
	return out;
}

static bool view_line(FILE *out, const char *rel, const char *path,
		      const struct stat *st, void *arg)
{
	(void)arg;
	st_print_object(out, rel, path, st, path);
	fputc('\n', out);
	return true;
}

static char *view(const char *root)
{
	return st_walk(root, view_line, NULL);
}

/* ---- fixture ---- */

FIXTURE(wo) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
	const char *other;	/* the other format */
};

FIXTURE_VARIANT(wo) {
	const char *fs;
	const char *wh;
};

FIXTURE_VARIANT_ADD(wo, tmpfs_aufs) { .fs = "tmpfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(wo, tmpfs_overlay) { .fs = "tmpfs", .wh = "overlay" };
FIXTURE_VARIANT_ADD(wo, ext4_aufs) { .fs = "ext4", .wh = "aufs" };
FIXTURE_VARIANT_ADD(wo, ext4_overlay) { .fs = "ext4", .wh = "overlay" };
FIXTURE_VARIANT_ADD(wo, xfs_aufs) { .fs = "xfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(wo, xfs_overlay) { .fs = "xfs", .wh = "overlay" };
FIXTURE_VARIANT_ADD(wo, btrfs_aufs) { .fs = "btrfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(wo, btrfs_overlay) { .fs = "btrfs", .wh = "overlay" };

static const char *const base[] = {
	"2:f:f2=f2", "2:f:d/a=a", "2:f:d/b=b", "2:d:e", "2:f:x=x2",
	"1:f:f1=f1", "1:f:x=x1", "1:f:d/c=c", "1:f:q1=q1", "1:f:q2=q2",
	NULL
};

FIXTURE_SETUP(wo)
{
	ST_PREPARE(variant->fs, "wo", self->dir);
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_build(self->dir, base));
	self->other = strcmp(variant->wh, "aufs") ? "aufs" : "overlay";
}

ST_TEARDOWN(wo)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)
#define AUFS (!strcmp(variant->wh, "aufs"))
#define MOUNT_AS(fmt) \
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2, \
			      st_fmt("whiteout=%s", fmt))) \
		TH_LOG("mount: %s", strerror(errno))
#define MOUNT() MOUNT_AS(variant->wh)
#define WORK_EMPTY() \
	EXPECT_STREQ("", LS(UP(WORK))) TH_LOG("leftovers in the work directory")

TEST_F(wo, unlink_lower_file)
{
	MOUNT();
	ST_OK(unlink(U("f2")));
	ST_OK(unlink(U("x")));		/* in both lower layers */
	ST_OK(unlink(U("d/a")));
	if (AUFS) {
		EXPECT_STREQ(".wh.f2:f0,.wh.x:f0,d:d", entries(self->l[0], true));
		EXPECT_STREQ(".wh.a:f0", entries(UP("d"), false));
	} else {
		EXPECT_STREQ("d:d,f2:W,x:W", entries(self->l[0], true));
		EXPECT_STREQ("a:W", entries(UP("d"), false));
	}
	EXPECT_STREQ("d:d,e:d,f1:f,q1:f,q2:f", LS(self->mnt));
	EXPECT_STREQ("b:f,c:f", LS(U("d")));
	WORK_EMPTY();
}

TEST_F(wo, rmdir_lower_dir)
{
	MOUNT();
	ST_OK(rmdir(U("e")));
	ST_OK(unlink(U("d/a")));
	ST_OK(unlink(U("d/b")));
	ST_OK(unlink(U("d/c")));
	/* d's rw copy now holds three whiteouts; rmdir replaces it by one. */
	ST_OK(rmdir(U("d")));
	if (AUFS) {
		EXPECT_STREQ(".wh.d:f0,.wh.e:f0", entries(self->l[0], true));
	} else {
		EXPECT_STREQ("d:W,e:W", entries(self->l[0], true));
	}
	EXPECT_STREQ("f1:f,f2:f,q1:f,q2:f,x:f", LS(self->mnt));
	WORK_EMPTY();
}

TEST_F(wo, mkdir_over_whiteout)
{
	char buf[256];
	ssize_t n;

	MOUNT();
	ST_OK(rmdir(U("e")));
	ST_OK(mkdir(U("e"), 0755));
	ST_OK(unlink(U("f2")));
	ST_OK(mkdir(U("f2"), 0755));
	ST_OK(st_put(U("f2/inside"), "in"));
	if (AUFS) {
		EXPECT_STREQ("e:d,f2:d", entries(self->l[0], true));
		EXPECT_STREQ(".wh..wh..opq:f0", entries(UP("e"), false));
		EXPECT_STREQ(".wh..wh..opq:f0,inside:f2", entries(UP("f2"), false));
	} else {
		EXPECT_STREQ("e:dO,f2:dO", entries(self->l[0], true));
		EXPECT_STREQ("", entries(UP("e"), false));
	}
	/* Neither marker shows through the union. */
	EXPECT_STREQ("", LS(U("e")));
	EXPECT_STREQ("inside:f", LS(U("f2")));
	EXPECT_EQ(-1, getxattr(U("e"), "trusted.overlay.opaque", buf, sizeof(buf)));
	EXPECT_EQ(ENODATA, errno);
	n = listxattr(U("e"), buf, sizeof(buf));
	EXPECT_LE(0, n);
	buf[n > 0 ? n - 1 : 0] = 0;
	EXPECT_EQ(NULL, memmem(buf, n > 0 ? n : 0, "overlay", 7));
	/* Still opaque after a remount, and in the other format's mount. */
	ST_OK(umount(self->mnt));
	MOUNT_AS(self->other);
	EXPECT_STREQ("", LS(U("e")));
	EXPECT_STREQ("inside:f", LS(U("f2")));
	WORK_EMPTY();
}

TEST_F(wo, rename_lower_file)
{
	MOUNT();
	ST_OK(rename(U("f2"), U("f2r")));
	ST_OK(rename(U("d/a"), U("a")));
	ST_OK(rename(U("q1"), U("q2")));	/* over a lower file */
	if (AUFS) {
		EXPECT_STREQ(".wh.f2:f0,.wh.q1:f0,a:f1,d:d,f2r:f2,q2:f2",
			     entries(self->l[0], true));
		EXPECT_STREQ(".wh.a:f0", entries(UP("d"), false));
	} else {
		EXPECT_STREQ("a:f1,d:d,f2:W,f2r:f2,q1:W,q2:f2", entries(self->l[0], true));
		EXPECT_STREQ("a:W", entries(UP("d"), false));
	}
	EXPECT_STREQ("q1", st_cat(U("q2")));
	EXPECT_STREQ("a:f,d:d,e:d,f1:f,f2r:f,q2:f,x:f", LS(self->mnt));
	WORK_EMPTY();
}

/* Names so long that ".wh.NAME" does not fit into NAME_MAX. */
TEST_F(wo, long_names)
{
	char n251[252], n255[256];

	memset(n251, 'l', 251);
	n251[251] = 0;
	memset(n255, 'L', 255);
	n255[255] = 0;
	ST_OK(st_put(st_fmt("%s/%s", self->l[1], n251), "251"));
	ST_OK(st_put(st_fmt("%s/%s", self->l[1], n255), "255"));
	MOUNT();
	ST_OK(unlink(U(n251)));
	EXPECT_STREQ("<ENOENT>", st_ltype(U(n251)));
	errno = 0;
	if (AUFS) {
		/* ".wh." + 255 characters cannot exist: refused, nothing changes. */
		EXPECT_EQ(-1, unlink(U(n255)));
		EXPECT_EQ(ENAMETOOLONG, errno);
		EXPECT_STREQ("255", st_cat(U(n255)));
		EXPECT_STREQ(st_fmt(".wh.%s:f0", n251), entries(self->l[0], true));
	} else {
		ST_OK(unlink(U(n255)));
		EXPECT_STREQ("<ENOENT>", st_ltype(U(n255)));
	}
	WORK_EMPTY();
}

/* Layers written by one format read the same through the other. */
TEST_F(wo, other_format_reads_the_layers)
{
	char *a, *b;

	MOUNT();
	ST_OK(unlink(U("f2")));
	ST_OK(rmdir(U("e")));
	ST_OK(unlink(U("d/a")));
	ST_OK(unlink(U("d/b")));
	ST_OK(unlink(U("d/c")));
	ST_OK(rmdir(U("d")));
	ST_OK(mkdir(U("d"), 0700));
	ST_OK(st_put(U("d/mine"), "mine"));
	ST_OK(rename(U("f1"), U("f1r")));
	ST_OK(chmod(U("x"), 0600));
	a = view(self->mnt);
	ST_OK(umount(self->mnt));

	MOUNT_AS(self->other);
	b = view(self->mnt);
	EXPECT_STREQ(a, b);
	free(b);
	/* Changes in the other format, over this format's markers. */
	ST_OK(st_put(U("f2"), "f2 again"));	/* over a whiteout */
	ST_OK(unlink(U("d/mine")));		/* in an opaque dir: no whiteout */
	ST_OK(st_put(U("d/a"), "new a"));
	ST_OK(unlink(U("q1")));
	ST_OK(mkdir(U("e"), 0755));
	EXPECT_STREQ("a:f", LS(U("d")));
	EXPECT_STREQ("", LS(U("e")));
	if (AUFS) {
		/* The overlay mount wrote q1 as 0/0 and e as xattr-opaque. */
		EXPECT_STREQ(".wh.f1:f0,d:d,e:dO,f1r:f2,f2:f8,q1:W,x:f2",
			     entries(self->l[0], true));
		EXPECT_STREQ(".wh..wh..opq:f0,a:f5", entries(UP("d"), false));
	} else {
		EXPECT_STREQ(".wh.q1:f0,d:dO,e:d,f1:W,f1r:f2,f2:f8,x:f2",
			     entries(self->l[0], true));
		EXPECT_STREQ(".wh..wh..opq:f0", entries(UP("e"), false));
		EXPECT_STREQ("a:f5", entries(UP("d"), false));
	}
	a = view(self->mnt);
	ST_OK(umount(self->mnt));
	MOUNT();
	b = view(self->mnt);
	EXPECT_STREQ(a, b);
	EXPECT_STREQ("d:d,e:d,f1r:f,f2:f,q2:f,x:f", LS(self->mnt));
	free(a);
	free(b);
	WORK_EMPTY();
}

/* Every kind of change goes through the work directory and leaves it empty. */
TEST_F(wo, work_dir_empty_after_operations)
{
	const char *w = st_fmt("%s/w", self->dir);
	char *data;
	int fd;

	MOUNT();
	fd = open(U("f1"), O_RDWR | O_APPEND);	/* copy-up */
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "+", 1));
	close(fd);
	ST_OK(unlink(U("f1")));			/* upper + lower: whiteout */
	ST_OK(unlink(U("d/a")));
	ST_OK(unlink(U("d/b")));
	ST_OK(unlink(U("d/c")));
	ST_OK(rmdir(U("d")));			/* holds whiteouts */
	ST_OK(mkdir(U("d"), 0755));		/* over a whiteout */
	ST_OK(st_put(U("f1"), "f1 new"));	/* over a whiteout */
	ST_OK(mkdir(U("n"), 0755));
	ST_OK(rmdir(U("e")));
	ST_OK(rename(U("n"), U("e")));		/* dir onto a whiteout */
	ST_OK(rename(U("q1"), U("q2")));
	ST_OK(chmod(U("x"), 0600));
	ST_OK(symlink("x", U("sl")));
	ST_OK(link(U("x"), U("xl")));
	EXPECT_STREQ("", LS(UP(WORK)));
	ST_OK(umount(self->mnt));
	WORK_EMPTY();

	/* workdir= (overlay spelling): W/work, nothing else in W touched. */
	ST_OK(st_mkdirs(w));
	ST_OK(st_put(st_fmt("%s/keep", w), "keep"));
	ASSERT_LT(0, asprintf(&data, "lowerdir=%s:%s,upperdir=%s,workdir=%s,whiteout=%s",
			      self->l[1], self->l[2], self->l[0], w, variant->wh));
	ASSERT_EQ(0, mount("none", self->mnt, "strata", 0, data))
		TH_LOG("mount %s: %s", data, strerror(errno));
	ST_OK(unlink(U("q2")));
	ST_OK(unlink(U("f2")));
	ST_OK(truncate(U("x"), 1));
	ST_OK(mkdir(U("f2"), 0755));
	/* strata's own: work/ and the hard-link index beside it. */
	EXPECT_STREQ("index:d,keep:f,work:d", LS(w));
	EXPECT_STREQ("", LS(st_fmt("%s/work", w)));
	free(data);
}

/* Whatever a crash left in the work directory is gone after mount. */
TEST_F(wo, stale_work_entries_removed_at_mount)
{
	const char *work = UP(WORK), *w = st_fmt("%s/w", self->dir);
	char *data;

	ST_OK(st_mkdirs(work));
	ST_OK(st_put(st_fmt("%s/#1", work), "half a copy"));
	ST_OK(st_put(st_fmt("%s/#2/a/b/c", work), "deep"));
	ST_OK(st_put(st_fmt("%s/#2/.wh.x", work), ""));
	ST_OK(st_mknod(st_fmt("%s/#3", work), S_IFCHR, makedev(0, 0)));
	ST_OK(st_symlink("/nowhere", st_fmt("%s/#4", work)));
	ST_OK(st_mknod(st_fmt("%s/#5", work), S_IFIFO | 0600, 0));
	ST_OK(st_put(st_fmt("%s/f2", work), "not a branch entry"));
	ST_OK(chmod(st_fmt("%s/#2/a", work), 0));	/* the mounter is root */
	MOUNT();
	EXPECT_STREQ("", LS(work));
	EXPECT_STREQ("d:d,e:d,f1:f,f2:f,q1:f,q2:f,x:f", LS(self->mnt));
	EXPECT_STREQ("f2", st_cat(U("f2")));
	/* A copy-up right after works (temporary names may repeat). */
	ST_OK(truncate(U("f2"), 1));
	EXPECT_STREQ("f", st_cat(UP("f2")));
	ST_OK(umount(self->mnt));

	/* The same for workdir=. */
	ST_OK(st_put(st_fmt("%s/work/#9/x", w), "stale"));
	ST_OK(st_put(st_fmt("%s/work/#a", w), "stale"));
	ST_OK(st_put(st_fmt("%s/keep", w), "keep"));
	ASSERT_LT(0, asprintf(&data, "lowerdir=%s:%s,upperdir=%s,workdir=%s,whiteout=%s",
			      self->l[1], self->l[2], self->l[0], w, variant->wh));
	ASSERT_EQ(0, mount("none", self->mnt, "strata", 0, data))
		TH_LOG("mount %s: %s", data, strerror(errno));
	EXPECT_STREQ("", LS(st_fmt("%s/work", w)));
	EXPECT_STREQ("keep", st_cat(st_fmt("%s/keep", w)));
	free(data);
}

/*
 * ENOSPC while writing whiteouts and markers (no inodes left in the rw
 * branch): each refused call returns the error, and the union and the rw
 * branch are as before it.
 */
TEST_F(wo, enospc_no_inodes_left)
{
	const char *small = st_fmt("%s/small", self->dir);
	char *up, *lowers[2] = { self->l[1], self->l[2] }, *v0, *u0, *v;
	int i, fd = -1;

	ST_OK(st_mkdirs(small));
	ASSERT_EQ(0, mount("tmpfs", small, "tmpfs", 0, "size=4m,nr_inodes=48,mode=0755"));
	up = strdup(st_fmt("%s/u", small));
	ST_OK(st_mkdirs(up));
	ASSERT_EQ(0, st_mount_rw(self->mnt, up, lowers, 2, st_fmt("whiteout=%s", variant->wh)))
		TH_LOG("mount: %s", strerror(errno));
	for (i = 0; i < 100; i++) {
		fd = open(U(st_fmt("fill%02d", i)), O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			break;
		close(fd);
	}
	ASSERT_EQ(ENOSPC, errno) TH_LOG("filling the inodes: %s", strerror(errno));
	ASSERT_LT(5, i);
	v0 = view(self->mnt);
	u0 = strdup(entries(up, false));

#define REFUSED(call) do {						\
	errno = 0;							\
	EXPECT_EQ(-1, (long)(call)) TH_LOG("%s succeeded", #call);	\
	EXPECT_EQ(ENOSPC, errno) TH_LOG("%s: %s", #call, strerror(errno)); \
	v = view(self->mnt);						\
	EXPECT_STREQ(v0, v) TH_LOG("union changed by %s", #call);	\
	free(v);							\
	EXPECT_STREQ(u0, entries(up, false)) TH_LOG("rw branch changed by %s", #call); \
} while (0)

	REFUSED(unlink(U("f2")));
	REFUSED(unlink(U("x")));
	REFUSED(rmdir(U("e")));
	REFUSED(unlink(U("d/a")));
	REFUSED(rename(U("q1"), U("q1new")));
	REFUSED(rename(U("q1"), U("q2")));
	REFUSED(chmod(U("f1"), 0600));
	REFUSED(mkdir(U("newdir"), 0755));
	REFUSED(symlink("x", U("sl")));
	REFUSED(mknod(U("fifo"), S_IFIFO | 0644, 0));
	REFUSED(link(U("f1"), U("f1link")));
	REFUSED(open(U("f1"), O_WRONLY));
	EXPECT_STREQ("", LS(st_fmt("%s/" WORK, up)));

	/* Room for one inode: a copy-up fits, its whiteout does not. */
	ST_OK(unlink(U("fill00")));
	free(v0);
	v0 = view(self->mnt);
	errno = 0;
	EXPECT_EQ(-1, rename(U("q1"), U("q1new")));
	EXPECT_EQ(ENOSPC, errno) TH_LOG("rename: %s", strerror(errno));
	v = view(self->mnt);
	EXPECT_STREQ(v0, v) TH_LOG("a failed rename changed the union");
	free(v);
	EXPECT_STREQ("q1", st_cat(U("q1")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("q1new")));
	EXPECT_STREQ("", LS(st_fmt("%s/" WORK, up)));
	/* Removing an upper-only file frees an inode and needs none. */
	ST_OK(unlink(U("fill01")));
	ST_OK(unlink(U("fill02")));
	ST_OK(unlink(U("f2")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("f2")));
	free(v0);
	free(u0);
#undef REFUSED
}

TEST_HARNESS_MAIN
