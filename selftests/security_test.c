// SPDX-License-Identifier: GPL-2.0
/*
 * Attacks by an unprivileged user (tester, 1000) that perm_test does not
 * cover: forging branch-format names and strata's private xattrs through
 * the union, reading another user's secret during and after its copy-up,
 * swapping a parent for a symlink while copy-ups run below it, and the
 * control channel's (future) changing commands.  Each attempt must be
 * refused and leave no trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"
#include "nl_client.h"
#include "../uapi/linux/strata.h"

#define USER 1000
#define OTHER 2000
#define WORK ".wh..wh.work"
#define SECRET "top secret"

/* In a child: drop to @uid for good, or give up. */
static void become(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(99);
}

FIXTURE(sec) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
};

FIXTURE_VARIANT(sec) {
	const char *wh;
};

FIXTURE_VARIANT_ADD(sec, aufs) { .wh = "aufs" };
FIXTURE_VARIANT_ADD(sec, overlay) { .wh = "overlay" };

FIXTURE_SETUP(sec)
{
	static const char *const base[] = {
		"1:d:pub", "1:m:pub=1777",
		"1:f:pub/victim=victim", "1:f:pub/mine=mine",
		"1:d:pub/a/b", "1:d:pub/dir",
		"1:f:secret=" SECRET, "1:m:secret=600",
		"1:f:pub/rootsuid=#!/bin/sh", "1:m:pub/rootsuid=6777",
		"1:f:pub/rootsuid2=#!/bin/sh", "1:m:pub/rootsuid2=6777",
		NULL,
	};
	int i;

	ST_PREPARE(NULL, "security", self->dir);
	self->l = st_make_layers(self->dir, 2);
	ASSERT_NE(NULL, self->l);
	ASSERT_EQ(0, st_build(self->dir, base));
	ASSERT_EQ(0, chown(st_fmt("%s/pub/mine", self->l[1]), USER, USER));
	ASSERT_EQ(0, chown(st_fmt("%s/pub/dir", self->l[1]), USER, USER));
	ASSERT_EQ(0, chown(st_fmt("%s/pub/a", self->l[1]), USER, USER));
	ASSERT_EQ(0, chown(st_fmt("%s/pub/a/b", self->l[1]), USER, USER));
	ASSERT_EQ(0, chown(st_fmt("%s/secret", self->l[1]), OTHER, OTHER));
	/* Files an attacker may try to redirect copy-ups away from. */
	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, st_put(st_fmt("%s/pub/a/b/f%d", self->l[1], i),
				    st_fmt("content %d", i)));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/outside", self->dir)));
	ASSERT_EQ(0, chmod(st_fmt("%s/outside", self->dir), 0777));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	snprintf(self->mnt, sizeof(self->mnt), "%.4000s/mnt", self->dir);
	ASSERT_EQ(0, st_mkdirs(self->mnt));
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 1,
				 st_fmt("whiteout=%s", variant->wh)))
		TH_LOG("mount: %s", strerror(errno));
}

ST_TEARDOWN(sec);

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define UP(rel) st_fmt("%s/%s", self->l[0], rel)

/* ".wh." names are the branch format: nobody may make one through the union. */
TEST_F(sec, forge_branch_names)
{
	uid_t who[] = { USER, 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(who); i++) {
		AS_USER(who[i], {
			FAILS(EPERM, open(U("pub/.wh.victim"), O_WRONLY | O_CREAT, 0644));
			FAILS(EPERM, open(U("pub/.wh..wh..opq"), O_WRONLY | O_CREAT, 0644));
			FAILS(EPERM, mkdir(U("pub/.wh.victim"), 0755));
			FAILS(EPERM, mkdir(U("pub/.wh..wh.work"), 0755));
			FAILS(EPERM, symlink("x", U("pub/.wh.victim")));
			FAILS(EPERM, mknod(U("pub/.wh.victim"), S_IFIFO | 0644, 0));
			FAILS(EPERM, rename(U("pub/mine"), U("pub/.wh.victim")));
			FAILS(EPERM, rename(U("pub/dir"), U("pub/.wh..wh..opq")));
			/* Looking such a name up finds nothing, even as root. */
			FAILS(ENOENT, access(U("pub/.wh..wh..opq"), F_OK));
			FAILS(ENOENT, access(U(WORK), F_OK));
		});
	}
	/* Nothing hidden, nothing written. */
	EXPECT_STREQ("victim", st_cat(U("pub/victim")));
	EXPECT_STREQ("mine", st_cat(U("pub/mine")));
	EXPECT_STREQ("", st_ls_nowork(self->l[0]));

	/* link() judges the name before it copies its source up. */
	AS_USER(USER, {
		FAILS(EPERM, link(U("pub/mine"), U("pub/.wh.victim")));
		FAILS(EPERM, link(U("pub/mine"), U("pub/.wh..wh..opq")));
	});
	EXPECT_STREQ("victim", st_cat(U("pub/victim")));
	EXPECT_STREQ("", st_ls_nowork(self->l[0]));
}

/* strata's own xattrs are not settable, removable or readable through it. */
TEST_F(sec, private_xattrs)
{
	static const char *const names[] = {
		"trusted.strata.redirect", "trusted.strata.ino", "trusted.strata.impure",
		"trusted.overlay.opaque", "trusted.overlay.redirect",
	};
	static const char *const unames[] = {
		"user.strata.redirect", "user.strata.ino", "user.overlay.opaque",
		"user.overlay.whiteout",
	};
	unsigned int i;

	ASSERT_EQ(0, lsetxattr(st_fmt("%s/pub/dir", self->l[1]), "trusted.strata.ino",
			       "12345678", 8, 0));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		FAILS(EPERM, setxattr(U("pub/dir"), names[i], "/secret", 7, 0));
		FAILS(EPERM, removexattr(U("pub/dir"), names[i]));
		FAILS(ENODATA, getxattr(U("pub/dir"), names[i], NULL, 0));
	}
	AS_USER(USER, {
		for (i = 0; i < ARRAY_SIZE(unames); i++) {
			FAILS(EPERM, setxattr(U("pub/dir"), unames[i], "/", 1, 0));
			FAILS(EPERM, setxattr(U("pub/mine"), unames[i], "y", 1, 0));
			FAILS(ENODATA, getxattr(U("pub/dir"), unames[i], NULL, 0));
		}
		FAILS(EPERM, setxattr(U("pub/dir"), "trusted.strata.redirect", "/", 1, 0));
	});
	/* Refused before any copy-up: the rw branch is still empty. */
	EXPECT_STREQ("", st_ls_nowork(self->l[0]));
}

/*
 * A root-owned set-user-ID file that anyone may write: writing it through
 * the union (the copy-up is done as the mounter, root) must still drop
 * the bits, or tester could plant a root shell.
 */
TEST_F(sec, foreign_setid_dropped)
{
	struct stat sb;

	AS_USER(USER, {
		int fd = open(U("pub/rootsuid"), O_WRONLY | O_APPEND);

		EXPECT_LE(0, fd);
		EXPECT_EQ(1, write(fd, "\n", 1));
		close(fd);
		fd = open(U("pub/rootsuid2"), O_RDWR);
		EXPECT_LE(0, fd);
		EXPECT_EQ(0, ftruncate(fd, 2));
		close(fd);
	});
	ASSERT_EQ(0, stat(U("pub/rootsuid"), &sb));
	EXPECT_EQ(0777, sb.st_mode & 07777) TH_LOG("mode %o", sb.st_mode & 07777);
	ASSERT_EQ(0, stat(UP("pub/rootsuid"), &sb));
	EXPECT_EQ(0777, sb.st_mode & 07777) TH_LOG("rw branch: mode %o", sb.st_mode & 07777);
	EXPECT_EQ(0, (int)sb.st_uid);
	ASSERT_EQ(0, stat(U("pub/rootsuid2"), &sb));
	EXPECT_EQ(0777, sb.st_mode & 07777) TH_LOG("mode %o", sb.st_mode & 07777);
	EXPECT_EQ(2, sb.st_size);
	/* The lower file keeps its bits. */
	ASSERT_EQ(0, stat(st_fmt("%s/pub/rootsuid", self->l[1]), &sb));
	EXPECT_EQ(06777, sb.st_mode & 07777);
}

/* A 0600 file of another user stays unreadable during and after copy-up. */
TEST_F(sec, secret_survives_copy_up)
{
	char big[65536];
	pid_t spy;
	int fd, i, st;

	/* Grow the secret so that its copy takes a while. */
	memset(big, 'S', sizeof(big));
	fd = open(st_fmt("%s/secret", self->l[1]), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	for (i = 0; i < 128; i++)
		ASSERT_EQ((ssize_t)sizeof(big), write(fd, big, sizeof(big)));
	close(fd);

	/* The spy tries every name the copy may pass through. */
	spy = fork();
	ASSERT_LE(0, spy);
	if (!spy) {
		become(USER);
		for (;;) {
			const char *paths[] = { U("secret"), UP("secret"), UP(WORK) };
			unsigned int k;

			for (k = 0; k < ARRAY_SIZE(paths); k++) {
				fd = open(paths[k], O_RDONLY);
				if (fd >= 0 && k < 2)
					_exit(1);	/* read access to the secret */
				if (fd >= 0)
					close(fd);
			}
		}
	}
	/* The mounter's copy-up: a metadata change by the owner's admin. */
	ASSERT_EQ(0, chmod(U("secret"), 0600));
	fd = open(U("secret"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "!", 1));
	close(fd);
	usleep(200000);
	kill(spy, SIGKILL);
	ASSERT_EQ(spy, waitpid(spy, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st)) TH_LOG("the spy read the secret (status %#x)", st);

	AS_USER(USER, {
		FAILS(EACCES, open(U("secret"), O_RDONLY));
		FAILS(EACCES, open(UP("secret"), O_RDONLY));
		/* Nor can the spy plant anything in the work directory. */
		FAILS(EACCES, open(UP(WORK "/x"), O_WRONLY | O_CREAT, 0644));
	});
	{
		struct stat sb;

		ASSERT_EQ(0, stat(UP("secret"), &sb));
		EXPECT_EQ(0600, sb.st_mode & 07777);
		EXPECT_EQ(OTHER, (int)sb.st_uid);
	}
}

/*
 * While copy-ups run below pub/a, the owner of pub/a swaps it for a
 * symlink to a directory outside the union, hoping the copies land there.
 */
TEST_F(sec, parent_swapped_for_symlink)
{
	const char *outside = strdup(st_fmt("%s/outside", self->dir));
	pid_t swapper;
	int i, fd, st, moved = 0;

	swapper = fork();
	ASSERT_LE(0, swapper);
	if (!swapper) {
		become(USER);
		for (;;) {
			if (!rename(U("pub/a"), U("pub/a.old"))) {
				symlink(outside, U("pub/a"));
				unlink(U("pub/a"));
				rename(U("pub/a.old"), U("pub/a"));
			}
		}
	}
	for (i = 0; i < 40; i++) {
		/* Through whichever name currently holds the tree. */
		fd = open(U(st_fmt("pub/a/b/f%d", i)), O_WRONLY | O_APPEND | O_NOFOLLOW);
		if (fd < 0)
			fd = open(U(st_fmt("pub/a.old/b/f%d", i)), O_WRONLY | O_APPEND);
		if (fd >= 0) {
			EXPECT_EQ(1, write(fd, "+", 1));
			close(fd);
			moved++;
		}
	}
	kill(swapper, SIGKILL);
	ASSERT_EQ(swapper, waitpid(swapper, &st, 0));
	/* Put the tree back under its name if the swapper was interrupted. */
	if (access(U("pub/a/b"), F_OK)) {
		unlink(U("pub/a"));
		ASSERT_EQ(0, rename(U("pub/a.old"), U("pub/a")));
	}
	TH_LOG("%d of 40 copy-ups done during the swaps", moved);
	EXPECT_STREQ("", st_ls(outside));
	for (i = 0; i < 40; i++) {
		const char *c = st_cat(U(st_fmt("pub/a/b/f%d", i)));

		EXPECT_TRUE(!strcmp(c, st_fmt("content %d", i)) ||
			    !strcmp(c, st_fmt("content %d+", i)))
			TH_LOG("f%d: %s", i, c);
	}
	/* The lower branch is untouched. */
	EXPECT_STREQ("content 0", st_cat(st_fmt("%s/pub/a/b/f0", self->l[1])));
}

/*
 * Send @cmd with @mfd as the union and every branch-op attribute the
 * command takes (so that only permission can refuse it); the errno.
 */
static int nl_try(int cmd, int mfd)
{
	uint32_t index = 1, mode = STRATA_BRANCH_MODE_RO;
	int32_t fd = mfd;
	struct family f;
	struct reply r;
	struct nlsk s;
	struct req q;
	int err = -1;

	if (nlsk_open(&s, 0))
		return -1;
	if (resolve(&s, &f))
		goto out;
	req_init(&q, f.id, cmd, NLM_F_ACK);
	req_put(&q, STRATA_A_BRANCH_OP_MOUNT_FD, &fd, sizeof(fd));
	req_put(&q, STRATA_A_BRANCH_OP_INDEX, &index, sizeof(index));
	if (cmd == STRATA_CMD_BRANCH_ADD)
		req_put(&q, STRATA_A_BRANCH_OP_PATH, "/tmp", 5);
	if (cmd != STRATA_CMD_BRANCH_DEL)
		req_put(&q, STRATA_A_BRANCH_OP_MODE, &mode, sizeof(mode));
	if (!transact(&s, &q, &r))
		err = r.error;
	reply_free(&r);
out:
	nlsk_close(&s);
	return err;
}

/* Changing commands, today's notifications and tomorrow's branch ops. */
TEST_F(sec, netlink_changes_refused)
{
	char *before = st_mountinfo(self->mnt, NULL, 0), *after;
	int fd = open(self->mnt, O_RDONLY | O_DIRECTORY);
	int cmd;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, before);
	for (cmd = STRATA_CMD_MOUNT_NEW_NTF; cmd <= STRATA_CMD_MAX + 3; cmd++) {
		AS_USER(USER, {
			int e = nl_try(cmd, fd);

			EXPECT_TRUE(e == EOPNOTSUPP || e == EPERM)
				TH_LOG("cmd %d as tester: %s", cmd, e < 0 ? "no answer" :
				       strerror(e));
		});
	}
	after = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_STREQ(before, after);
	free(before);
	free(after);
	close(fd);
}

TEST_HARNESS_MAIN
