// SPDX-License-Identifier: GPL-2.0
/*
 * Live branch changes (design.md §5, issue 4): branch-add, branch-del and
 * branch-set on mounted unions, through the generic netlink family.
 *
 *   - add a lower branch under a busy union: its files appear, names
 *     looked up (and missed) before are found, open files keep working,
 *     a branch added below a file that hides it changes nothing; also
 *     below a directory held open, by path, relative to the descriptor and
 *     in a listing read from it
 *   - remove an idle branch (its files go) and a busy one (EBUSY while a
 *     file of it is open or a directory of it is a working directory)
 *   - modes: ro <-> rr; the rw top to rr (EBUSY with a writer), the union
 *     then read-only; a new rw top on it makes it writable again and
 *     copy-ups go there, never into the old top (the "commit" sequence),
 *     with the union's view unchanged throughout
 *   - concurrent lookups and readdirs during changes: each readdir shows
 *     all of a branch's names or none of them; writers (copy-ups,
 *     creates, renames, unlinks) during changes all succeed
 *   - a rw branch another mounted union uses cannot be added (EBUSY)
 *   - bad requests: missing and wrong attributes, unknown union, bad
 *     index, rw below the top, unprivileged callers (extack checked)
 *   - the branch-change events on the monitor group, and the counter
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"
#include "nl_client.h"
#include "../uapi/linux/strata.h"

/* One branch request: NULL/negative fields are left out. */
struct bop {
	uint8_t cmd;
	const char *mnt;	/* sent as mount-fd */
	int64_t index;		/* <0: none */
	const char *path;
	int64_t mode;		/* <0: none */
};

static void branch_req(struct nlsk *s, struct family *f, const struct bop *b,
		       struct reply *r)
{
	struct req q;
	int32_t fd = -1;
	uint32_t v;

	req_init(&q, f->id, b->cmd, NLM_F_ACK);
	if (b->mnt) {
		fd = open(b->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
		req_put(&q, STRATA_A_BRANCH_OP_MOUNT_FD, &fd, sizeof(fd));
	}
	if (b->index >= 0) {
		v = b->index;
		req_put(&q, STRATA_A_BRANCH_OP_INDEX, &v, sizeof(v));
	}
	if (b->path)
		req_put(&q, STRATA_A_BRANCH_OP_PATH, b->path, strlen(b->path) + 1);
	if (b->mode >= 0) {
		v = b->mode;
		req_put(&q, STRATA_A_BRANCH_OP_MODE, &v, sizeof(v));
	}
	if (transact(s, &q, r))
		r->error = -1;
	if (fd >= 0)
		close(fd);
}

/* 0 or the kernel's errno; the extack message is left in @msg. */
static int bop(struct nlsk *s, struct family *f, char *msg, size_t len,
	       uint8_t cmd, const char *mnt, int64_t index, const char *path,
	       int64_t mode)
{
	struct bop b = { cmd, mnt, index, path, mode };
	struct reply r;
	int err;

	branch_req(s, f, &b, &r);
	err = r.error;
	if (msg)
		snprintf(msg, len, "%s", r.msg);
	reply_free(&r);
	return err;
}

#define NONE (-1)

FIXTURE(br) {
	char dir[ST_PATH];
	char mnt[ST_PATH + 8];
	char msg[512];
	struct nlsk s;
	struct family f;
};

FIXTURE_VARIANT(br) {
	const char *fs;
};

ST_FS_VARIANTS(br);

FIXTURE_SETUP(br)
{
	self->s.fd = -1;
	if (!st_is_strata())
		SKIP(return, "branch changes are strata's own");
	ST_PREPARE(variant->fs, "br", self->dir);
	ASSERT_EQ(0, nlsk_open(&self->s, 1 << 20)) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, resolve(&self->s, &self->f));
	snprintf(self->mnt, sizeof(self->mnt), "%s/m", self->dir);
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_mkdirs(st_fmt("%s/top", self->dir)));
	ST_OK(st_put(st_fmt("%s/l1/a", self->dir), "a1"));
	ST_OK(st_put(st_fmt("%s/l1/d/x", self->dir), "x1"));
	ST_OK(st_put(st_fmt("%s/l2/b", self->dir), "b2"));
	ST_OK(st_put(st_fmt("%s/l2/a", self->dir), "a2"));
	ST_OK(st_put(st_fmt("%s/l2/d/y", self->dir), "y2"));
	ST_OK(mount("none", self->mnt, "strata", 0,
		    st_fmt("br=%s/top=rw:%s/l1=ro", self->dir, self->dir)));
}

/* In the parent: the socket was the test child's and went with it. */
FIXTURE_TEARDOWN_PARENT(br)
{
	st_cleanup(self->dir);
}

#define ADD(path, mode, index) \
	bop(&self->s, &self->f, self->msg, sizeof(self->msg), \
	    STRATA_CMD_BRANCH_ADD, self->mnt, index, path, mode)
#define DEL(index) \
	bop(&self->s, &self->f, self->msg, sizeof(self->msg), \
	    STRATA_CMD_BRANCH_DEL, self->mnt, index, NULL, NONE)
#define SET(index, mode) \
	bop(&self->s, &self->f, self->msg, sizeof(self->msg), \
	    STRATA_CMD_BRANCH_SET, self->mnt, index, NULL, mode)
#define M(name) st_fmt("%s/%s", self->mnt, name)
#define D(name) st_fmt("%s/%s", self->dir, name)

TEST_F(br, add_lower_branch)
{
	struct stat st;
	int fd;
	char buf[8] = "";

	/* Cached: a negative dentry for b, d's stack, an open file. */
	ASSERT_EQ(-1, stat(M("b"), &st));
	ASSERT_STREQ("x:f", st_ls(M("d")));
	fd = open(M("a"), O_RDONLY);
	ASSERT_LE(0, fd);

	/* At the bottom: below l1. */
	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RO, 2)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("b2", st_cat(M("b")));
	EXPECT_STREQ("x:f,y:f", st_ls(M("d")));
	/* The new branch is below l1: l1's a still hides it. */
	EXPECT_STREQ("a1", st_cat(M("a")));
	EXPECT_EQ(2, pread(fd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("a1", buf);
	close(fd);
	EXPECT_STREQ("a:f,b:f,d:d", st_ls_nowork(self->mnt));
}

/* Does a listing of @dfd read from its start (a rewind) show @name? */
static bool fd_lists(int dfd, const char *name)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	/* The copy shares the open file: the rewind is @dfd's own. */
	d = fdopendir(dup(dfd));
	if (!d)
		return false;
	rewinddir(d);
	while ((de = readdir(d)))
		found |= !strcmp(de->d_name, name);
	closedir(d);
	return found;
}

/*
 * A directory still in use when a branch is added: its dentry outlives
 * the revalidation that drops it.  Walked to by path it comes back, and
 * a lookup relative to a descriptor starts from it unrevalidated; both
 * must see the new branch.
 */
TEST_F(br, held_dir_sees_added_branches)
{
	struct stat st;
	int dfd;

	ST_OK(st_put(D("l3/d/z"), "z3"));
	ASSERT_STREQ("x:f", st_ls(M("d")));
	dfd = open(M("d"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	/* Cached misses below the held directory. */
	ASSERT_EQ(-1, fstatat(dfd, "y", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT_EQ(-1, fstatat(dfd, "z", &st, AT_SYMLINK_NOFOLLOW));

	/* Walked to by path: the old dentry takes the new stack. */
	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RO, 2)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("x:f,y:f", st_ls(M("d")));
	EXPECT_STREQ("y2", st_cat(M("d/y")));
	EXPECT_EQ(0, fstatat(dfd, "y", &st, AT_SYMLINK_NOFOLLOW));

	/* Relative to the descriptor only, no path walk in between. */
	ASSERT_EQ(0, ADD(D("l3"), STRATA_BRANCH_MODE_RO, 3)) TH_LOG("%s", self->msg);
	EXPECT_EQ(0, fstatat(dfd, "z", &st, AT_SYMLINK_NOFOLLOW));
	EXPECT_STREQ("z3", st_cat(st_fmt("/proc/self/fd/%d/z", dfd)));

	/* A rewound listing of the descriptor, before any lookup. */
	ST_OK(st_put(D("l4/d/w"), "w4"));
	EXPECT_FALSE(fd_lists(dfd, "w"));
	ASSERT_EQ(0, ADD(D("l4"), STRATA_BRANCH_MODE_RO, 4)) TH_LOG("%s", self->msg);
	EXPECT_TRUE(fd_lists(dfd, "w"));
	EXPECT_STREQ("w:f,x:f,y:f,z:f", st_ls(M("d")));
	close(dfd);
}

/*
 * A lower directory copied up while in use: the next lookup of its name
 * must find the same inode, so that its dentry in use comes back rather
 * than a second dentry (and inode) for the same directory.
 */
TEST_F(br, copied_up_dir_keeps_its_dentry)
{
	char link[ST_PATH + 32] = "";
	int dfd;

	dfd = open(M("d"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	ST_OK(st_put(M("d/new"), "n"));
	/* Drop every dentry of the union by a change that hits them all. */
	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RO, 2)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("new:f,x:f,y:f", st_ls(M("d")));
	ASSERT_LT(0, readlink(st_fmt("/proc/self/fd/%d", dfd), link,
			      sizeof(link) - 1));
	EXPECT_STREQ(M("d"), link);
	EXPECT_STREQ("n", st_cat(st_fmt("/proc/self/fd/%d/new", dfd)));
	close(dfd);
}

TEST_F(br, add_at_positions)
{
	ST_OK(st_mkdirs(D("l3")));
	ASSERT_STREQ("a1", st_cat(M("a")));
	/* No index: just under the rw top. */
	/* Position 1 is just under the rw top: above l1. */
	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RR, NONE)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("a2", st_cat(M("a")));
	EXPECT_STREQ("x:f,y:f", st_ls(M("d")));
	/* Nothing but the rw top may sit on top of it. */
	EXPECT_EQ(EINVAL, ADD(D("l3"), STRATA_BRANCH_MODE_RO, 0));
	EXPECT_NE(NULL, strstr(self->msg, "rw"));
	EXPECT_EQ(EINVAL, ADD(D("l1"), STRATA_BRANCH_MODE_RO, 3));
	EXPECT_NE(NULL, strstr(self->msg, "overlaps")) TH_LOG("%s", self->msg);
	EXPECT_EQ(EINVAL, ADD(D("l1/d"), STRATA_BRANCH_MODE_RO, 3));
	EXPECT_EQ(EINVAL, ADD(D("l3"), STRATA_BRANCH_MODE_RO, 9));
	EXPECT_EQ(EINVAL, ADD(D("l3"), STRATA_BRANCH_MODE_RW, 2));
	EXPECT_EQ(ENOENT, ADD(D("nonexistent"), STRATA_BRANCH_MODE_RO, NONE));
	EXPECT_EQ(EINVAL, ADD(self->mnt, STRATA_BRANCH_MODE_RO, NONE));
	EXPECT_EQ(ENOTDIR, ADD(D("l1/a"), STRATA_BRANCH_MODE_RO, NONE));
}

TEST_F(br, del_idle_and_busy)
{
	int fd, pid, status, pipefd[2];
	char c;

	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RO, 2)) TH_LOG("%s", self->msg);
	ASSERT_STREQ("b2", st_cat(M("b")));

	/* An open file of l2 keeps it. */
	fd = open(M("b"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EBUSY, DEL(2));
	EXPECT_NE(NULL, strstr(self->msg, "in use")) TH_LOG("%s", self->msg);
	close(fd);

	/* So does a working directory in a directory l2 merges into. */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		if (chdir(M("d")))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	EXPECT_EQ(EBUSY, DEL(2));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(pipefd[0]);

	/* An open file of another branch is not in the way, and keeps working. */
	fd = open(M("a"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, DEL(2)) TH_LOG("%s", self->msg);
	EXPECT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ('a', c);
	close(fd);
	EXPECT_STREQ("<ENOENT>", st_cat(M("b")));
	EXPECT_STREQ("x:f", st_ls(M("d")));
	EXPECT_STREQ("a1", st_cat(M("a")));
	/* The rw top and the last branch cannot go. */
	EXPECT_EQ(EINVAL, DEL(0));
	EXPECT_EQ(EINVAL, DEL(7));
}

TEST_F(br, del_branch_with_whiteout)
{
	/* A whiteout in l2 hides l1's a; removing l2 shows it again. */
	ST_OK(unlink(D("l2/a")));
	ST_OK(st_wh_aufs(D("l2/a")));
	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RO, 1)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("<ENOENT>", st_cat(M("a")));
	ASSERT_EQ(0, DEL(1)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("a1", st_cat(M("a")));
}

TEST_F(br, modes)
{
	char before[4096];
	int fd;

	ASSERT_EQ(0, SET(1, STRATA_BRANCH_MODE_RR)) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, SET(1, STRATA_BRANCH_MODE_RO)) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, SET(1, STRATA_BRANCH_MODE_RO));
	EXPECT_EQ(EINVAL, SET(1, STRATA_BRANCH_MODE_RW));
	EXPECT_EQ(EINVAL, SET(5, STRATA_BRANCH_MODE_RO));

	/* Something in the rw top first: copied up, created, removed. */
	ST_OK(st_put(M("a"), "a-top"));
	ST_OK(st_put(M("new"), "n"));
	ST_OK(unlink(M("d/x")));
	snprintf(before, sizeof(before), "%s", st_ls_nowork(self->mnt));

	/* A closed O_TMPFILE writer is no writer. */
	fd = open(self->mnt, O_TMPFILE | O_WRONLY, 0600);
	ASSERT_LE(0, fd) TH_LOG("O_TMPFILE: %s", strerror(errno));
	close(fd);

	/* A writer keeps the rw top writable. */
	fd = open(M("new"), O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EBUSY, SET(0, STRATA_BRANCH_MODE_RR));
	EXPECT_NE(NULL, strstr(self->msg, "open for writing")) TH_LOG("%s", self->msg);
	close(fd);

	ASSERT_EQ(0, SET(0, STRATA_BRANCH_MODE_RR)) TH_LOG("%s", self->msg);
	EXPECT_EQ(-1, open(M("z"), O_CREAT | O_WRONLY, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(M("a"), O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	EXPECT_STREQ(before, st_ls_nowork(self->mnt));
	EXPECT_STREQ("a-top", st_cat(M("a")));
	EXPECT_STREQ("", st_ls(M("d")));

	/* A fresh rw top: writable again, the view unchanged. */
	ST_OK(st_mkdirs(D("top2")));
	EXPECT_EQ(EINVAL, ADD(D("top2"), STRATA_BRANCH_MODE_RW, 1));
	ASSERT_EQ(0, ADD(D("top2"), STRATA_BRANCH_MODE_RW, 0)) TH_LOG("%s", self->msg);
	EXPECT_STREQ(before, st_ls_nowork(self->mnt));
	ST_OK(st_put(M("a"), "a-top2"));
	ST_OK(st_put(M("z"), "z"));
	ST_OK(unlink(M("new")));
	EXPECT_STREQ("a-top2", st_cat(D("top2/a")));
	EXPECT_STREQ("z", st_cat(D("top2/z")));
	/* The old top is a layer now: never written again. */
	EXPECT_STREQ("a-top", st_cat(D("top/a")));
	EXPECT_STREQ("n", st_cat(D("top/new")));
	EXPECT_STREQ("<ENOENT>", st_cat(D("top/z")));
	EXPECT_STREQ("<ENOENT>", st_cat(M("new")));
	EXPECT_STREQ("a-top2", st_cat(M("a")));
}

/*
 * A rw branch another mounted union writes to cannot be added (its work
 * directory would be emptied); a rw top set rr stays claimed until umount.
 */
TEST_F(br, add_busy_rw)
{
	char *m2 = strdup(D("m2"));

	ST_OK(st_mkdirs(D("other")));
	ST_OK(st_mkdirs(m2));
	ASSERT_EQ(0, st_mount_rw(m2, D("other"), NULL, 0, NULL));
	ST_OK(st_put(st_fmt("%s/.wh..wh.work/#inflight", D("other")), "tmp"));
	ASSERT_EQ(0, SET(0, STRATA_BRANCH_MODE_RR)) TH_LOG("%s", self->msg);

	EXPECT_EQ(EBUSY, ADD(D("other"), STRATA_BRANCH_MODE_RW, 0));
	EXPECT_NE(NULL, strstr(self->msg,
			       st_fmt("branch %s: in use by another mounted union (its rw branch %s)",
				      D("other"), D("other"))))
		TH_LOG("%s", self->msg);
	EXPECT_STREQ("tmp", st_cat(st_fmt("%s/.wh..wh.work/#inflight", D("other"))));
	/* Nothing changed: still read-only, two branches. */
	EXPECT_EQ(-1, open(M("z"), O_CREAT | O_WRONLY, 0644));
	EXPECT_EQ(EROFS, errno);
	/* As a lower branch it may be shared. */
	EXPECT_EQ(0, ADD(D("other"), STRATA_BRANCH_MODE_RO, 2)) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, DEL(2)) TH_LOG("%s", self->msg);

	/* The former rw top is still this union's. */
	EXPECT_EQ(-1, st_mount_rw(m2, D("top"), NULL, 0, NULL));
	EXPECT_EQ(EBUSY, errno);

	ASSERT_EQ(0, st_umount(m2));
	ASSERT_EQ(0, ADD(D("other"), STRATA_BRANCH_MODE_RW, 0)) TH_LOG("%s", self->msg);
	ST_OK(st_put(M("z"), "z"));
	EXPECT_STREQ("z", st_cat(D("other/z")));
	EXPECT_STREQ("<ENOENT>", st_cat(st_fmt("%s/.wh..wh.work/#inflight", D("other"))));

	ASSERT_EQ(0, st_umount(self->mnt));
	EXPECT_EQ(0, st_mount_rw(m2, D("top"), NULL, 0, NULL)) TH_LOG("%s", strerror(errno));
	free(m2);
}

TEST_F(br, stale_fd_after_commit)
{
	char buf[16] = "";
	int rfd, dfd;

	ST_OK(st_put(M("f"), "one"));
	ST_OK(mkdir(M("e"), 0755));
	rfd = open(M("f"), O_RDONLY);
	ASSERT_LE(0, rfd);
	dfd = open(M("e"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, SET(0, STRATA_BRANCH_MODE_RR)) TH_LOG("%s", self->msg);
	ST_OK(st_mkdirs(D("top2")));
	ASSERT_EQ(0, ADD(D("top2"), STRATA_BRANCH_MODE_RW, 0)) TH_LOG("%s", self->msg);
	/* Old descriptors still read; writing through old handles is refused. */
	EXPECT_EQ(3, pread(rfd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("one", buf);
	EXPECT_NE(0, fchmod(rfd, 0600));
	EXPECT_EQ(ESTALE, errno);
	EXPECT_EQ(-1, openat(dfd, "new", O_CREAT | O_WRONLY, 0644));
	EXPECT_EQ(ESTALE, errno);
	/* Through the union's current names all works. */
	ST_OK(st_put(M("e/new"), "n"));
	EXPECT_STREQ("n", st_cat(D("top2/e/new")));
	ST_OK(st_put(M("f"), "two"));
	EXPECT_STREQ("two", st_cat(D("top2/f")));
	EXPECT_STREQ("one", st_cat(D("top/f")));
	close(rfd);
	close(dfd);
}

TEST_F(br, renamed_dir_survives_commit)
{
	/* The redirect of a renamed lower directory, then a commit. */
	ST_OK(rename(M("d"), M("d2")));
	ASSERT_STREQ("x:f", st_ls(M("d2")));
	ASSERT_EQ(0, SET(0, STRATA_BRANCH_MODE_RR)) TH_LOG("%s", self->msg);
	ST_OK(st_mkdirs(D("top2")));
	ASSERT_EQ(0, ADD(D("top2"), STRATA_BRANCH_MODE_RW, 0)) TH_LOG("%s", self->msg);
	EXPECT_STREQ("x:f", st_ls(M("d2")));
	EXPECT_STREQ("<ENOENT>", st_cat(M("d/x")));
	/* Renamed again over the committed layer. */
	ST_OK(rename(M("d2"), M("d3")));
	EXPECT_STREQ("x:f", st_ls(M("d3")));
	EXPECT_STREQ("x1", st_cat(M("d3/x")));
	EXPECT_STREQ("a:f,d3:d", st_ls_nowork(self->mnt));
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* readdir's d_ino of @name in @dir. */
static ino_t d_ino_of(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	ino_t ino = 0;

	while (d && (de = readdir(d)))
		if (!strcmp(de->d_name, name))
			ino = de->d_ino;
	if (d)
		closedir(d);
	return ino;
}

TEST_F(br, inode_numbers_survive_commit)
{
	ino_t a = ino_of(M("a")), x = ino_of(M("d/x"));

	ASSERT_NE(0, a);
	ST_OK(st_put(M("a"), "changed"));
	ST_OK(chmod(M("d/x"), 0600));
	EXPECT_EQ(a, ino_of(M("a")));
	EXPECT_EQ(x, ino_of(M("d/x")));
	ASSERT_EQ(0, SET(0, STRATA_BRANCH_MODE_RR)) TH_LOG("%s", self->msg);
	ST_OK(st_mkdirs(D("top2")));
	ASSERT_EQ(0, ADD(D("top2"), STRATA_BRANCH_MODE_RW, 0)) TH_LOG("%s", self->msg);
	EXPECT_EQ(a, ino_of(M("a")));
	EXPECT_EQ(x, ino_of(M("d/x")));
	EXPECT_EQ(a, d_ino_of(self->mnt, "a"));
	EXPECT_EQ(x, d_ino_of(M("d"), "x"));
	/* And once more copied up into the new top. */
	ST_OK(st_put(M("a"), "again"));
	EXPECT_EQ(a, ino_of(M("a")));
}

TEST_F(br, errors)
{
	struct bop b = { STRATA_CMD_BRANCH_ADD, NULL, NONE, NULL, NONE };
	struct reply r;
	struct req q;
	uint32_t id = 999999, v = 7;

	/* No union named. */
	b.path = D("l2");
	branch_req(&self->s, &self->f, &b, &r);
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_NE(NULL, strstr(r.msg, "mount-id or mount-fd")) TH_LOG("%s", r.msg);
	reply_free(&r);
	/* No path. */
	EXPECT_EQ(EINVAL, ADD(NULL, STRATA_BRANCH_MODE_RO, NONE));
	EXPECT_NE(NULL, strstr(self->msg, "path")) TH_LOG("%s", self->msg);
	/* No index, no mode. */
	EXPECT_EQ(EINVAL, DEL(NONE));
	EXPECT_NE(NULL, strstr(self->msg, "index"));
	EXPECT_EQ(EINVAL, SET(1, NONE));
	EXPECT_NE(NULL, strstr(self->msg, "mode"));
	/* A mode out of range is the policy's. */
	EXPECT_EQ(ERANGE, SET(1, 3));
	/* A fd outside strata, an unknown id. */
	b = (struct bop){ STRATA_CMD_BRANCH_DEL, self->dir, 1, NULL, NONE };
	branch_req(&self->s, &self->f, &b, &r);
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_NE(NULL, strstr(r.msg, "not inside a strata union")) TH_LOG("%s", r.msg);
	reply_free(&r);
	req_init(&q, self->f.id, STRATA_CMD_BRANCH_DEL, NLM_F_ACK);
	req_put(&q, STRATA_A_BRANCH_OP_MOUNT_ID, &id, sizeof(id));
	req_put(&q, STRATA_A_BRANCH_OP_INDEX, &v, sizeof(v));
	ASSERT_EQ(0, transact(&self->s, &q, &r));
	EXPECT_EQ(ENOENT, r.error);
	reply_free(&r);
	/* A short attribute. */
	req_init(&q, self->f.id, STRATA_CMD_BRANCH_DEL, NLM_F_ACK);
	req_put(&q, STRATA_A_BRANCH_OP_MOUNT_ID, &id, 2);
	ASSERT_EQ(0, transact(&self->s, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	reply_free(&r);
	/* Both a path and a directory fd. */
	req_init(&q, self->f.id, STRATA_CMD_BRANCH_ADD, NLM_F_ACK);
	v = open(self->mnt, O_PATH | O_CLOEXEC);
	req_put(&q, STRATA_A_BRANCH_OP_MOUNT_FD, &v, sizeof(v));
	req_put(&q, STRATA_A_BRANCH_OP_PATH, "/", 2);
	req_put(&q, STRATA_A_BRANCH_OP_DIR_FD, &v, sizeof(v));
	ASSERT_EQ(0, transact(&self->s, &q, &r));
	close(v);
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_NE(NULL, strstr(r.msg, "exactly one")) TH_LOG("%s", r.msg);
	reply_free(&r);
}

static int unprivileged_del(void *arg)
{
	const char *mnt = arg;
	struct family f;
	struct nlsk s;
	int err;

	if (nlsk_open(&s, 0) || resolve(&s, &f))
		return 100;
	err = bop(&s, &f, NULL, 0, STRATA_CMD_BRANCH_DEL, mnt, 1, NULL, NONE);
	nlsk_close(&s);
	return err;
}

TEST_F(br, unprivileged)
{
	EXPECT_EQ(EPERM, st_run_as(ST_NOBODY, unprivileged_del, self->mnt));
	EXPECT_STREQ("a1", st_cat(M("a")));
}

/* Readers: every listing of d shows l2's y entirely or not at all. */
static int reader(const char *mnt, int seconds)
{
	time_t end = time(NULL) + seconds;
	char path[ST_PATH];
	long rounds = 0;

	snprintf(path, sizeof(path), "%s/d", mnt);
	while (time(NULL) < end) {
		const char *ls = st_ls(path);
		struct stat st;

		if (!ls || (strcmp(ls, "x:f") && strcmp(ls, "x:f,y:f")))
			return 1;
		snprintf(path, sizeof(path), "%s/b", mnt);
		if (!stat(path, &st) && st.st_size != 2)
			return 2;
		snprintf(path, sizeof(path), "%s/d", mnt);
		rounds++;
	}
	return rounds ? 0 : 3;
}

TEST_F(br, concurrent_lookups)
{
	int i, n = 0, status, pids[3];

	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(reader(self->mnt, 6));
	}
	for (i = 0; i < 400; i++) {
		if (ADD(D("l2"), STRATA_BRANCH_MODE_RO, 2))
			break;
		/* A reader may hold one of l2's dentries for a moment. */
		while (DEL(2) == EBUSY)
			usleep(1000);
		n++;
		if (i > 5) {
			int done = 0, j;

			for (j = 0; j < 3; j++)
				done += waitpid(pids[j], &status, WNOHANG) == pids[j] &&
					!WEXITSTATUS(status);
			if (done)
				break;
		}
	}
	TH_LOG("%d add/del rounds", n);
	EXPECT_LT(5, n) TH_LOG("%s", self->msg);
	for (i = 0; i < 3; i++) {
		if (waitpid(pids[i], &status, 0) == pids[i])
			EXPECT_EQ(0, WEXITSTATUS(status));
	}
}

/* A writer: copy-ups, creates, renames and unlinks, all must succeed. */
static int writer(const char *mnt, int id, int seconds)
{
	time_t end = time(NULL) + seconds;
	char p[ST_PATH], q[ST_PATH];
	long rounds = 0;

	while (time(NULL) < end) {
		snprintf(p, sizeof(p), "%s/w%d-%ld", mnt, id, rounds % 8);
		snprintf(q, sizeof(q), "%s/w%d-r", mnt, id);
		if (st_put(p, "data") || rename(p, q) || strcmp(st_cat(q), "data") ||
		    unlink(q))
			return 1;
		/* A copy-up of the lower a, then back. */
		snprintf(p, sizeof(p), "%s/d/x", mnt);
		if (id == 0 && (chmod(p, 0600 + (rounds & 1)) ||
				strcmp(st_cat(p), "x1")))
			return 2;
		rounds++;
	}
	return rounds ? 0 : 3;
}

TEST_F(br, changes_during_writes)
{
	int i, n = 0, status, pids[2];

	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(writer(self->mnt, i, 8));
	}
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RR, 2)) TH_LOG("%s", self->msg);
		ASSERT_EQ(0, SET(1, i & 1 ? STRATA_BRANCH_MODE_RO : STRATA_BRANCH_MODE_RR));
		while (DEL(2) == EBUSY)
			usleep(1000);
		n++;
		if (waitpid(pids[0], &status, WNOHANG) == pids[0]) {
			EXPECT_EQ(0, WEXITSTATUS(status));
			pids[0] = 0;
			break;
		}
	}
	TH_LOG("%d rounds of changes under writers", n);
	for (i = 0; i < 2; i++) {
		if (pids[i] && waitpid(pids[i], &status, 0) == pids[i])
			EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("writer %d", i);
	}
	EXPECT_STREQ("x1", st_cat(M("d/x")));
}

TEST_F(br, monitor_and_counter)
{
	struct nlsk mon;
	struct mounts ms = {};
	struct reply r;
	uint32_t id;
	int seen = 0, i;

	ASSERT_EQ(0, nlsk_open(&mon, 0));
	ASSERT_NE(0, self->f.monitor);
	ASSERT_EQ(0, setsockopt(mon.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&self->f.monitor, sizeof(self->f.monitor)));
	id = id_of(&self->s, &self->f, self->mnt);
	ASSERT_NE(0, id);
	ASSERT_EQ(0, ADD(D("l2"), STRATA_BRANCH_MODE_RO, 2)) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, SET(2, STRATA_BRANCH_MODE_RR));
	ASSERT_EQ(0, DEL(2));
	for (i = 0; i < 50 && seen < 3; i++) {
		ssize_t n = nlsk_recv(&mon, 2000);
		struct nlmsghdr *nlh;

		if (n < 0)
			break;
		for (nlh = (void *)mon.buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			const struct nlattr *tb[STRATA_A_BRANCH_OP_MAX + 1];
			const struct genlmsghdr *g = NLMSG_DATA(nlh);
			static const uint32_t want[] = {
				STRATA_BRANCH_CHANGE_ADD, STRATA_BRANCH_CHANGE_SET,
				STRATA_BRANCH_CHANGE_DEL,
			};

			if (g->cmd != STRATA_CMD_BRANCH_CHANGE_NTF)
				continue;
			ASSERT_EQ(0, msg_attrs(nlh, tb, STRATA_A_BRANCH_OP_MAX));
			if (u32_of(tb[STRATA_A_BRANCH_OP_MOUNT_ID]) != id)
				continue;
			EXPECT_EQ(want[seen], u32_of(tb[STRATA_A_BRANCH_OP_CHANGE]));
			EXPECT_EQ(2, u32_of(tb[STRATA_A_BRANCH_OP_INDEX]));
			EXPECT_STREQ(D("l2"), str_of(tb[STRATA_A_BRANCH_OP_PATH]));
			seen++;
		}
	}
	EXPECT_EQ(3, seen);
	nlsk_close(&mon);

	get_by_id(&self->s, &self->f, id, &r);
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, parse_all(&r, &ms));
	EXPECT_EQ(3, ms.v[0].branch_changes);
	EXPECT_EQ(2, ms.v[0].nbr);
	mounts_free(&ms);
	reply_free(&r);
}

TEST_HARNESS_MAIN
