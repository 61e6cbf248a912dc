// SPDX-License-Identifier: GPL-2.0
/*
 * Name lookup through a read-only union (design.md §3): precedence top to
 * bottom, whiteouts and opaque directories in both the aufs/OCI and the
 * overlayfs format, file/dir shadowing, reserved ".wh." names and the types
 * of special files.  Runs once per branch filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(lk) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
};

FIXTURE_VARIANT(lk) {
	const char *fs;
};

ST_FS_VARIANTS(lk);

FIXTURE_SETUP(lk)
{
	ST_PREPARE(variant->fs, "lookup", self->dir);
	self->l = st_make_layers(self->dir, 8);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
}

ST_TEARDOWN(lk)

/* Union path of @rel. */
#define U(rel) st_fmt("%s/%s", self->mnt, rel)

#define BUILD(...) do {							\
	const char *const __spec[] = { __VA_ARGS__, NULL };		\
	ASSERT_EQ(0, st_build(self->dir, __spec));			\
} while (0)

#define MOUNT(n, extra)							\
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, n, "ro", extra))	\
		TH_LOG("mount: %s", strerror(errno))

TEST_F(lk, whiteout_aufs)
{
	BUILD("0:f:keep=0", "0:w:gone", "0:w:gonedir", "1:f:gone=1",
	      "1:f:gonedir/x=1", "1:f:other=1",
	      /* a whiteout hides only what is below it */
	      "0:f:above=0", "1:w:above", "2:f:above=2", "1:w:mid", "2:f:mid=2",
	      /* inside a merged directory */
	      "0:f:d/a=0", "0:w:d/b", "2:f:d/b=2", "2:f:d/c=2");
	MOUNT(3, NULL);
	EXPECT_STREQ("<ENOENT>", st_ltype(U("gone")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("gonedir")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("gonedir/x")));
	EXPECT_STREQ("1", st_cat(U("other")));
	EXPECT_STREQ("0", st_cat(U("above")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("mid")));
	EXPECT_STREQ("0", st_cat(U("d/a")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/b")));
	EXPECT_STREQ("2", st_cat(U("d/c")));
}

TEST_F(lk, whiteout_overlay)
{
	BUILD("0:W:gone", "0:W:gonedir", "1:f:gone=1", "1:f:gonedir/x=1",
	      "1:f:other=1", "0:f:above=0", "1:W:above", "2:f:above=2",
	      "0:f:d/a=0", "0:W:d/b", "2:f:d/b=2", "2:f:d/c=2",
	      /* only 0/0 is a whiteout; another char device is a file */
	      "0:c:null=1,3", "1:f:null=1");
	MOUNT(3, NULL);
	EXPECT_STREQ("<ENOENT>", st_ltype(U("gone")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("gonedir/x")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("gonedir")));
	EXPECT_STREQ("1", st_cat(U("other")));
	EXPECT_STREQ("0", st_cat(U("above")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/b")));
	EXPECT_STREQ("2", st_cat(U("d/c")));
	EXPECT_STREQ("c", st_ltype(U("null")));
}

/* whiteout=overlay selects what strata writes; both formats are read. */
TEST_F(lk, whiteout_option_reads_both)
{
	BUILD("0:w:a", "0:W:b", "1:f:a=1", "1:f:b=1", "1:f:c=1");
	MOUNT(2, "whiteout=overlay");
	EXPECT_STREQ("<ENOENT>", st_ltype(U("a")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("b")));
	EXPECT_STREQ("1", st_cat(U("c")));
}

/*
 * OCI rule: NAME next to .wh.NAME in the same layer is that layer's new
 * entry.  It stays visible, and as a directory it does not merge with the
 * lower NAME the whiteout removed.
 */
TEST_F(lk, whiteout_same_branch)
{
	BUILD("0:w:f", "0:f:f=top", "1:f:f=low",
	      "0:w:g", "0:f:g/own=0", "1:f:g/other=1",
	      "1:w:h", "1:f:h=mid", "2:f:h=low");
	MOUNT(3, NULL);
	EXPECT_STREQ("top", st_cat(U("f")));
	EXPECT_STREQ("d", st_ltype(U("g")));
	EXPECT_STREQ("0", st_cat(U("g/own")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("g/other")));
	EXPECT_STREQ("mid", st_cat(U("h")));
}

TEST_F(lk, opaque_aufs)
{
	BUILD("0:o:d", "0:f:d/a=0", "1:f:d/a=1", "1:f:d/b=1", "2:f:d/c=2",
	      /* opaque in the middle: above merges, below is cut off */
	      "0:f:e/x=0", "1:o:e", "1:f:e/y=1", "2:f:e/z=2");
	MOUNT(3, NULL);
	EXPECT_STREQ("0", st_cat(U("d/a")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/b")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/c")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/.wh..wh..opq")));
	EXPECT_STREQ("0", st_cat(U("e/x")));
	EXPECT_STREQ("1", st_cat(U("e/y")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("e/z")));
}

TEST_F(lk, opaque_xattr)
{
	BUILD("0:O:d", "0:f:d/a=0", "1:f:d/a=1", "1:f:d/b=1",
	      "0:f:e/x=0", "1:O:e", "1:f:e/y=1", "2:f:e/z=2");
	/* Only "y" means opaque. */
	BUILD("0:d:n", "0:f:n/a=0", "1:f:n/b=1");
	ASSERT_EQ(0, setxattr(st_fmt("%s/n", self->l[0]), "trusted.overlay.opaque", "n", 1, 0));
	MOUNT(3, NULL);
	EXPECT_STREQ("0", st_cat(U("d/a")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/b")));
	EXPECT_STREQ("0", st_cat(U("e/x")));
	EXPECT_STREQ("1", st_cat(U("e/y")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("e/z")));
	EXPECT_STREQ("1", st_cat(U("n/b")));
}

/* userxattr: user.overlay.opaque counts, trusted.overlay.opaque does not. */
TEST_F(lk, opaque_userxattr)
{
	if (!st_user_xattr_ok(self->dir))
		SKIP(return, "%s has no user xattrs", variant->fs);
	BUILD("0:U:u", "0:f:u/a=0", "1:f:u/b=1",
	      "0:O:t", "0:f:t/a=0", "1:f:t/b=1");
	MOUNT(2, NULL);
	EXPECT_STREQ("1", st_cat(U("u/b")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("t/b")));
	ASSERT_EQ(0, st_umount(self->mnt));

	MOUNT(2, "userxattr");
	EXPECT_STREQ("<ENOENT>", st_ltype(U("u/b")));
	EXPECT_STREQ("0", st_cat(U("u/a")));
	EXPECT_STREQ("1", st_cat(U("t/b")));
}

TEST_F(lk, file_over_dir)
{
	BUILD("0:f:x=0", "1:f:x/y=1", "0:l:s=elsewhere", "1:f:s/y=1");
	MOUNT(2, NULL);
	EXPECT_STREQ("f", st_ltype(U("x")));
	EXPECT_STREQ("0", st_cat(U("x")));
	EXPECT_STREQ("<ENOTDIR>", st_ltype(U("x/y")));
	EXPECT_STREQ("l", st_ltype(U("s")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("s/y")));
}

TEST_F(lk, dir_over_file)
{
	/* The file in l1 ends the merge: l2's x/z stays hidden. */
	BUILD("0:f:x/y=0", "1:f:x=1", "2:f:x/z=2",
	      "0:f:w/a=0", "1:f:w/b=1", "2:f:w/c=2");
	MOUNT(3, NULL);
	EXPECT_STREQ("d", st_ltype(U("x")));
	EXPECT_STREQ("0", st_cat(U("x/y")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("x/z")));
	EXPECT_STREQ("a:f,b:f,c:f", st_ls(U("w")));
	EXPECT_STREQ("y:f", st_ls(U("x")));
}

/* Five levels of directories merged over eight layers. */
TEST_F(lk, deep_nesting)
{
	static const char *const level[] = { "a", "a/b", "a/b/c", "a/b/c/d", "a/b/c/d/e" };
	const char *deep = "a/b/c/d/e";
	struct stat s1, s2;
	int i;

	for (i = 0; i < 8; i++) {
		BUILD(st_fmt("%d:f:%s/f%d=%d", i, deep, i, i),
		      st_fmt("%d:f:%s/g%d=%d", i, level[i % 5], i, i));
		if (i >= 3)
			BUILD(st_fmt("%d:f:%s/common=L%d", i, deep, i));
	}
	BUILD(st_fmt("2:w:%s/f5", deep), st_fmt("4:W:%s/f6", deep), "6:o:a/b/c");
	MOUNT(8, NULL);
	for (i = 0; i < 5; i++) {
		EXPECT_STREQ(st_fmt("%d", i), st_cat(U(st_fmt("%s/f%d", deep, i))));
	}
	EXPECT_STREQ("<ENOENT>", st_ltype(U(st_fmt("%s/f5", deep))));	/* aufs whiteout */
	EXPECT_STREQ("<ENOENT>", st_ltype(U(st_fmt("%s/f6", deep))));	/* overlay whiteout */
	EXPECT_STREQ("<ENOENT>", st_ltype(U(st_fmt("%s/f7", deep))));	/* under opaque a/b/c */
	for (i = 0; i < 7; i++) {
		EXPECT_STREQ(st_fmt("%d", i), st_cat(U(st_fmt("%s/g%d", level[i % 5], i))));
	}
	EXPECT_STREQ("<ENOENT>", st_ltype(U("a/b/c/g7")));
	EXPECT_STREQ("L3", st_cat(U(st_fmt("%s/common", deep))));
	EXPECT_STREQ("common:f,f0:f,f1:f,f2:f,f3:f,f4:f,g4:f", st_ls(U(deep)));
	ASSERT_EQ(0, stat(U("a/b/c/.."), &s1));
	ASSERT_EQ(0, stat(U("a/b"), &s2));
	EXPECT_EQ(s2.st_ino, s1.st_ino);
	EXPECT_EQ(s2.st_dev, s1.st_dev);
}

TEST_F(lk, reserved_names)
{
	BUILD("0:w:orphan", "0:f:.wh.=x", "0:o:d", "0:f:d/k=0",
	      "1:d:.wh.dir", "1:f:.wh.dir/x=1", "1:f:.wh..wh.plnk=1", "1:f:plain=1");
	MOUNT(2, NULL);
	EXPECT_STREQ("<ENOENT>", st_ltype(U(".wh.orphan")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("orphan")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U(".wh.")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("d/.wh..wh..opq")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U(".wh.dir")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U(".wh.dir/x")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U(".wh..wh.plnk")));
	EXPECT_EQ(-1, open(U(".wh.orphan"), O_RDONLY));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_STREQ("1", st_cat(U("plain")));
	EXPECT_STREQ("d:d,plain:f", st_ls(self->mnt));
}

TEST_F(lk, special_types)
{
	struct stat st;
	char buf[64];
	ssize_t n;
	int fd;

	BUILD("1:l:sl=target/path", "1:p:fifo", "1:s:sock", "1:c:cdev=1,3", "1:b:bdev=7,0",
	      "0:l:rel=file", "1:f:file=F", "0:l:dangle=nonexistent", "1:d:sub",
	      "0:l:up=sub/../file");
	MOUNT(2, NULL);
	EXPECT_STREQ("l", st_ltype(U("sl")));
	EXPECT_STREQ("p", st_ltype(U("fifo")));
	EXPECT_STREQ("s", st_ltype(U("sock")));
	EXPECT_STREQ("c", st_ltype(U("cdev")));
	EXPECT_STREQ("b", st_ltype(U("bdev")));
	n = readlink(U("sl"), buf, sizeof(buf));
	ASSERT_EQ(11, n);
	EXPECT_EQ(0, memcmp(buf, "target/path", 11));
	ASSERT_EQ(0, lstat(U("sl"), &st));
	EXPECT_EQ(11, st.st_size);
	ASSERT_EQ(0, lstat(U("cdev"), &st));
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	ASSERT_EQ(0, lstat(U("bdev"), &st));
	EXPECT_EQ(makedev(7, 0), st.st_rdev);
	/* Relative links resolve inside the union, across layers. */
	EXPECT_STREQ("F", st_cat(U("rel")));
	EXPECT_STREQ("F", st_cat(U("up")));
	EXPECT_STREQ("l", st_ltype(U("dangle")));
	EXPECT_EQ(-1, stat(U("dangle"), &st));
	EXPECT_EQ(ENOENT, errno);
	fd = open(U("fifo"), O_RDONLY | O_NONBLOCK);
	EXPECT_LE(0, fd) TH_LOG("open fifo: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

TEST_F(lk, attributes_pass_through)
{
	struct timespec ts[2] = { { 1000000000, 5 }, { 1234567890, 123456789 } };
	const char *real = strdup(st_fmt("%s/f", self->l[1]));
	struct stat st, rs;

	BUILD("1:f:f=data", "0:d:m", "1:d:m", "1:d:low");
	ASSERT_EQ(0, chown(real, 1234, 5678));
	ASSERT_EQ(0, chmod(real, 0640));
	ASSERT_EQ(0, utimensat(AT_FDCWD, real, ts, 0));
	ASSERT_EQ(0, chmod(st_fmt("%s/m", self->l[0]), 0711));
	ASSERT_EQ(0, chmod(st_fmt("%s/m", self->l[1]), 0755));
	ASSERT_EQ(0, chmod(st_fmt("%s/low", self->l[1]), 0700));
	ASSERT_EQ(0, stat(real, &rs));
	MOUNT(2, NULL);
	ASSERT_EQ(0, stat(U("f"), &st));
	EXPECT_EQ(S_IFREG | 0640, st.st_mode);
	EXPECT_EQ(1234, st.st_uid);
	EXPECT_EQ(5678, st.st_gid);
	EXPECT_EQ(4, st.st_size);
	EXPECT_EQ(rs.st_blocks, st.st_blocks);
	/* Compared with the branch: small ext4 images keep no nanoseconds. */
	EXPECT_EQ(rs.st_mtim.tv_sec, st.st_mtim.tv_sec);
	EXPECT_EQ(rs.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	EXPECT_EQ(rs.st_ctim.tv_sec, st.st_ctim.tv_sec);
	EXPECT_EQ(rs.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
	/* A merged directory shows its topmost directory's attributes. */
	ASSERT_EQ(0, stat(U("m"), &st));
	EXPECT_EQ(S_IFDIR | 0711, st.st_mode);
	ASSERT_EQ(0, stat(U("low"), &st));
	EXPECT_EQ(S_IFDIR | 0700, st.st_mode);
}

TEST_HARNESS_MAIN
