// SPDX-License-Identifier: GPL-2.0
/*
 * The credentials model of a writable union (design.md §4, issue 3): the
 * caller is checked against the union view, the branch work is done as
 * the mounter (root here), new objects belong to the caller, and
 * set-user-ID/set-group-ID bits go as on any filesystem.  An unprivileged
 * user must not be able to change through the union what the view
 * forbids, and nothing a refused or read-only access does may leave a
 * trace in the rw branch.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define WORK ".wh..wh.work"
#define USER 1000
#define LS(dir) (st_ls(dir) ?: st_fmt("<%s>", strerrorname_np(errno)))

/* ---- local helpers (writable-union tests) ---- */

/* "mode uid:gid" of a path, e.g. "4755 1000:1000", or "<ENAME>". */
static const char *owner_mode(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return st_fmt("<%s>", strerrorname_np(errno));
	return st_fmt("%o %u:%u", st.st_mode & 07777, st.st_uid, st.st_gid);
}

/* ---- fixture ---- */

FIXTURE(perm) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
	bool userx;
	char ph[16];		/* fs.protected_hardlinks to restore */
};

FIXTURE_VARIANT(perm) {
	const char *fs;
};

ST_FS_VARIANTS(perm);

static const char *const base[] = {
	"1:f:rootfile=root data", "1:f:secret=secret", "1:m:secret=600",
	"1:f:rootdir/f=f", "1:f:rootdir/userfile=uf", "1:f:privdir/f=p",
	"1:m:privdir=700", "1:f:sticky/rootowned=r", "1:f:sticky/userowned=u",
	"1:m:sticky=1777", "1:f:mine=mine", "1:f:mygrp=mygrp", "1:d:sgiddir",
	"1:f:suid=suid", "1:f:suid2=suid2", "1:f:sgid=sgid", "1:f:rsuid=rsuid",
	"1:f:rsgid=rsgid", "1:l:sl=rootfile",
	NULL
};

FIXTURE_SETUP(perm)
{
	static const struct { const char *path; uid_t uid; gid_t gid; mode_t mode; } own[] = {
		{ "rootdir/userfile", USER, USER, 0644 },
		{ "sticky/userowned", USER, USER, 0644 },
		{ "mine", USER, USER, 0644 },
		{ "mygrp", USER, 2000, 0644 },
		{ "sgiddir", 0, 2000, 02777 },
		{ "suid", USER, USER, 04755 },
		{ "suid2", USER, USER, 04755 },
		{ "sgid", USER, USER, 02775 },
		{ "rsuid", 0, 0, 04755 },
		{ "rsgid", 0, 0, 02755 },
	};
	unsigned int i;

	ST_PREPARE(variant->fs, "perm", self->dir);
	self->l = st_make_layers(self->dir, 2);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_build(self->dir, base));
	for (i = 0; i < ARRAY_SIZE(own); i++) {
		const char *p = st_fmt("%s/%s", self->l[1], own[i].path);

		ST_OK(chown(p, own[i].uid, own[i].gid));
		ST_OK(chmod(p, own[i].mode));
	}
	self->userx = st_user_xattr_ok(self->l[1]);
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 1, NULL))
		TH_LOG("mount: %s", strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(perm)
{
	if (self->ph[0]) {
		int fd = open("/proc/sys/fs/protected_hardlinks", O_WRONLY);

		if (fd >= 0) {
			if (write(fd, self->ph, strlen(self->ph)) < 0)
				perror("protected_hardlinks");
			close(fd);
		}
	}
	st_cleanup(self->dir);
}

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)
#define LOW(rel) st_fmt("%s/%s", self->l[1], rel)

/* Everything the union view forbids stays forbidden, and leaves no trace. */
TEST_F(perm, unprivileged_refused)
{
	struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	struct vfs_cap_data cap = {
		.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
		.data = { { .permitted = 1u << CAP_NET_RAW }, { 0, 0 } },
	};
	char *ph = st_slurp("/proc/sys/fs/protected_hardlinks", NULL);
	int fd;

	/* The teardown puts it back, even after a failed ASSERT. */
	snprintf(self->ph, sizeof(self->ph), "%s", ph ? ph : "0");
	free(ph);

	/* Hard-link protection judges the union inode, as on any fs. */
	fd = open("/proc/sys/fs/protected_hardlinks", O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "1", 1));
	close(fd);

	AS_USER(USER, {
		FAILS(EACCES, open(U("rootfile"), O_WRONLY));
		FAILS(EACCES, open(U("rootfile"), O_RDWR | O_APPEND));
		FAILS(EACCES, open(U("rootfile"), O_RDONLY | O_TRUNC));
		FAILS(EACCES, truncate(U("rootfile"), 0));
		FAILS(EACCES, access(U("rootfile"), W_OK));
		FAILS(EPERM, chmod(U("rootfile"), 0666));
		FAILS(EPERM, chown(U("rootfile"), USER, USER));
		FAILS(EPERM, lchown(U("sl"), USER, USER));
		FAILS(EPERM, chown(U("mine"), 0, -1));
		FAILS(EPERM, chown(U("mine"), -1, 0));
		FAILS(EACCES, utimensat(AT_FDCWD, U("rootfile"), NULL, 0));
		FAILS(EPERM, utimensat(AT_FDCWD, U("rootfile"), ts, 0));
		FAILS(EACCES, setxattr(U("rootfile"), "user.x", "1", 1, 0));
		FAILS(EPERM, setxattr(U("mine"), "trusted.x", "1", 1, 0));
		FAILS(EPERM, removexattr(U("mine"), "trusted.x"));
		FAILS(EPERM, setxattr(U("mine"), "security.capability", &cap, XATTR_CAPS_SZ_2, 0));
		FAILS(EACCES, unlink(U("rootdir/f")));
		FAILS(EACCES, unlink(U("rootdir/userfile")));
		FAILS(EACCES, rmdir(U("rootdir")));
		FAILS(EACCES, rename(U("rootdir/f"), U("sticky/f")));
		FAILS(EACCES, rename(U("rootfile"), U("rootfile2")));
		FAILS(EACCES, mkdir(U("rootdir/new"), 0755));
		FAILS(EACCES, open(U("rootdir/new"), O_WRONLY | O_CREAT, 0644));
		FAILS(EACCES, open(U("rootdir"), O_TMPFILE | O_RDWR, 0600));
		FAILS(EACCES, symlink("x", U("rootdir/sl")));
		FAILS(EACCES, mknod(U("rootdir/fifo"), S_IFIFO | 0644, 0));
		FAILS(EACCES, link(U("mine"), U("rootdir/l")));
		FAILS(EPERM, link(U("rootfile"), U("sticky/hardlink")));
		FAILS(EACCES, open(U("secret"), O_RDONLY));
		FAILS(EACCES, opendir(U("privdir")) ? 0 : -1);
		FAILS(EACCES, open(U("privdir/f"), O_RDONLY));
		FAILS(EPERM, unlink(U("sticky/rootowned")));
		FAILS(EPERM, rename(U("sticky/rootowned"), U("sticky/mine")));
		FAILS(EPERM, renameat2(AT_FDCWD, U("sticky/userowned"), AT_FDCWD,
				       U("sticky/rootowned"), RENAME_EXCHANGE));
		/* Reading is allowed and changes nothing. */
		EXPECT_STREQ("root data", st_cat(U("rootfile")));
		EXPECT_STREQ("f", st_cat(U("rootdir/f")));
	});
	AS_USER(ST_NOBODY, {
		FAILS(EACCES, open(U("mine"), O_WRONLY));
		FAILS(EPERM, chmod(U("mine"), 0777));
		FAILS(EACCES, unlink(U("mine")));
		FAILS(EPERM, unlink(U("sticky/userowned")));
	});

	/* Not a single copy-up or whiteout. */
	EXPECT_STREQ("", st_ls_nowork(self->l[0]));
	EXPECT_STREQ("", LS(UP(WORK)));
	EXPECT_STREQ("644 0:0", owner_mode(LOW("rootfile")));
	EXPECT_STREQ("root data", st_cat(U("rootfile")));
	EXPECT_STREQ("f:f,userfile:f", LS(U("rootdir")));
}

/* What the view allows works, done by the mounter, owned by the caller. */
TEST_F(perm, unprivileged_allowed)
{
	bool userx = self->userx;

	AS_USER(USER, {
		int fd = open(U("sticky/newfile"), O_WRONLY | O_CREAT | O_EXCL, 0666);

		EXPECT_LE(0, fd);
		EXPECT_EQ(3, write(fd, "new", 3));
		close(fd);
		EXPECT_EQ(0, mkdir(U("sticky/newdir"), 0777));
		EXPECT_EQ(0, symlink("newfile", U("sticky/newsl")));
		EXPECT_EQ(0, mknod(U("sticky/newfifo"), S_IFIFO | 0600, 0));
		/* Own lower file: write, chmod, chgrp, utimes, xattr. */
		fd = open(U("mine"), O_WRONLY | O_APPEND);
		EXPECT_LE(0, fd);
		EXPECT_EQ(1, write(fd, "!", 1));
		close(fd);
		EXPECT_EQ(0, chmod(U("mine"), 0640));
		EXPECT_EQ(0, chown(U("mine"), -1, USER));
		EXPECT_EQ(0, utimensat(AT_FDCWD, U("mine"), NULL, 0));
		if (userx)
			EXPECT_EQ(0, setxattr(U("mine"), "user.u", "u", 1, 0));
		/* Own file in a directory the user cannot write: copy-up is the mounter's. */
		fd = open(U("rootdir/userfile"), O_WRONLY | O_TRUNC);
		EXPECT_LE(0, fd);
		EXPECT_EQ(2, write(fd, "u2", 2));
		close(fd);
		/* Removing and renaming own entries in the sticky directory. */
		EXPECT_EQ(0, unlink(U("sticky/userowned")));
		EXPECT_EQ(0, rename(U("sticky/newfile"), U("sticky/renamed")));
		/* A set-group-ID directory hands down its group. */
		fd = open(U("sgiddir/f"), O_WRONLY | O_CREAT, 0644);
		EXPECT_LE(0, fd);
		close(fd);
		EXPECT_EQ(0, mkdir(U("sgiddir/sd"), 0755));
		/* O_TMPFILE, linked in. */
		fd = open(U("sticky"), O_TMPFILE | O_RDWR, 0600);
		EXPECT_LE(0, fd);
		EXPECT_EQ(1, write(fd, "t", 1));
		EXPECT_EQ(0, linkat(AT_FDCWD, st_fmt("/proc/self/fd/%d", fd), AT_FDCWD,
				    U("sticky/tmp"), AT_SYMLINK_FOLLOW));
		close(fd);
	});

	/* Objects are the caller's, in the union and in the rw branch. */
	EXPECT_STREQ("644 1000:1000", owner_mode(U("sticky/renamed")));
	EXPECT_STREQ("644 1000:1000", owner_mode(UP("sticky/renamed")));
	EXPECT_STREQ("755 1000:1000", owner_mode(UP("sticky/newdir")));
	EXPECT_STREQ("777 1000:1000", owner_mode(UP("sticky/newsl")));
	EXPECT_STREQ("600 1000:1000", owner_mode(UP("sticky/newfifo")));
	EXPECT_STREQ("600 1000:1000", owner_mode(UP("sticky/tmp")));
	EXPECT_STREQ("640 1000:1000", owner_mode(UP("mine")));
	EXPECT_STREQ("mine!", st_cat(UP("mine")));
	EXPECT_STREQ("644 1000:1000", owner_mode(UP("rootdir/userfile")));
	EXPECT_STREQ("u2", st_cat(U("rootdir/userfile")));
	EXPECT_STREQ("755 0:0", owner_mode(UP("rootdir")));
	EXPECT_STREQ("644 1000:2000", owner_mode(UP("sgiddir/f")));
	EXPECT_STREQ("2755 1000:2000", owner_mode(UP("sgiddir/sd")));
	EXPECT_STREQ("<ENOENT>", st_ltype(U("sticky/userowned")));
	EXPECT_STREQ("newdir:d,newfifo:p,newsl:l,renamed:f,rootowned:f,tmp:f",
		     LS(U("sticky")));
	/* The lower branch is untouched. */
	EXPECT_STREQ("644 1000:1000", owner_mode(LOW("mine")));
	EXPECT_STREQ("mine", st_cat(LOW("mine")));
	EXPECT_STREQ("1777 0:0", owner_mode(LOW("sticky")));
	EXPECT_STREQ("", LS(UP(WORK)));
}

/* Set-user-ID and set-group-ID bits, as on any Linux filesystem. */
TEST_F(perm, setid_bits)
{
	int fd;

	AS_USER(USER, {
		int wfd = open(U("suid"), O_WRONLY | O_APPEND);

		EXPECT_LE(0, wfd);
		EXPECT_EQ(1, write(wfd, "+", 1));
		close(wfd);
		wfd = open(U("sgid"), O_WRONLY | O_APPEND);
		EXPECT_LE(0, wfd);
		EXPECT_EQ(1, write(wfd, "+", 1));
		close(wfd);
		EXPECT_EQ(0, truncate(U("suid2"), 1));
		/* Not in group 2000: the set-group-ID bit is not granted. */
		EXPECT_EQ(0, chmod(U("mygrp"), 02755));
		/* Own file: set-user-ID may be set. */
		EXPECT_EQ(0, chmod(U("mine"), 04755));
	});
	EXPECT_STREQ("755 1000:1000", owner_mode(U("suid")));
	EXPECT_STREQ("755 1000:1000", owner_mode(UP("suid")));
	EXPECT_STREQ("775 1000:1000", owner_mode(U("sgid")));
	EXPECT_STREQ("775 1000:1000", owner_mode(UP("sgid")));
	EXPECT_STREQ("755 1000:1000", owner_mode(UP("suid2")));
	EXPECT_STREQ("755 1000:2000", owner_mode(UP("mygrp")));
	EXPECT_STREQ("4755 1000:1000", owner_mode(UP("mine")));

	/* root (CAP_FSETID) writes and keeps the bits. */
	fd = open(U("rsuid"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "+", 1));
	close(fd);
	EXPECT_STREQ("4755 0:0", owner_mode(U("rsuid")));
	/* chown drops them for non-directories, even by root. */
	ST_OK(chown(U("rsuid"), USER, USER));
	EXPECT_STREQ("755 1000:1000", owner_mode(U("rsuid")));
	EXPECT_STREQ("755 1000:1000", owner_mode(UP("rsuid")));
	ST_OK(chown(U("rsgid"), 0, USER));	/* lower file: copy-up + chown */
	EXPECT_STREQ("755 0:1000", owner_mode(U("rsgid")));
	EXPECT_STREQ("755 0:1000", owner_mode(UP("rsgid")));
	EXPECT_STREQ("4755 0:0", owner_mode(LOW("rsuid")));
	EXPECT_STREQ("4755 1000:1000", owner_mode(LOW("suid")));
	EXPECT_STREQ("", LS(UP(WORK)));
}

/* Read-only access by anyone never creates anything in the rw branch. */
TEST_F(perm, read_only_access_leaves_no_trace)
{
	static const uid_t who[] = { 0, USER, ST_NOBODY };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(who); i++) {
		AS_USER(who[i], {
			static const char *const files[] = {
				"rootfile", "mine", "rootdir/f", "sticky/rootowned",
				"suid", "sl", NULL
			};
			struct stat st;
			char buf[64];
			int k;

			for (k = 0; files[k]; k++) {
				int rfd = open(U(files[k]), O_RDONLY);

				EXPECT_LE(0, rfd) TH_LOG("%s", files[k]);
				EXPECT_LT(0, read(rfd, buf, sizeof(buf)));
				EXPECT_EQ(0, fstat(rfd, &st));
				close(rfd);
				EXPECT_EQ(0, access(U(files[k]), R_OK));
				getxattr(U(files[k]), "user.none", buf, sizeof(buf));
			}
			EXPECT_NE(NULL, st_ls(self->mnt));
			EXPECT_NE(NULL, st_ls(U("sticky")));
			EXPECT_EQ(8, readlink(U("sl"), buf, sizeof(buf)));
			/* Write attempts that fail for this user change nothing. */
			if (who[i] != 0) {
				open(U("rootfile"), O_WRONLY);
				chmod(U("secret"), 0644);
				unlink(U("rootdir/f"));
			}
		});
	}
	EXPECT_STREQ("", st_ls_nowork(self->l[0]));
	EXPECT_STREQ("", LS(UP(WORK)));
}

TEST_HARNESS_MAIN
