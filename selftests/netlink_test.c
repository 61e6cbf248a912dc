// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel (design.md §5, issue 4): generic netlink family
 * "strata", spoken over raw netlink sockets so the test links statically
 * (Debian ships no libmnl.a).
 *
 *   - family: resolution through nlctrl, version, ops, the monitor group
 *   - mount-get by fd (file and directory inside a union), by id; the
 *     errors for a fd outside strata, a bad fd, no attribute, an unknown
 *     id, attributes of the wrong length or type, an unknown command, each
 *     with the extack message and the offset of the attribute
 *   - dump: every union of this mount namespace and only those, branches
 *     in order with modes and filesystem types; ids reused after umount;
 *     other namespaces; a 3000-branch union across several messages
 *   - counters: copy-ups, bytes copied, whiteouts, lookups
 *   - monitor: mount, copy-up (path, size, duration) and umount events;
 *     joining needs CAP_SYS_ADMIN, mount-get does not
 *
 * Module unload with a listener open is in control_test.sh (it unloads
 * strata, which a selftest binary should not do to the ones after it).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"
#include "nl_client.h"
#include "../uapi/linux/strata.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif


/* ---- mounting ---- */

static int __attribute__((format(printf, 2, 3)))
mount_br(const char *target, const char *fmt, ...)
{
	char data[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(data, sizeof(data), fmt, ap);
	va_end(ap);
	return mount("none", target, "strata", 0, data);
}

static bool same_dev(uint32_t dev, const char *path)
{
	struct stat st;

	return !stat(path, &st) && major(st.st_dev) == major(dev) &&
		minor(st.st_dev) == minor(dev);
}

/* Scratch dir on filesystem @fs besides the fixture's, or NULL. */
static char *scratch_on(const char *fs, char *out, size_t len)
{
	const char *root = getenv("STRATA_TEST_ROOT");

	if (!getenv("STRATA_TEST_FS") || !st_fs_listed(fs))
		return NULL;
	snprintf(out, len, "%s/%s/strata-nl-XXXXXX", root && *root ? root : "/mnt", fs);
	if (!mkdtemp(out) || chmod(out, 0755))
		return NULL;
	return out;
}

FIXTURE(nl) {
	char dir[ST_PATH];
	char other[3][ST_PATH];		/* ext4, xfs, btrfs scratch dirs */
	struct nlsk s;
	struct family f;
};

FIXTURE_SETUP(nl)
{
	self->s.fd = -1;
	if (!st_is_strata())
		SKIP(return, "the control channel is strata's own");
	ST_PREPARE(NULL, "nl", self->dir);
	ASSERT_EQ(0, nlsk_open(&self->s, 16 << 20)) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, resolve(&self->s, &self->f)) TH_LOG("family %s not found", STRATA_FAMILY_NAME);
	ST_OK(st_mkdirs(st_fmt("%s/m", self->dir)));
}

FIXTURE_TEARDOWN_PARENT(nl)
{
	int i;

	st_cleanup(self->dir);
	for (i = 0; i < 3; i++)
		if (self->other[i][0])
			st_cleanup(self->other[i]);
}

TEST_F(nl, family)
{
	EXPECT_NE(0, self->f.id);
	EXPECT_EQ(STRATA_FAMILY_VERSION, self->f.version);
	EXPECT_NE(0, self->f.monitor);
	ASSERT_TRUE(self->f.has_get);
	EXPECT_TRUE(self->f.get_flags & GENL_CMD_CAP_DO);
	EXPECT_TRUE(self->f.get_flags & GENL_CMD_CAP_DUMP);
	/* Reading needs no privilege. */
	EXPECT_FALSE(self->f.get_flags & GENL_ADMIN_PERM);
}

/* u (rw) over l1 (ro) and l2 (rr), mounted on dir/m. */
static int mount_three(const char *dir)
{
	static const char *const spec[] = {
		"1:f:sub/f=lower", "1:f:gone=x", "2:f:deep=2", NULL,
	};

	if (st_build(dir, spec) || st_mkdirs(st_fmt("%s/l0", dir)))
		return -1;
	return mount_br(st_fmt("%s/m", dir), "br=%s/l0=rw:%s/l1=ro:%s/l2=rr",
			dir, dir, dir);
}

TEST_F(nl, get_by_fd)
{
	const char *fs = st_first_fs(), *mnt = strdup(st_fmt("%s/m", self->dir));
	char *mi, type[32];
	struct mounts ms = {}, dir_ms = {};
	struct mount *m;
	struct reply r;
	size_t ol;
	int fd, i;

	ST_OK(mount_three(self->dir));
	fd = open(st_fmt("%s/sub/f", mnt), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	get_by_fd(&self->s, &self->f, fd, &r);
	close(fd);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(1, r.n);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);
	reply_free(&r);
	m = &ms.v[0];
	EXPECT_NE(0, m->id);
	EXPECT_TRUE(same_dev(m->dev, mnt));
	ASSERT_TRUE(m->has_mountpoint);
	EXPECT_STREQ(mnt, m->mountpoint);
	EXPECT_EQ(STRATA_WHITEOUT_FORMAT_AUFS, m->whiteout);
	EXPECT_FALSE(m->readonly);
	EXPECT_TRUE(m->has_counters);
	EXPECT_EQ(0, m->branch_changes);
	/* The options are mountinfo's super options after "rw,". */
	ASSERT_TRUE(m->has_options);
	mi = st_mountinfo(mnt, type, sizeof(type));
	ASSERT_NE(NULL, mi);
	ol = strlen(m->options);
	ASSERT_LT(ol, strlen(mi));
	EXPECT_STREQ(m->options, mi + strlen(mi) - ol);
	EXPECT_EQ(',', mi[strlen(mi) - ol - 1]);
	EXPECT_EQ(0, strncmp(m->options, "br=", 3));
	free(mi);
	ASSERT_EQ(3, m->nbr);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(i, m->br[i].index);
		EXPECT_STREQ(st_fmt("%s/l%d", self->dir, i), m->br[i].path);
		EXPECT_STREQ(fs, m->br[i].fstype);
	}
	EXPECT_EQ(STRATA_BRANCH_MODE_RW, m->br[0].mode);
	EXPECT_EQ(STRATA_BRANCH_MODE_RO, m->br[1].mode);
	EXPECT_EQ(STRATA_BRANCH_MODE_RR, m->br[2].mode);

	/* A directory inside, and the root: the same union. */
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	get_by_fd(&self->s, &self->f, fd, &r);
	close(fd);
	ASSERT_EQ(0, r.error);
	ASSERT_EQ(0, parse_all(&r, &dir_ms));
	EXPECT_EQ(m->id, dir_ms.v[0].id);
	EXPECT_EQ(m->dev, dir_ms.v[0].dev);
	mounts_free(&dir_ms);
	reply_free(&r);
	mounts_free(&ms);
}

TEST_F(nl, get_by_fd_outside_strata)
{
	struct reply r;
	int fd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	get_by_fd(&self->s, &self->f, fd, &r);
	close(fd);
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("file descriptor is not inside a strata union", r.msg);
	/* The offset names the fd attribute, the first after the headers. */
	EXPECT_TRUE(r.has_offs);
	EXPECT_EQ(NLMSG_HDRLEN + GENL_HDRLEN, r.offs);
	EXPECT_EQ(0, r.n);
	reply_free(&r);
}

TEST_F(nl, get_by_bad_fd)
{
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	struct reply r;
	int fd;

	get_by_fd(&self->s, &self->f, 1000, &r);
	EXPECT_EQ(EBADF, r.error);
	EXPECT_STREQ("not an open file descriptor", r.msg);
	EXPECT_EQ(NLMSG_HDRLEN + GENL_HDRLEN, r.offs);
	reply_free(&r);
	get_by_fd(&self->s, &self->f, -1, &r);
	EXPECT_EQ(EBADF, r.error);
	reply_free(&r);

	/* O_PATH descriptors are not "open files" to fget(). */
	ST_OK(mount_three(self->dir));
	fd = open(mnt, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, fd);
	get_by_fd(&self->s, &self->f, fd, &r);
	close(fd);
	EXPECT_EQ(EBADF, r.error);
	reply_free(&r);
}

TEST_F(nl, get_by_id)
{
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	struct mounts ms = {};
	struct reply r;
	uint32_t id;

	ST_OK(mount_three(self->dir));
	id = id_of(&self->s, &self->f, mnt);
	ASSERT_NE(0, id);
	get_by_id(&self->s, &self->f, id, &r);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);
	ASSERT_EQ(1, ms.n);
	EXPECT_EQ(id, ms.v[0].id);
	EXPECT_TRUE(same_dev(ms.v[0].dev, mnt));
	/* Asked by id, the kernel knows no particular mount of the union. */
	EXPECT_FALSE(ms.v[0].has_mountpoint);
	EXPECT_TRUE(ms.v[0].has_options);
	EXPECT_EQ(3, ms.v[0].nbr);
	mounts_free(&ms);
	reply_free(&r);
}

TEST_F(nl, get_needs_id_or_fd)
{
	struct reply r;
	struct req q;

	req_init(&q, self->f.id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	ASSERT_EQ(0, transact(&self->s, &q, &r));
	EXPECT_EQ(EINVAL, r.error);
	EXPECT_STREQ("mount-get needs the id or fd attribute", r.msg);
	reply_free(&r);
}

TEST_F(nl, get_unknown_id)
{
	struct reply r;

	get_by_id(&self->s, &self->f, 0x7ffffff0, &r);
	EXPECT_EQ(ENOENT, r.error);
	EXPECT_STREQ("no strata union with this id", r.msg);
	EXPECT_EQ(NLMSG_HDRLEN + GENL_HDRLEN, r.offs);
	reply_free(&r);
	get_by_id(&self->s, &self->f, 0, &r);
	EXPECT_EQ(ENOENT, r.error);
	reply_free(&r);
}

/* Send one malformed request; expect EINVAL with a message at @want_offs. */
static void expect_policy(struct __test_metadata *_metadata, struct nlsk *s,
			  struct req *q, uint32_t want_offs, const char *what)
{
	struct reply r;

	ASSERT_EQ(0, transact(s, q, &r));
	EXPECT_EQ(EINVAL, r.error) TH_LOG("%s", what);
	EXPECT_NE(0, r.msg[0]) TH_LOG("%s: no extack message", what);
	if (want_offs) {
		EXPECT_TRUE(r.has_offs) TH_LOG("%s: no attribute offset", what);
		EXPECT_EQ(want_offs, r.offs) TH_LOG("%s", what);
	}
	TH_LOG("%s: \"%s\"", what, r.msg);
	reply_free(&r);
}

TEST_F(nl, policy)
{
	uint16_t u16 = 1;
	uint64_t u64 = 1;
	uint32_t off, id = 1;
	struct req q;

	req_init(&q, self->f.id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	off = req_put(&q, STRATA_A_MOUNT_ID, &u16, sizeof(u16));
	expect_policy(_metadata, &self->s, &q, off, "id as a u16");

	req_init(&q, self->f.id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	off = req_put(&q, STRATA_A_MOUNT_FD, &u64, sizeof(u64));
	expect_policy(_metadata, &self->s, &q, off, "fd as a u64");

	/* A valid id first: the bad attribute is found after it. */
	req_init(&q, self->f.id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	req_put(&q, STRATA_A_MOUNT_ID, &id, sizeof(id));
	off = req_put(&q, STRATA_A_MOUNT_MOUNTPOINT, "/x", 3);
	expect_policy(_metadata, &self->s, &q, off, "a reply-only attribute in a request");

	req_init(&q, self->f.id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	off = req_put(&q, 200, &id, sizeof(id));
	expect_policy(_metadata, &self->s, &q, off, "an attribute type beyond the set");

	/* An attribute whose length runs past the message. */
	req_init(&q, self->f.id, STRATA_CMD_MOUNT_GET, NLM_F_ACK);
	req_put(&q, STRATA_A_MOUNT_ID, &id, sizeof(id));
	q.attrs[0] = 64;
	expect_policy(_metadata, &self->s, &q, 0, "an attribute longer than the message");
}

TEST_F(nl, unknown_command)
{
	static const uint8_t cmds[] = {
		0, STRATA_CMD_MOUNT_NEW_NTF, STRATA_CMD_MOUNT_DEL_NTF,
		STRATA_CMD_COPY_UP_NTF, 99,
	};
	struct reply r;
	struct req q;
	size_t i;

	/* Events are not requests. */
	for (i = 0; i < sizeof(cmds); i++) {
		req_init(&q, self->f.id, cmds[i], NLM_F_ACK);
		ASSERT_EQ(0, transact(&self->s, &q, &r));
		EXPECT_EQ(EOPNOTSUPP, r.error) TH_LOG("command %u", cmds[i]);
		reply_free(&r);
	}
}

/* Check union @id in @ms: @n branches, paths dirs[i], modes, fstypes. */
static void expect_branches(struct __test_metadata *_metadata, struct mounts *ms,
			    uint32_t id, int n, char *const *dirs,
			    const uint32_t *modes, char *const *fstypes)
{
	struct mount *m = mounts_find(ms, id);
	int i;

	ASSERT_NE(NULL, m) TH_LOG("union %u not in the dump", id);
	ASSERT_EQ(n, m->nbr) TH_LOG("union %u", id);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(i, m->br[i].index) TH_LOG("union %u", id);
		EXPECT_STREQ(dirs[i], m->br[i].path);
		EXPECT_EQ(modes[i], m->br[i].mode) TH_LOG("union %u branch %d", id, i);
		EXPECT_STREQ(fstypes[i], m->br[i].fstype);
	}
}

/* A dump of 1000 unions takes several messages and loses none. */
TEST_F(nl, dump_thousand_mounts)
{
	const int n = 1000;
	char *base = strdup(st_fmt("%s/l", self->dir));
	struct mounts ms = {};
	struct reply r;
	int i, ours = 0;

	ST_OK(st_mkdirs(base));
	for (i = 0; i < n; i++) {
		const char *m = st_fmt("%s/k%d", self->dir, i);

		ST_OK(mkdir(m, 0755));
		ASSERT_EQ(0, mount_br(m, "br=%s=rr", base)) TH_LOG("%d: %s", i, strerror(errno));
	}
	dump(&self->s, &self->f, &r);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);
	for (i = 0; i < ms.n; i++)
		ours += ms.v[i].nbr == 1 && !strcmp(ms.v[i].br[0].path, base);
	EXPECT_EQ(n, ours);
	EXPECT_LT(1, r.datagrams);
	TH_LOG("%d unions in %d datagrams", ms.n, r.datagrams);
	mounts_free(&ms);
	reply_free(&r);
	/* st_cleanup() unmounts at most 256 unions. */
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, umount(st_fmt("%s/k%d", self->dir, i)));
	free(base);
}

TEST_F(nl, dump)
{
	static const char *const fss[] = { "ext4", "xfs", "btrfs" };
	const char *fs0 = st_first_fs();
	char *dirs[4], *fst[4], *mnt[3];
	uint32_t id[3], modes[4];
	struct mounts ms = {};
	struct reply r;
	int i, nb = 1;

	for (i = 0; i < 3; i++) {
		mnt[i] = strdup(st_fmt("%s/m%d", self->dir, i));
		ST_OK(st_mkdirs(mnt[i]));
	}
	/* Union 0: rw on the fixture's fs over one branch on each other fs. */
	dirs[0] = strdup(st_fmt("%s/u0", self->dir));
	fst[0] = (char *)fs0;
	modes[0] = STRATA_BRANCH_MODE_RW;
	ST_OK(st_mkdirs(dirs[0]));
	for (i = 0; i < 3; i++) {
		if (!scratch_on(fss[i], self->other[i], sizeof(self->other[i]))) {
			self->other[i][0] = 0;
			continue;
		}
		dirs[nb] = strdup(st_fmt("%s/l", self->other[i]));
		ST_OK(st_mkdirs(dirs[nb]));
		fst[nb] = (char *)fss[i];
		modes[nb] = nb % 2 ? STRATA_BRANCH_MODE_RR : STRATA_BRANCH_MODE_RO;
		nb++;
	}
	{
		char data[4096];
		int n = snprintf(data, sizeof(data), "br=%s=rw", dirs[0]);

		for (i = 1; i < nb; i++)
			n += snprintf(data + n, sizeof(data) - n, ":%s=%s", dirs[i],
				      modes[i] == STRATA_BRANCH_MODE_RR ? "rr" : "ro");
		ASSERT_EQ(0, mount("none", mnt[0], "strata", 0, data))
			TH_LOG("%s: %s", data, strerror(errno));
	}
	/* Union 1: read-only, overlay whiteouts.  Union 2: one branch. */
	ST_OK(st_mkdirs(st_fmt("%s/a", self->dir)));
	ST_OK(st_mkdirs(st_fmt("%s/b", self->dir)));
	ST_OK(mount_br(mnt[1], "br=%s/a=ro:%s/b=rr,whiteout=overlay", self->dir, self->dir));
	ST_OK(mount_br(mnt[2], "br=%s/b=rr", self->dir));
	for (i = 0; i < 3; i++) {
		id[i] = id_of(&self->s, &self->f, mnt[i]);
		ASSERT_NE(0, id[i]);
	}

	dump(&self->s, &self->f, &r);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);
	/* This test's mount namespace holds exactly these three unions. */
	EXPECT_EQ(3, ms.n);
	expect_branches(_metadata, &ms, id[0], nb, dirs, modes, fst);
	{
		char *d1[] = {
			strdup(st_fmt("%s/a", self->dir)), strdup(st_fmt("%s/b", self->dir)),
		};
		char *f1[] = { (char *)fs0, (char *)fs0 };
		uint32_t m1[] = { STRATA_BRANCH_MODE_RO, STRATA_BRANCH_MODE_RR };

		expect_branches(_metadata, &ms, id[1], 2, d1, m1, f1);
		expect_branches(_metadata, &ms, id[2], 1, d1 + 1, m1 + 1, f1);
	}
	for (i = 0; i < 3; i++) {
		struct mount *m = mounts_find(&ms, id[i]);

		if (!m)
			continue;
		EXPECT_TRUE(same_dev(m->dev, mnt[i]));
		EXPECT_TRUE(m->has_options);
		EXPECT_TRUE(m->has_counters);
		EXPECT_EQ(1, m->messages);
		/* A dump does not know which mount the caller means. */
		EXPECT_FALSE(m->has_mountpoint);
		EXPECT_EQ(i != 0, m->readonly) TH_LOG("union %d", i);
		EXPECT_EQ(i == 1 ? STRATA_WHITEOUT_FORMAT_OVERLAY : STRATA_WHITEOUT_FORMAT_AUFS,
			  m->whiteout);
	}
	mounts_free(&ms);
	reply_free(&r);
}

/*
 * Ids are allocated lowest-free first, so a union mounted after an umount
 * may get a smaller id than the unions before it: the dump must still
 * list it.
 */
TEST_F(nl, dump_after_id_reuse)
{
	char *a = strdup(st_fmt("%s/ma", self->dir));
	char *b = strdup(st_fmt("%s/mb", self->dir)), *c = strdup(st_fmt("%s/mc", self->dir));
	uint32_t ida, idb, idc;
	struct mounts ms = {};
	struct reply r;

	ST_OK(st_mkdirs(st_fmt("%s/l", self->dir)));
	ST_OK(st_mkdirs(a));
	ST_OK(st_mkdirs(b));
	ST_OK(st_mkdirs(c));
	ST_OK(mount_br(a, "br=%s/l=ro", self->dir));
	ST_OK(mount_br(b, "br=%s/l=ro", self->dir));
	ida = id_of(&self->s, &self->f, a);
	idb = id_of(&self->s, &self->f, b);
	ASSERT_NE(0, ida);
	ASSERT_NE(0, idb);
	ST_OK(umount(a));
	ST_OK(mount_br(c, "br=%s/l=rr", self->dir));
	idc = id_of(&self->s, &self->f, c);
	ASSERT_NE(0, idc);
	TH_LOG("ids: a %u, b %u, then c %u", ida, idb, idc);

	dump(&self->s, &self->f, &r);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);
	EXPECT_EQ(2, ms.n);
	EXPECT_NE(NULL, mounts_find(&ms, idb));
	EXPECT_NE(NULL, mounts_find(&ms, idc))
		TH_LOG("union %u (mounted last) missing from the dump", idc);
	/* The unmounted union's id is gone, unless c was given it again. */
	if (ida != idc)
		EXPECT_EQ(NULL, mounts_find(&ms, ida));
	mounts_free(&ms);
	reply_free(&r);
}

static int other_ns_child(struct nlsk *s, struct family *f, uint32_t id, int fd)
{
	struct mounts ms = {};
	struct reply r;
	int ret = 0;

	if (unshare(CLONE_NEWNS))
		return 100;
	dump(s, f, &r);
	if (r.error || parse_all(&r, &ms) || ms.n)
		ret |= 1;	/* the parent's union is not ours to see */
	mounts_free(&ms);
	reply_free(&r);
	get_by_id(s, f, id, &r);
	if (r.error != ENOENT)
		ret |= 2;
	reply_free(&r);
	get_by_fd(s, f, fd, &r);
	if (r.error || r.n != 1)
		ret |= 4;	/* but a descriptor is proof of access */
	reply_free(&r);
	return ret;
}

TEST_F(nl, other_namespace)
{
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	int fd, status;
	uint32_t id;
	pid_t pid;

	ST_OK(mount_three(self->dir));
	id = id_of(&self->s, &self->f, mnt);
	ASSERT_NE(0, id);
	fd = open(mnt, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(other_ns_child(&self->s, &self->f, id, fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: dump shows other namespaces, 2: id visible, "
		       "4: fd refused, 100: unshare");
	close(fd);
}

/* Mount dir/b0000..b<n-1> (all ro) on @mnt through fsconfig, by fd. */
static int mount_many(const char *dir, const char *mnt, int n)
{
	int fs, dfd, i, vfd, r;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fs = st_fsopen();
	if (dfd < 0 || fs < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (mkdirat(dfd, st_fmt("b%04d", i), 0755))
			return -1;
		vfd = openat(dfd, st_fmt("b%04d", i), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (vfd < 0)
			return -1;
		r = fsconfig(fs, FSCONFIG_SET_FD, "branch_ro", NULL, vfd);
		close(vfd);
		if (r)
			return -1;
	}
	r = st_fsmount_at(fs, mnt);
	close(fs);
	close(dfd);
	return r;
}

#define MANY 3000

TEST_F(nl, dump_many_branches)
{
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	char *small = strdup(st_fmt("%s/small", self->dir));
	uint32_t id, id_small;
	struct mount *m;
	struct mounts ms = {};
	struct reply r;
	int i, seen[MANY] = {};

	ASSERT_EQ(0, mount_many(self->dir, mnt, MANY)) TH_LOG("%s", strerror(errno));
	ST_OK(st_mkdirs(small));
	ST_OK(mount_br(small, "br=%s/b0001=ro", self->dir));
	id_small = id_of(&self->s, &self->f, small);
	ASSERT_NE(0, id_small);

	dump(&self->s, &self->f, &r);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);
	ASSERT_EQ(2, ms.n);
	id = ms.v[0].id == id_small ? ms.v[1].id : ms.v[0].id;
	m = mounts_find(&ms, id);
	TH_LOG("%d branches in %d messages, %d datagrams", m->nbr, m->messages, r.datagrams);
	EXPECT_LT(1, m->messages);
	EXPECT_TRUE(same_dev(m->dev, mnt));
	EXPECT_TRUE(m->readonly);
	ASSERT_EQ(MANY, m->nbr);
	for (i = 0; i < m->nbr; i++) {
		uint32_t k = m->br[i].index;

		ASSERT_LT(k, MANY);
		EXPECT_EQ(0, seen[k]) TH_LOG("branch %u sent twice", k);
		seen[k]++;
		/* Continuations come in order. */
		EXPECT_EQ(i, k);
		EXPECT_STREQ(st_fmt("%s/b%04u", self->dir, k), m->br[i].path);
		EXPECT_EQ(STRATA_BRANCH_MODE_RO, m->br[i].mode);
	}
	/* The union after it is complete too. */
	m = mounts_find(&ms, id_small);
	ASSERT_NE(NULL, m);
	EXPECT_EQ(1, m->nbr);
	mounts_free(&ms);
	reply_free(&r);
}

/*
 * One reply for the whole 3000-branch union: the options string alone
 * is over 64 KiB, more than one attribute can carry.  Whatever the kernel
 * does about it (leave the options out, or truncate and warn), the reply
 * must be well-formed.
 */
TEST_F(nl, get_many_branches)
{
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	char type[32], *mi;
	struct mounts ms = {};
	struct reply r;
	int fd;

	ASSERT_EQ(0, mount_many(self->dir, mnt, MANY)) TH_LOG("%s", strerror(errno));
	mi = st_mountinfo(mnt, type, sizeof(type));
	ASSERT_NE(NULL, mi);
	TH_LOG("mountinfo options: %zu bytes", strlen(mi));
	fd = open(mnt, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	get_by_fd(&self->s, &self->f, fd, &r);
	close(fd);
	ASSERT_EQ(0, r.error) TH_LOG("%s", r.msg);
	ASSERT_EQ(1, r.n);
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("malformed reply: %s", ms.why);
	ASSERT_EQ(1, ms.n);
	if (ms.v[0].has_options)
		EXPECT_STREQ(mi + strlen(mi) - strlen(ms.v[0].options), ms.v[0].options);
	if (ms.v[0].nbr != MANY)
		EXPECT_NE(0, r.msg[0]) TH_LOG("%d branches without a warning", ms.v[0].nbr);
	free(mi);
	mounts_free(&ms);
	reply_free(&r);
}

TEST_F(nl, counters)
{
	static const size_t sizes[] = { 0, 1, 4096, 10000, 65543 };
	const int n = sizeof(sizes) / sizeof(sizes[0]);
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	uint64_t sum = 0, c0[4], c1[4];
	struct mounts ms = {};
	struct reply r;
	char *buf;
	uint32_t id;
	int i, fd;

	ST_OK(st_mkdirs(st_fmt("%s/u", self->dir)));
	buf = calloc(1, 65543);
	for (i = 0; i < n; i++) {
		ST_OK(st_put_buf(st_fmt("%s/l/f%d", self->dir, i), buf, sizes[i]));
		sum += sizes[i];
	}
	ST_OK(st_put(st_fmt("%s/l/gone", self->dir), "x"));
	free(buf);
	ST_OK(mount_br(mnt, "br=%s/u=rw:%s/l=ro", self->dir, self->dir));
	id = id_of(&self->s, &self->f, mnt);
	ASSERT_NE(0, id);

#define COUNTERS(c) do {						\
	get_by_id(&self->s, &self->f, id, &r);				\
	ASSERT_EQ(0, r.error);						\
	ASSERT_EQ(0, parse_all(&r, &ms)) TH_LOG("%s", ms.why);	\
	ASSERT_TRUE(ms.v[0].has_counters);				\
	(c)[0] = ms.v[0].lookups;					\
	(c)[1] = ms.v[0].copy_ups;					\
	(c)[2] = ms.v[0].copy_bytes;					\
	(c)[3] = ms.v[0].whiteouts;					\
	EXPECT_EQ(0, ms.v[0].branch_changes);				\
	mounts_free(&ms);						\
	reply_free(&r);							\
} while (0)

	COUNTERS(c0);
	/* Opening a lower file for writing copies it up. */
	for (i = 0; i < n; i++) {
		fd = open(st_fmt("%s/f%d", mnt, i), O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("f%d: %s", i, strerror(errno));
		close(fd);
	}
	/* Again: already up, no second copy. */
	fd = open(st_fmt("%s/f%d", mnt, n - 1), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	COUNTERS(c1);
	EXPECT_EQ(n, c1[1] - c0[1]);
	EXPECT_EQ(sum, c1[2] - c0[2]);
	EXPECT_EQ(c0[3], c1[3]);

	/* Removing a lower file leaves a whiteout. */
	ST_OK(unlink(st_fmt("%s/gone", mnt)));
	COUNTERS(c0);
	EXPECT_EQ(c1[3] + 1, c0[3]);
	EXPECT_EQ(c1[1], c0[1]);

	/* Names not in the dcache are looked up in the branches. */
	for (i = 0; i < 10; i++)
		EXPECT_EQ(-1, access(st_fmt("%s/missing%d", mnt, i), F_OK));
	COUNTERS(c1);
	EXPECT_LE(c0[0] + 10, c1[0]);
#undef COUNTERS
}

/* ---- monitor ---- */

static int join(struct nlsk *s, uint32_t group)
{
	return setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group));
}

/*
 * The next strata event on @s with command @cmd, within @ms; others are
 * skipped.  A copy of the message, or NULL.
 */
static struct nlmsghdr *next_event(struct nlsk *s, uint16_t family, uint8_t cmd, int ms)
{
	for (;;) {
		ssize_t n = nlsk_recv(s, ms);
		struct nlmsghdr *nlh, *copy = NULL;

		if (n < 0)
			return NULL;
		for (nlh = (void *)s->buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			const struct genlmsghdr *g = NLMSG_DATA(nlh);

			if (copy || nlh->nlmsg_type != family || g->cmd != cmd)
				continue;
			copy = malloc(nlh->nlmsg_len);
			memcpy(copy, nlh, nlh->nlmsg_len);
		}
		if (copy)
			return copy;
	}
}

struct copy_up_ev {
	uint32_t id;
	char path[256];
	uint64_t size, duration;
};

static int parse_copy_up(const struct nlmsghdr *nlh, struct copy_up_ev *e)
{
	const struct nlattr *tb[STRATA_A_COPY_UP_MAX + 1];

	if (!nlh || msg_attrs(nlh, tb, STRATA_A_COPY_UP_MAX) ||
	    !is_u32(tb[STRATA_A_COPY_UP_MOUNT_ID]) || !str_of(tb[STRATA_A_COPY_UP_PATH]) ||
	    !is_u64(tb[STRATA_A_COPY_UP_SIZE]) || !is_u64(tb[STRATA_A_COPY_UP_DURATION_NS]))
		return -1;
	e->id = u32_of(tb[STRATA_A_COPY_UP_MOUNT_ID]);
	snprintf(e->path, sizeof(e->path), "%s", str_of(tb[STRATA_A_COPY_UP_PATH]));
	e->size = u64_of(tb[STRATA_A_COPY_UP_SIZE]);
	e->duration = u64_of(tb[STRATA_A_COPY_UP_DURATION_NS]);
	return 0;
}

TEST_F(nl, monitor)
{
	const char *mnt = strdup(st_fmt("%s/m", self->dir));
	static const char *const spec[] = {
		"1:f:f=0123456789", "1:f:d/g=abc", NULL,
	};
	struct copy_up_ev e;
	struct nlmsghdr *ev;
	struct mounts ms = {};
	struct nlsk mon;
	uint32_t id = 0;
	int fd, tries;

	ASSERT_EQ(0, nlsk_open(&mon, 4 << 20));
	ASSERT_EQ(0, join(&mon, self->f.monitor)) TH_LOG("join: %s", strerror(errno));
	ST_OK(st_build(self->dir, spec));
	ST_OK(st_mkdirs(st_fmt("%s/l0", self->dir)));
	ST_OK(mount_br(mnt, "br=%s/l0=rw:%s/l1=ro", self->dir, self->dir));

	/* mount-new: the union with its branches, matched by device. */
	for (tries = 0; tries < 20 && !id; tries++) {
		ev = next_event(&mon, self->f.id, STRATA_CMD_MOUNT_NEW_NTF, 5000);
		ASSERT_NE(NULL, ev) TH_LOG("no mount event");
		ASSERT_EQ(0, parse_mount(ev, &ms)) TH_LOG("%s", ms.why);
		free(ev);
		if (same_dev(ms.v[ms.n - 1].dev, mnt))
			id = ms.v[ms.n - 1].id;
	}
	ASSERT_NE(0, id);
	EXPECT_EQ(id, id_of(&self->s, &self->f, mnt));
	{
		struct mount *m = mounts_find(&ms, id);

		ASSERT_EQ(2, m->nbr);
		EXPECT_STREQ(st_fmt("%s/l0", self->dir), m->br[0].path);
		EXPECT_EQ(STRATA_BRANCH_MODE_RW, m->br[0].mode);
		EXPECT_EQ(STRATA_BRANCH_MODE_RO, m->br[1].mode);
		EXPECT_TRUE(m->has_options);
		EXPECT_FALSE(m->readonly);
	}
	mounts_free(&ms);

	/* copy-up of f: path from the union's root, size, a duration. */
	fd = open(st_fmt("%s/f", mnt), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ev = next_event(&mon, self->f.id, STRATA_CMD_COPY_UP_NTF, 5000);
	ASSERT_EQ(0, parse_copy_up(ev, &e));
	free(ev);
	EXPECT_EQ(id, e.id);
	EXPECT_STREQ("/f", e.path);
	EXPECT_EQ(10, e.size);
	EXPECT_LT(0, e.duration);

	/* A nested file: its directory first (no data), then the file. */
	fd = open(st_fmt("%s/d/g", mnt), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ev = next_event(&mon, self->f.id, STRATA_CMD_COPY_UP_NTF, 5000);
	ASSERT_EQ(0, parse_copy_up(ev, &e));
	free(ev);
	EXPECT_STREQ("/d", e.path);
	EXPECT_EQ(0, e.size);
	ev = next_event(&mon, self->f.id, STRATA_CMD_COPY_UP_NTF, 5000);
	ASSERT_EQ(0, parse_copy_up(ev, &e));
	free(ev);
	EXPECT_STREQ("/d/g", e.path);
	EXPECT_EQ(3, e.size);

	/* umount: mount-del with the id. */
	ST_OK(umount(mnt));
	for (tries = 0; tries < 20; tries++) {
		const struct nlattr *tb[STRATA_A_MOUNT_MAX + 1];

		ev = next_event(&mon, self->f.id, STRATA_CMD_MOUNT_DEL_NTF, 5000);
		ASSERT_NE(NULL, ev) TH_LOG("no umount event for %u", id);
		ASSERT_EQ(0, msg_attrs(ev, tb, STRATA_A_MOUNT_MAX));
		ASSERT_TRUE(is_u32(tb[STRATA_A_MOUNT_ID]));
		if (u32_of(tb[STRATA_A_MOUNT_ID]) == id) {
			free(ev);
			break;
		}
		free(ev);
	}
	EXPECT_LT(tries, 20);
	nlsk_close(&mon);
}

struct unpriv_arg {
	struct family *f;
	const char *mnt;
	uint32_t id;
};

/* As nobody: no monitor, but mount-get of our own unions. */
static int unprivileged(void *arg)
{
	struct unpriv_arg *a = arg;
	struct mounts ms = {};
	struct reply r;
	struct family f;
	struct nlsk s;
	int ret = 0, fd;

	if (nlsk_open(&s, 0) || resolve(&s, &f))
		return 100;
	if (!join(&s, a->f->monitor) || errno != EPERM)
		ret |= 1;
	fd = open(a->mnt, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 101;
	get_by_fd(&s, &f, fd, &r);
	close(fd);
	if (r.error || parse_all(&r, &ms) || ms.n != 1 || ms.v[0].id != a->id)
		ret |= 2;
	mounts_free(&ms);
	reply_free(&r);
	dump(&s, &f, &r);
	if (r.error || parse_all(&r, &ms) || !mounts_find(&ms, a->id))
		ret |= 4;
	mounts_free(&ms);
	reply_free(&r);
	/* Capabilities in a user namespace of our own do not count. */
	if (!unshare(CLONE_NEWUSER) && (!join(&s, a->f->monitor) || errno != EPERM))
		ret |= 8;
	nlsk_close(&s);
	return ret;
}

TEST_F(nl, unprivileged)
{
	struct unpriv_arg a = { .f = &self->f, .mnt = strdup(st_fmt("%s/m", self->dir)) };
	int ret;

	ST_OK(mount_three(self->dir));
	a.id = id_of(&self->s, &self->f, a.mnt);
	ASSERT_NE(0, a.id);
	ret = st_run_as(ST_NOBODY, unprivileged, &a);
	EXPECT_EQ(0, ret)
		TH_LOG("1: joined the monitor group, 2: mount-get by fd failed, "
		       "4: dump misses the union, 8: joined from a user namespace, "
		       "100/101: setup");
}

TEST_HARNESS_MAIN
