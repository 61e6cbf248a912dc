// SPDX-License-Identifier: GPL-2.0
/*
 * Namespace operations in a writable union (design.md §4, issue 3):
 * create and open flags, O_TMPFILE, mkdir, mknod, symlink, link, unlink,
 * rmdir, rename with its flags, re-creating deleted names and remounting.
 * Each test checks the union view and the exact contents of the rw branch
 * (whiteouts in the format the mount writes), in both whiteout formats.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define WORK ".wh..wh.work"

/* ---- local helpers (writable-union tests) ---- */

/*
 * What the rw directory @dir holds for @name: the type letter of NAME
 * ('W' for a 0/0 character device), then 'w' if ".wh.NAME" exists too;
 * "-" for nothing at all.
 */
static const char *upper_has(const char *dir, const char *name)
{
	char out[4] = "";
	struct stat st;

	if (!lstat(st_fmt("%s/%s", dir, name), &st))
		out[0] = S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0) ?
			 'W' : st_type_char(st.st_mode);
	if (!lstat(st_fmt("%s/.wh.%s", dir, name), &st))
		strcat(out, "w");
	return st_fmt("%s", *out ? out : "-");
}

/* "o" aufs marker, "O" trusted.overlay.opaque=y, "" neither. */
static const char *opaque_of(const char *dir)
{
	char v[8] = "", out[4] = "";
	struct stat st;

	if (!lstat(st_fmt("%s/.wh..wh..opq", dir), &st))
		strcat(out, "o");
	if (getxattr(dir, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y')
		strcat(out, "O");
	return st_fmt("%s", out);
}

static bool view_line(FILE *out, const char *rel, const char *path,
		      const struct stat *st, void *arg)
{
	(void)arg;
	st_print_object(out, rel, path, st, path);
	fputc('\n', out);
	return true;
}

/* The whole tree below @root: names, types, modes, owners, data, links. */
static char *view(const char *root)
{
	return st_walk(root, view_line, NULL);
}

/* st_ls(), or "<ENAME>" when the directory cannot be listed. */
#define LS(dir) (st_ls(dir) ?: st_fmt("<%s>", strerrorname_np(errno)))

/* ---- fixture ---- */

FIXTURE(ns) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;		/* l[0] rw, l[1], l[2] lower */
	char *lowview;
};

FIXTURE_VARIANT(ns) {
	const char *fs;
	const char *wh;		/* whiteout= */
};

FIXTURE_VARIANT_ADD(ns, tmpfs_aufs) { .fs = "tmpfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(ns, tmpfs_overlay) { .fs = "tmpfs", .wh = "overlay" };
FIXTURE_VARIANT_ADD(ns, ext4_aufs) { .fs = "ext4", .wh = "aufs" };
FIXTURE_VARIANT_ADD(ns, ext4_overlay) { .fs = "ext4", .wh = "overlay" };
FIXTURE_VARIANT_ADD(ns, xfs_aufs) { .fs = "xfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(ns, xfs_overlay) { .fs = "xfs", .wh = "overlay" };
FIXTURE_VARIANT_ADD(ns, btrfs_aufs) { .fs = "btrfs", .wh = "aufs" };
FIXTURE_VARIANT_ADD(ns, btrfs_overlay) { .fs = "btrfs", .wh = "overlay" };

/*
 * l2: f2, x (shadowed by l1), d/{a,b}, e/ (empty), g/h/i, dl/ (for EXDEV)
 * l1: f1, x, d/c, e2/ (empty), q1, q2, hl
 */
static const char *const base[] = {
	"2:f:f2=f2", "2:f:x=x2", "2:f:d/a=a", "2:f:d/b=b", "2:d:e",
	"2:f:g/h/i=i", "2:f:dl/inner=inner",
	"1:f:f1=f1", "1:f:x=x1", "1:f:d/c=c", "1:d:e2", "1:f:q1=q1",
	"1:f:q2=q2", "1:f:hl=hl",
	NULL
};

FIXTURE_SETUP(ns)
{
	ST_PREPARE(variant->fs, "ns", self->dir);
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_build(self->dir, base));
	{
		char *v1 = view(self->l[1]), *v2 = view(self->l[2]);

		self->lowview = realloc(v1, strlen(v1) + strlen(v2) + 1);
		strcat(self->lowview, v2);
		free(v2);
	}
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2,
			      st_fmt("whiteout=%s", variant->wh)))
		TH_LOG("mount: %s", strerror(errno));
}

ST_TEARDOWN(ns)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)
#define UPD(rel) (*(rel) ? UP(rel) : self->l[0])
/* What the rw branch has for NAME in directory DIR ("" = the root). */
#define HAS(dir, name) upper_has(UPD(dir), name)
/* The whiteout this variant writes, as upper_has() shows it. */
#define WH (strcmp(variant->wh, "aufs") ? "W" : "w")
#define OPQ (strcmp(variant->wh, "aufs") ? "O" : "o")

#define WORK_EMPTY() \
	EXPECT_STREQ("", LS(UP(WORK))) TH_LOG("leftovers in the work directory")

#define LOWER_UNCHANGED() do {						\
	char *a = view(self->l[1]), *b = view(self->l[2]);		\
	a = realloc(a, strlen(a) + strlen(b) + 1);			\
	strcat(a, b);							\
	EXPECT_STREQ(self->lowview, a) TH_LOG("a lower branch changed");	\
	free(a);							\
	free(b);							\
} while (0)

TEST_F(ns, create_and_open_flags)
{
	struct stat st;
	int fd;

	/* O_CREAT of a new name: in the rw branch, owned by the caller. */
	fd = open(U("new"), O_WRONLY | O_CREAT | O_EXCL, 0666);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, write(fd, "new", 3));
	close(fd);
	ST_OK(stat(UP("new"), &st));
	EXPECT_EQ(0644, st.st_mode & 07777);	/* umask 022 */
	EXPECT_EQ(0, st.st_uid);
	EXPECT_STREQ("new", st_cat(U("new")));

	/* O_EXCL on existing names: lower, both layers, upper. */
	EXPECT_EQ(-1, open(U("f2"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, open(U("x"), O_RDONLY | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, open(U("new"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, mkdir(U("d"), 0755));
	EXPECT_EQ(EEXIST, errno);

	/* O_CREAT without O_EXCL opens the lower file: read-only, no copy. */
	fd = open(U("f1"), O_RDONLY | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_STREQ("-", HAS("", "f1"));

	/* O_TRUNC copies up and truncates. */
	fd = open(U("x"), O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_STREQ("", st_cat(U("x")));
	EXPECT_STREQ("f", HAS("", "x"));
	EXPECT_STREQ("", st_cat(UP("x")));

	/* Creating in a lower directory copies the directory up first. */
	fd = open(U("g/h/n"), O_WRONLY | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_STREQ("h:d", LS(UP("g")));
	EXPECT_STREQ("n:f", LS(UP("g/h")));
	EXPECT_STREQ("i:f,n:f", LS(U("g/h")));
	EXPECT_STREQ("", opaque_of(UP("g/h")));

	/* A deleted name can be created again with O_EXCL. */
	ST_OK(unlink(U("f2")));
	EXPECT_STREQ(WH, HAS("", "f2"));
	fd = open(U("f2"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(5, write(fd, "again", 5));
	close(fd);
	EXPECT_STREQ("again", st_cat(U("f2")));
	EXPECT_STREQ("f", HAS("", "f2"));

	EXPECT_STREQ("f2:f,g:d,new:f,x:f", st_ls_nowork(self->l[0]));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, tmpfile_and_linkat)
{
	struct stat st;
	int fd, fd2;

	fd = open(U("d"), O_TMPFILE | O_RDWR, 0640);
	ASSERT_LE(0, fd) TH_LOG("O_TMPFILE: %s", strerror(errno));
	EXPECT_EQ(7, write(fd, "tmpdata", 7));
	/* Unnamed: nothing new is visible, in the union or the branch. */
	EXPECT_STREQ("a:f,b:f,c:f", LS(U("d")));
	EXPECT_STREQ("", LS(UP("d")));
	ST_OK(fstat(fd, &st));
	EXPECT_EQ(0, st.st_nlink);
	ST_OK(linkat(fd, "", AT_FDCWD, U("d/named"), AT_EMPTY_PATH));
	close(fd);
	EXPECT_STREQ("tmpdata", st_cat(U("d/named")));
	EXPECT_STREQ("tmpdata", st_cat(UP("d/named")));
	ST_OK(stat(U("d/named"), &st));
	EXPECT_EQ(0640, st.st_mode & 07777);
	EXPECT_EQ(1, st.st_nlink);
	EXPECT_STREQ("a:f,b:f,c:f,named:f", LS(U("d")));

	/* Through /proc/self/fd as well. */
	fd = open(U("e"), O_TMPFILE | O_WRONLY, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2, write(fd, "p2", 2));
	ST_OK(linkat(AT_FDCWD, st_fmt("/proc/self/fd/%d", fd), AT_FDCWD, U("e/p"),
		     AT_SYMLINK_FOLLOW));
	close(fd);
	EXPECT_STREQ("p2", st_cat(UP("e/p")));

	/* O_EXCL: can never be linked; closed, it leaves nothing behind. */
	fd = open(self->mnt, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, linkat(fd, "", AT_FDCWD, U("never"), AT_EMPTY_PATH));
	fd2 = open(self->mnt, O_TMPFILE | O_RDWR, 0600);
	ASSERT_LE(0, fd2);
	close(fd);
	close(fd2);
	EXPECT_STREQ("<ENOENT>", st_ltype(U("never")));
	EXPECT_STREQ("d:d,e:d", st_ls_nowork(self->l[0]));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, mkdir_mknod_symlink)
{
	char buf[64];
	struct stat st;

	ST_OK(mkdir(U("d/nd"), 0750));
	ST_OK(stat(UP("d/nd"), &st));
	EXPECT_EQ(0750, st.st_mode & 07777);
	EXPECT_STREQ("", LS(U("d/nd")));
	EXPECT_STREQ("", opaque_of(UP("d/nd")));

	ST_OK(mknod(U("fifo"), S_IFIFO | 0640, 0));
	ST_OK(mknod(U("sock"), S_IFSOCK | 0600, 0));
	ST_OK(mknod(U("null"), S_IFCHR | 0666, makedev(1, 3)));
	ST_OK(mknod(U("blk"), S_IFBLK | 0600, makedev(7, 0)));
	ST_OK(lstat(UP("fifo"), &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	EXPECT_EQ(0640, st.st_mode & 07777);
	ST_OK(lstat(UP("sock"), &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	ST_OK(lstat(UP("null"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	ST_OK(lstat(U("blk"), &st));
	EXPECT_TRUE(S_ISBLK(st.st_mode));
	EXPECT_EQ(makedev(7, 0), st.st_rdev);
	EXPECT_EQ(-1, mknod(U("wh"), S_IFCHR | 0600, makedev(0, 0)));
	EXPECT_EQ(EPERM, errno);
	EXPECT_STREQ("-", HAS("", "wh"));

	ST_OK(symlink("d/a", U("sl")));
	ST_OK(symlink("../f2", U("d/sl2")));
	EXPECT_EQ(3, readlink(UP("sl"), buf, sizeof(buf)));
	EXPECT_STREQ("a", st_cat(U("sl")));
	EXPECT_STREQ("f2", st_cat(U("d/sl2")));
	EXPECT_STREQ("l", HAS("d", "sl2"));
	EXPECT_STREQ("blk:b,d:d,fifo:p,null:c,sl:l,sock:s", st_ls_nowork(self->l[0]));
	EXPECT_STREQ("nd:d,sl2:l", LS(UP("d")));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, reserved_names_refused)
{
	int fd;

	errno = 0;
	EXPECT_EQ(-1, open(U(".wh.f1"), O_WRONLY | O_CREAT, 0644));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, mkdir(U(".wh..wh..opq"), 0755));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, mknod(U("d/.wh.a"), S_IFIFO | 0644, 0));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, symlink("x", U(".wh.x")));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, link(U("f1"), U(".wh.f2")));
	EXPECT_EQ(EPERM, errno);
	/* A rename to a reserved name would delete f2 from the union. */
	errno = 0;
	EXPECT_EQ(-1, rename(U("f1"), U(".wh.f2")));
	EXPECT_EQ(EPERM, errno) TH_LOG("rename to .wh.f2: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, rename(U("e2"), U(".wh..wh.work")));
	EXPECT_NE(0, errno);
	EXPECT_STREQ("f2", st_cat(U("f2")));
	EXPECT_STREQ("f1", st_cat(U("f1")));
	fd = open(U("f2"), O_RDONLY);
	EXPECT_LE(0, fd);
	close(fd);
	EXPECT_STREQ("a:f,b:f,c:f", LS(U("d")));
	LOWER_UNCHANGED();
}

TEST_F(ns, link_lower_and_upper)
{
	struct stat a, b;
	int fd;

	ST_OK(link(U("f2"), U("f2link")));
	ST_OK(stat(U("f2"), &a));
	ST_OK(stat(U("f2link"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(2, a.st_nlink);
	EXPECT_EQ(2, b.st_nlink);
	ST_OK(stat(UP("f2"), &a));
	ST_OK(stat(UP("f2link"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(2, a.st_nlink);
	/* A write through one name shows through the other. */
	fd = open(U("f2link"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "+", 1));
	close(fd);
	EXPECT_STREQ("f2+", st_cat(U("f2")));

	/* Into a lower directory; of an upper-only file. */
	ST_OK(link(U("f1"), U("d/f1link")));
	ST_OK(st_put(U("up"), "up"));
	ST_OK(link(U("up"), U("e2/uplink")));
	ST_OK(stat(U("e2/uplink"), &a));
	EXPECT_EQ(2, a.st_nlink);

	/* Unlinking one name keeps the other. */
	ST_OK(unlink(U("f2")));
	EXPECT_STREQ("f2+", st_cat(U("f2link")));
	ST_OK(stat(U("f2link"), &a));
	EXPECT_EQ(1, a.st_nlink);
	EXPECT_STREQ(WH, HAS("", "f2"));
	EXPECT_EQ(-1, link(U("d"), U("dlink")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_STREQ("f", HAS("", "f1"));
	EXPECT_STREQ("f", HAS("d", "f1link"));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, unlink_leaves_whiteouts)
{
	/* A lower file. */
	ST_OK(unlink(U("f2")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("f2")));
	EXPECT_STREQ(WH, HAS("", "f2"));
	/* A name two lower layers have: one whiteout hides both. */
	ST_OK(unlink(U("x")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("x")));
	EXPECT_STREQ(WH, HAS("", "x"));
	/* A copied-up file: the copy goes, a whiteout stays. */
	ST_OK(truncate(U("f1"), 1));
	EXPECT_STREQ("f", HAS("", "f1"));
	ST_OK(unlink(U("f1")));
	EXPECT_STREQ(WH, HAS("", "f1"));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("f1")));
	/* In a lower directory: it is copied up to hold the whiteout. */
	ST_OK(unlink(U("d/a")));
	EXPECT_STREQ("b:f,c:f", LS(U("d")));
	EXPECT_STREQ(WH, HAS("d", "a"));
	/* An upper-only file: no whiteout. */
	ST_OK(st_put(U("tmp"), "t"));
	ST_OK(unlink(U("tmp")));
	EXPECT_STREQ("-", HAS("", "tmp"));
	EXPECT_EQ(-1, unlink(U("f2")));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, unlink(U("d")));
	EXPECT_EQ(EISDIR, errno);

	EXPECT_STREQ("d:d,dl:d,e2:d,e:d,g:d,hl:f,q1:f,q2:f", LS(self->mnt));
	if (!strcmp(variant->wh, "aufs")) {
		EXPECT_STREQ(".wh.f1:f,.wh.f2:f,.wh.x:f,d:d", st_ls_nowork(self->l[0]));
		EXPECT_STREQ(".wh.a:f", LS(UP("d")));
	} else {
		EXPECT_STREQ("d:d,f1:c,f2:c,x:c", st_ls_nowork(self->l[0]));
		EXPECT_STREQ("a:c", LS(UP("d")));
	}
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, rmdir_merged_and_lower)
{
	/* Merged and not empty in the union. */
	EXPECT_EQ(-1, rmdir(U("d")));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(-1, rmdir(U("g")));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_STREQ("-", HAS("", "d"));

	/* A lower-only empty directory. */
	ST_OK(rmdir(U("e")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("e")));
	EXPECT_STREQ(WH, HAS("", "e"));

	/* Emptied in the union view: then it goes, with a whiteout. */
	ST_OK(unlink(U("d/a")));
	ST_OK(unlink(U("d/b")));
	EXPECT_EQ(-1, rmdir(U("d")));
	EXPECT_EQ(ENOTEMPTY, errno);
	ST_OK(unlink(U("d/c")));
	EXPECT_STREQ("", LS(U("d")));
	ST_OK(rmdir(U("d")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d")));
	EXPECT_STREQ(WH, HAS("", "d"));

	/* Nested: g/h/i. */
	ST_OK(unlink(U("g/h/i")));
	ST_OK(rmdir(U("g/h")));
	EXPECT_STREQ(WH, HAS("g", "h"));
	ST_OK(rmdir(U("g")));
	EXPECT_STREQ(WH, HAS("", "g"));

	/* Upper-only directories leave nothing. */
	ST_OK(mkdir(U("nd"), 0755));
	ST_OK(mkdir(U("nd/sub"), 0755));
	ST_OK(rmdir(U("nd/sub")));
	ST_OK(rmdir(U("nd")));
	EXPECT_STREQ("-", HAS("", "nd"));
	/* A directory of the top layer only (e2 is in l1, nothing below). */
	ST_OK(rmdir(U("e2")));
	EXPECT_STREQ(WH, HAS("", "e2"));

	EXPECT_STREQ("dl:d,f1:f,f2:f,hl:f,q1:f,q2:f,x:f", LS(self->mnt));
	if (!strcmp(variant->wh, "aufs")) {
		EXPECT_STREQ(".wh.d:f,.wh.e2:f,.wh.e:f,.wh.g:f", st_ls_nowork(self->l[0]));
	} else {
		EXPECT_STREQ("d:c,e2:c,e:c,g:c", st_ls_nowork(self->l[0]));
	}
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* mkdir over a whiteout makes an opaque directory. */
TEST_F(ns, mkdir_over_whiteout_is_opaque)
{
	ST_OK(unlink(U("d/a")));
	ST_OK(unlink(U("d/b")));
	ST_OK(unlink(U("d/c")));
	ST_OK(rmdir(U("d")));
	ST_OK(mkdir(U("d"), 0700));
	EXPECT_STREQ("", LS(U("d")));
	EXPECT_STREQ("d", HAS("", "d"));
	EXPECT_STREQ(OPQ, opaque_of(UP("d")));
	/* A name the hidden lower directory has: no whiteout on delete. */
	ST_OK(st_put(U("d/a"), "new a"));
	EXPECT_STREQ("a:f", LS(U("d")));
	ST_OK(unlink(U("d/a")));
	EXPECT_STREQ("-", HAS("d", "a"));
	EXPECT_STREQ("", LS(U("d")));
	/* Removing it again needs the whiteout back. */
	ST_OK(rmdir(U("d")));
	EXPECT_STREQ(WH, HAS("", "d"));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d")));

	/* Over the whiteout of a lower file. */
	ST_OK(unlink(U("f2")));
	ST_OK(mkdir(U("f2"), 0755));
	EXPECT_STREQ("d", HAS("", "f2"));
	EXPECT_STREQ("", LS(U("f2")));
	/* Over a lower-only empty directory's whiteout. */
	ST_OK(rmdir(U("e")));
	ST_OK(mkdir(U("e"), 0755));
	EXPECT_STREQ(OPQ, opaque_of(UP("e")));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, rename_files)
{
	/* Lower file to a new name: whiteout at the source. */
	ST_OK(rename(U("f2"), U("f2new")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("f2")));
	EXPECT_STREQ("f2", st_cat(U("f2new")));
	EXPECT_STREQ(WH, HAS("", "f2"));
	EXPECT_STREQ("f", HAS("", "f2new"));
	/* Across directories, from a lower directory into another. */
	ST_OK(rename(U("d/a"), U("e2/a")));
	EXPECT_STREQ("a", st_cat(U("e2/a")));
	EXPECT_STREQ("b:f,c:f", LS(U("d")));
	EXPECT_STREQ(WH, HAS("d", "a"));
	EXPECT_STREQ("f", HAS("e2", "a"));
	/* Over an existing lower file. */
	ST_OK(rename(U("f1"), U("x")));
	EXPECT_STREQ("f1", st_cat(U("x")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("f1")));
	EXPECT_STREQ(WH, HAS("", "f1"));
	EXPECT_STREQ("f", HAS("", "x"));
	/* An upper-only file: nothing left at the source. */
	ST_OK(st_put(U("up"), "up"));
	ST_OK(rename(U("up"), U("up2")));
	EXPECT_STREQ("-", HAS("", "up"));
	EXPECT_STREQ("up", st_cat(U("up2")));
	/* Onto a deleted name: the whiteout goes (there is an entry now). */
	ST_OK(rename(U("up2"), U("f2")));
	EXPECT_STREQ("up", st_cat(U("f2")));
	EXPECT_STREQ("f", HAS("", "f2"));
	EXPECT_STREQ("-", HAS("", "up2"));
	/* Back onto the name of a lower file it came from. */
	ST_OK(rename(U("f2new"), U("hl")));
	EXPECT_STREQ("f2", st_cat(U("hl")));

	EXPECT_STREQ("d:d,dl:d,e2:d,e:d,f2:f,g:d,hl:f,q1:f,q2:f,x:f", LS(self->mnt));
	if (!strcmp(variant->wh, "aufs")) {
		EXPECT_STREQ(".wh.f1:f,d:d,e2:d,f2:f,hl:f,x:f", st_ls_nowork(self->l[0]));
	} else {
		EXPECT_STREQ("d:d,e2:d,f1:c,f2:f,hl:f,x:f", st_ls_nowork(self->l[0]));
	}
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, rename_noreplace_and_exchange)
{
	EXPECT_EQ(-1, renameat2(AT_FDCWD, U("f1"), AT_FDCWD, U("x"), RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_STREQ("-", HAS("", "f1"));
	EXPECT_STREQ("-", HAS("", "x"));
	ST_OK(renameat2(AT_FDCWD, U("f1"), AT_FDCWD, U("f1b"), RENAME_NOREPLACE));
	EXPECT_STREQ("f1", st_cat(U("f1b")));
	EXPECT_STREQ(WH, HAS("", "f1"));
	/* NOREPLACE onto a deleted name is fine. */
	ST_OK(renameat2(AT_FDCWD, U("f1b"), AT_FDCWD, U("f1"), RENAME_NOREPLACE));
	EXPECT_STREQ("f1", st_cat(U("f1")));
	EXPECT_STREQ("f", HAS("", "f1"));

	/* Exchange two lower files of different layers. */
	ST_OK(renameat2(AT_FDCWD, U("q1"), AT_FDCWD, U("f2"), RENAME_EXCHANGE));
	EXPECT_STREQ("f2", st_cat(U("q1")));
	EXPECT_STREQ("q1", st_cat(U("f2")));
	EXPECT_STREQ("f", HAS("", "q1"));
	EXPECT_STREQ("f", HAS("", "f2"));
	/* A lower file with an upper-only one. */
	ST_OK(st_put(U("up"), "up"));
	ST_OK(renameat2(AT_FDCWD, U("up"), AT_FDCWD, U("q2"), RENAME_EXCHANGE));
	EXPECT_STREQ("q2", st_cat(U("up")));
	EXPECT_STREQ("up", st_cat(U("q2")));
	/* Two upper-only directories, and an upper dir with a file. */
	ST_OK(mkdir(U("n1"), 0755));
	ST_OK(mkdir(U("n2"), 0700));
	ST_OK(st_put(U("n1/in1"), "1"));
	ST_OK(renameat2(AT_FDCWD, U("n1"), AT_FDCWD, U("n2"), RENAME_EXCHANGE));
	EXPECT_STREQ("in1:f", LS(U("n2")));
	EXPECT_STREQ("", LS(U("n1")));
	ST_OK(renameat2(AT_FDCWD, U("n1"), AT_FDCWD, U("up"), RENAME_EXCHANGE));
	EXPECT_STREQ("d", HAS("", "up"));
	EXPECT_STREQ("q2", st_cat(U("n1")));
	/*
	 * With a directory that has lower contents (moved by redirect): each
	 * name shows the other's contents, nothing merges with the lower d.
	 */
	ST_OK(renameat2(AT_FDCWD, U("n2"), AT_FDCWD, U("d"), RENAME_EXCHANGE));
	EXPECT_STREQ("in1:f", LS(U("d")));
	EXPECT_STREQ("a:f,b:f,c:f", LS(U("n2")));
	EXPECT_STREQ("c", st_cat(U("n2/c")));
	EXPECT_STREQ(OPQ, opaque_of(UP("d")));
	EXPECT_STREQ("d", HAS("", "n2"));
	/* And back. */
	ST_OK(renameat2(AT_FDCWD, U("n2"), AT_FDCWD, U("d"), RENAME_EXCHANGE));
	EXPECT_STREQ("a:f,b:f,c:f", LS(U("d")));
	EXPECT_STREQ("in1:f", LS(U("n2")));
	/* Two merged/lower directories. */
	ST_OK(renameat2(AT_FDCWD, U("g"), AT_FDCWD, U("dl"), RENAME_EXCHANGE));
	EXPECT_STREQ("h:d", LS(U("dl")));
	EXPECT_STREQ("inner:f", LS(U("g")));
	EXPECT_STREQ("i", st_cat(U("dl/h/i")));
	/* Exchange with a missing name. */
	EXPECT_EQ(-1, renameat2(AT_FDCWD, U("q1"), AT_FDCWD, U("nothere"), RENAME_EXCHANGE));
	EXPECT_EQ(ENOENT, errno);
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

TEST_F(ns, rename_directories)
{
	char *before, *after;

	/* Upper-only directories move freely, contents and all. */
	ST_OK(mkdir(U("nd"), 0755));
	ST_OK(st_put(U("nd/f"), "ndf"));
	ST_OK(mkdir(U("nd/sub"), 0755));
	ST_OK(rename(U("nd"), U("nd2")));
	EXPECT_STREQ("f:f,sub:d", LS(U("nd2")));
	EXPECT_STREQ("-", HAS("", "nd"));
	EXPECT_STREQ("d", HAS("", "nd2"));
	ST_OK(rename(U("nd2"), U("d/nd3")));
	EXPECT_STREQ("ndf", st_cat(U("d/nd3/f")));
	EXPECT_STREQ("a:f,b:f,c:f,nd3:d", LS(U("d")));

	/* An upper dir over an empty lower one must not merge with it. */
	ST_OK(mkdir(U("m"), 0755));
	ST_OK(st_put(U("m/mine"), "mine"));
	ST_OK(rename(U("m"), U("e")));
	EXPECT_STREQ("mine:f", LS(U("e")));
	EXPECT_STREQ("-", HAS("", "m"));
	EXPECT_STREQ(OPQ, opaque_of(UP("e")));
	/* Refused onto a directory that is not empty in the union. */
	ST_OK(mkdir(U("m3"), 0755));
	errno = 0;
	EXPECT_EQ(-1, rename(U("m3"), U("g")));
	EXPECT_EQ(ENOTEMPTY, errno);
	errno = 0;
	EXPECT_EQ(-1, rename(U("d"), U("d/nd3/in")));
	EXPECT_EQ(EINVAL, errno);

	/*
	 * Directories with lower contents move too: the merged d (already
	 * copied up), the lower-only dl, the nested g/h.  The old names get
	 * whiteouts; the contents follow.
	 */
	ST_OK(rename(U("d"), U("dd")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d")));
	EXPECT_STREQ("a:f,b:f,c:f,nd3:d", LS(U("dd")));
	EXPECT_STREQ("a", st_cat(U("dd/a")));
	EXPECT_STREQ(WH, HAS("", "d"));
	EXPECT_STREQ("d", HAS("", "dd"));
	{
		char xl[1024];
		ssize_t n = listxattr(U("dd"), xl, sizeof(xl));

		/* strata's bookkeeping of the move never shows. */
		EXPECT_LE(0, n);
		EXPECT_EQ(NULL, memmem(xl, n > 0 ? n : 0, "strata", 6));
	}
	ST_OK(rename(U("dl"), U("dl2")));
	EXPECT_STREQ("inner:f", LS(U("dl2")));
	EXPECT_STREQ(WH, HAS("", "dl"));
	ST_OK(rename(U("g/h"), U("hh")));
	EXPECT_STREQ("i:f", LS(U("hh")));
	EXPECT_STREQ("", LS(U("g")));
	EXPECT_STREQ(WH, HAS("g", "h"));
	/* Changes inside a moved directory. */
	ST_OK(unlink(U("dd/a")));
	EXPECT_STREQ(WH, HAS("dd", "a"));
	ST_OK(truncate(U("dd/b"), 0));
	EXPECT_STREQ("f", HAS("dd", "b"));
	ST_OK(st_put(U("dd/new"), "new"));
	EXPECT_STREQ("b:f,c:f,nd3:d,new:f", LS(U("dd")));
	/* Moved again, into a lower directory; then its child out of it. */
	ST_OK(rename(U("dd"), U("e2/dd")));
	EXPECT_STREQ("b:f,c:f,nd3:d,new:f", LS(U("e2/dd")));
	ST_OK(rename(U("e2"), U("e2moved")));
	EXPECT_STREQ("c", st_cat(U("e2moved/dd/c")));
	/* The old names can be used again; they do not merge. */
	ST_OK(mkdir(U("d"), 0755));
	EXPECT_STREQ("", LS(U("d")));
	ST_OK(mkdir(U("dl"), 0755));
	EXPECT_STREQ("", LS(U("dl")));

	/* The same after a remount (the moves are on disk). */
	before = view(self->mnt);
	ST_OK(umount(self->mnt));
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2,
			      st_fmt("whiteout=%s", variant->wh)));
	after = view(self->mnt);
	EXPECT_STREQ(before, after);
	EXPECT_STREQ("b:f,c:f,nd3:d,new:f", LS(U("e2moved/dd")));
	EXPECT_STREQ("inner:f", LS(U("dl2")));
	EXPECT_STREQ("i:f", LS(U("hh")));
	EXPECT_STREQ("", LS(U("d")));
	free(before);
	free(after);
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* Re-creating deleted names, as every type. */
TEST_F(ns, recreate_deleted_names)
{
	char buf[16];

	ST_OK(unlink(U("f2")));
	ST_OK(st_put(U("f2"), "new f2"));
	EXPECT_STREQ("new f2", st_cat(U("f2")));
	EXPECT_STREQ("f", HAS("", "f2"));
	ST_OK(unlink(U("f2")));
	EXPECT_STREQ(WH, HAS("", "f2"));
	ST_OK(symlink("f1", U("f2")));
	EXPECT_STREQ("l", HAS("", "f2"));
	EXPECT_EQ(2, readlink(U("f2"), buf, sizeof(buf)));
	ST_OK(unlink(U("f2")));
	ST_OK(mknod(U("f2"), S_IFIFO | 0644, 0));
	EXPECT_STREQ("p", HAS("", "f2"));
	ST_OK(unlink(U("f2")));
	ST_OK(link(U("f1"), U("f2")));
	EXPECT_STREQ("f", HAS("", "f2"));
	EXPECT_STREQ("f1", st_cat(U("f2")));
	ST_OK(unlink(U("x")));
	ST_OK(mkdir(U("x"), 0755));
	EXPECT_STREQ("d", HAS("", "x"));
	ST_OK(rmdir(U("x")));
	EXPECT_STREQ(WH, HAS("", "x"));
	ST_OK(st_put(U("x"), "x again"));
	EXPECT_STREQ("x again", st_cat(U("x")));
	EXPECT_STREQ("f", HAS("", "x"));
	EXPECT_STREQ("d:d,dl:d,e2:d,e:d,f1:f,f2:f,g:d,hl:f,q1:f,q2:f,x:f", LS(self->mnt));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* Created and deleted in the top branch: no trace at all. */
TEST_F(ns, created_then_deleted_leaves_nothing)
{
	ST_OK(st_put(U("t1"), "t"));
	ST_OK(unlink(U("t1")));
	ST_OK(mkdir(U("t2"), 0755));
	ST_OK(rmdir(U("t2")));
	ST_OK(symlink("x", U("t3")));
	ST_OK(unlink(U("t3")));
	ST_OK(st_put(U("t4"), "t"));
	ST_OK(rename(U("t4"), U("t5")));
	ST_OK(unlink(U("t5")));
	EXPECT_STREQ("", st_ls_nowork(self->l[0]));
	/* Inside a lower directory: it is copied up, but holds nothing. */
	ST_OK(st_put(U("d/n"), "n"));
	ST_OK(unlink(U("d/n")));
	EXPECT_STREQ("", LS(UP("d")));
	ST_OK(mkdir(U("g/h/nd"), 0755));
	ST_OK(rmdir(U("g/h/nd")));
	EXPECT_STREQ("", LS(UP("g/h")));
	EXPECT_STREQ("d:d,g:d", st_ls_nowork(self->l[0]));
	WORK_EMPTY();
	LOWER_UNCHANGED();
}

/* umount and mount again: the same view. */
TEST_F(ns, remount_shows_same_view)
{
	char *before, *after;
	int fd;

	ST_OK(unlink(U("f2")));
	ST_OK(st_put(U("d/new"), "new"));
	ST_OK(unlink(U("d/a")));
	ST_OK(rmdir(U("e")));
	ST_OK(unlink(U("g/h/i")));
	ST_OK(rmdir(U("g/h")));
	ST_OK(rmdir(U("g")));
	ST_OK(mkdir(U("g"), 0700));
	ST_OK(st_put(U("g/only"), "only"));
	ST_OK(rename(U("f1"), U("f1r")));
	ST_OK(chmod(U("x"), 0600));
	ST_OK(link(U("hl"), U("hl2")));
	ST_OK(symlink("hl", U("sl")));
	fd = open(U("q1"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, write(fd, "+q1", 3));
	close(fd);
	before = view(self->mnt);
	ST_OK(umount(self->mnt));
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2,
			      st_fmt("whiteout=%s", variant->wh)));
	after = view(self->mnt);
	EXPECT_STREQ(before, after);
	free(after);
	ST_OK(st_drop_caches());
	after = view(self->mnt);
	EXPECT_STREQ(before, after);
	EXPECT_TRUE(strstr(before, "/hl f 644 0:0 nlink=2 ") != NULL);
	EXPECT_TRUE(strstr(before, "/f2 ") == NULL);
	EXPECT_TRUE(strstr(before, "/g/h") == NULL);
	WORK_EMPTY();
	LOWER_UNCHANGED();
	free(before);
	free(after);
}

/*
 * unlink() while another task's open-for-write is copying the file up: the
 * name is gone once both calls returned, whichever order they took.  The
 * copy-up is caught in the act by watching the work directory (a reflink
 * copy on xfs or btrfs may be too fast to catch; then either order is
 * checked as it came).
 */
TEST_F(ns, unlink_during_copy_up)
{
	char *buf = malloc(1 << 20);
	struct stat st;
	int *res, i, status, caught = 0;
	pid_t pid;
	int fd;

	ASSERT_NE(NULL, buf);
	memset(buf, 'r', 1 << 20);
	fd = open(st_fmt("%s/race", self->l[2]), O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	for (i = 0; i < 48; i++)
		ASSERT_EQ(1 << 20, write(fd, buf, 1 << 20));
	close(fd);
	res = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	res[0] = -1;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int wfd = open(U("race"), O_WRONLY);

		res[0] = wfd < 0 ? errno : 0;
		if (wfd >= 0) {
			res[1] = write(wfd, "W", 1);
			close(wfd);
		}
		_exit(0);
	}
	/* Wait for the temporary copy to show up in the work directory. */
	for (i = 0; i < 20000 && res[0] < 0; i++) {
		char *w = st_ls(UP(WORK));

		caught = w && *w;
		free(w);
		if (caught)
			break;
		usleep(100);
	}
	ST_OK(unlink(U("race")));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("unlink %s the copy-up; the open returned %s", caught ? "during" : "after",
	       res[0] ? strerror(res[0]) : "a descriptor");
	EXPECT_EQ(-1, stat(U("race"), &st)) TH_LOG("race came back (size %lld) after unlink",
						   (long long)st.st_size);
	EXPECT_EQ(ENOENT, errno);
	EXPECT_STREQ(WH, HAS("", "race"));
	if (res[0])
		EXPECT_EQ(ENOENT, res[0]) TH_LOG("open failed with %s", strerror(res[0]));
	ST_OK(st_drop_caches());
	EXPECT_EQ(-1, stat(U("race"), &st));
	WORK_EMPTY();
	free(buf);
}

TEST_HARNESS_MAIN
