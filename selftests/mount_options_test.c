// SPDX-License-Identifier: GPL-2.0
/*
 * Mount option parsing and branch validation, through both the new mount
 * API (errors must reach the fs_context log, naming branch and cause) and
 * mount(2) (errno only; its messages go to the kernel log).
 *
 * FSCONFIG_SET_FD values are opened O_RDONLY: fsconfig() takes them with
 * fget(), which refuses O_PATH descriptors (EBADF) on 6.1 and 6.12.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "kselftest_harness.h"
#include "strata_test.h"

enum how { S, P, F, FLAG };	/* string, SET_PATH, SET_FD, SET_FLAG */

struct step {
	enum how how;
	const char *key;
	const char *val;
};

/*
 * Apply @steps to a fresh fs_context, create and mount it on @mnt.  Returns
 * 0 on success or the errno of the first failing call (the errors may be
 * found at fsconfig time or at create time, both are fine); *log gets the
 * fs_context log.
 */
static int try_fsmount(const char *mnt, const struct step *s, int n, char **log)
{
	int fd = st_fsopen(), err = 0, i;

	*log = NULL;
	if (fd < 0)
		return errno;
	for (i = 0; i < n && !err; i++) {
		int vfd, r = -1;

		switch (s[i].how) {
		case S:
			r = fsconfig(fd, FSCONFIG_SET_STRING, s[i].key, s[i].val, 0);
			break;
		case P:
			r = fsconfig(fd, FSCONFIG_SET_PATH, s[i].key, s[i].val, AT_FDCWD);
			break;
		case F:
			vfd = open(s[i].val, O_RDONLY | O_CLOEXEC);
			if (vfd < 0)
				return 1000 + errno;	/* setup problem, not strata */
			r = fsconfig(fd, FSCONFIG_SET_FD, s[i].key, NULL, vfd);
			err = errno;
			close(vfd);
			errno = err;
			err = 0;
			break;
		case FLAG:
			r = fsconfig(fd, FSCONFIG_SET_FLAG, s[i].key, NULL, 0);
			break;
		}
		if (r)
			err = errno;
	}
	if (!err && st_fsmount_at(fd, mnt))
		err = errno;
	*log = st_fslog(fd);
	close(fd);
	return err;
}

/* mount(2) with printf-built data; 0 or errno. */
static int __attribute__((format(printf, 2, 3)))
mount2(const char *mnt, const char *fmt, ...)
{
	char data[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(data, sizeof(data), fmt, ap);
	va_end(ap);
	return mount("none", mnt, st_union_type(), 0, data) ? errno : 0;
}

/* Does an error line ("e ...") of @log contain the formatted text? */
static bool __attribute__((format(printf, 2, 3)))
log_has(const char *log, const char *fmt, ...)
{
	char want[ST_PATH], *copy, *line, *p;
	bool found = false;
	va_list ap;

	if (!log)
		return false;
	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	copy = strdup(log);
	for (p = copy; !found && (line = strsep(&p, "\n"));)
		found = !strncmp(line, "e ", 2) && strstr(line, want);
	free(copy);
	return found;
}

/* Is @tok one whole comma-separated item of the super options? */
static bool opt_has(const char *opts, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = opts;

	while (opts && (p = strstr(p, tok))) {
		if ((p == opts || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return true;
		p++;
	}
	return false;
}

FIXTURE(opts) {
	char dir[ST_PATH];
	char a[ST_PATH], b[ST_PATH], c[ST_PATH];
	char sub[ST_PATH], file[ST_PATH], weird[ST_PATH], colon[ST_PATH];
	char mnt[ST_PATH];
	char *log;
};

FIXTURE_SETUP(opts)
{
	ST_PREPARE(NULL, "opts", self->dir);
	strcpy(self->a, st_fmt("%s/a", self->dir));
	strcpy(self->b, st_fmt("%s/b", self->dir));
	strcpy(self->c, st_fmt("%s/c", self->dir));
	strcpy(self->sub, st_fmt("%s/a/sub", self->dir));
	strcpy(self->file, st_fmt("%s/file", self->dir));
	/* Every character br= has to escape, and a space for mountinfo's. */
	strcpy(self->weird, st_fmt("%s/w:e=i,r\\d sp", self->dir));
	strcpy(self->colon, st_fmt("%s/co:lon", self->dir));
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_put(st_fmt("%s/fa", self->a), "A"));
	ST_OK(st_put(st_fmt("%s/fb", self->b), "B"));
	ST_OK(st_put(st_fmt("%s/fc", self->c), "C"));
	ST_OK(st_put(st_fmt("%s/same", self->a), "top"));
	ST_OK(st_put(st_fmt("%s/same", self->b), "middle"));
	ST_OK(st_put(st_fmt("%s/same", self->c), "bottom"));
	ST_OK(st_put(st_fmt("%s/x", self->sub), "x"));
	ST_OK(st_put(self->file, "not a dir"));
	ST_OK(st_put(st_fmt("%s/fw", self->weird), "W"));
	ST_OK(st_put(st_fmt("%s/fcol", self->colon), "colon"));
	ST_OK(st_mkdirs(self->mnt));
	self->log = NULL;
}

ST_TEARDOWN(opts)

/* Content of @name in the union, or "" when it cannot be read. */
static const char *uread(const char *mnt, const char *name)
{
	char *s = st_slurp(st_fmt("%s/%s", mnt, name), NULL);

	return s ? s : "";
}

/* ---- bad branches ---- */

TEST_F(opts, missing_branch)
{
	const char *nope = strdup(st_fmt("%s/nope", self->dir));
	struct step s1[] = { { S, "branch_ro", nope } };
	struct step s2[] = { { S, "branch_ro", self->a }, { P, "branch_rr", nope } };

	EXPECT_EQ(ENOENT, try_fsmount(self->mnt, s1, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: does not exist", nope))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(ENOENT, try_fsmount(self->mnt, s2, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: does not exist", nope))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(ENOENT, mount2(self->mnt, "br=%s=ro", nope));
}

TEST_F(opts, not_a_directory)
{
	struct step s1[] = { { S, "branch_ro", self->file } };
	struct step s2[] = { { P, "branch_ro", self->file } };
	struct step s3[] = { { S, "branch_ro", self->a }, { F, "branch_ro", self->file } };

	EXPECT_EQ(ENOTDIR, try_fsmount(self->mnt, s1, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: not a directory", self->file))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(ENOTDIR, try_fsmount(self->mnt, s2, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: not a directory", self->file))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(ENOTDIR, try_fsmount(self->mnt, s3, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "not a directory"))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(ENOTDIR, mount2(self->mnt, "br=%s=ro:%s=ro", self->a, self->file));
}

TEST_F(opts, given_twice)
{
	struct step s1[] = { { S, "branch_ro", self->a }, { S, "branch_rr", self->a } };
	/* The same directory spelled differently is still the same branch. */
	struct step s2[] = { { S, "branch_ro", self->a }, { F, "branch_ro", self->b },
			     { P, "branch_ro", st_fmt("%s/./sub/..", self->a) } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: given twice", self->a))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s2, 3, &self->log));
	EXPECT_TRUE(log_has(self->log, "given twice"))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro:%s=ro", self->a, self->a));
}

TEST_F(opts, nested_branches)
{
	struct step s1[] = { { S, "branch_ro", self->a }, { S, "branch_ro", self->sub } };
	struct step s2[] = { { S, "branch_ro", self->sub }, { S, "branch_ro", self->b },
			     { F, "branch_ro", self->a } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: inside branch %s", self->sub, self->a))
		TH_LOG("log: %s", self->log);
	/* Ancestor given after its descendant: the same complaint. */
	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s2, 3, &self->log));
	EXPECT_TRUE(log_has(self->log, ": inside branch ") &&
		    log_has(self->log, "%s", self->sub))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro:%s=ro", self->a, self->sub));
	EXPECT_EQ(EINVAL, mount2(self->mnt, "lowerdir=%s:%s", self->sub, self->a));
}

TEST_F(opts, unknown_mode)
{
	const char *br = strdup(st_fmt("%s=ro:%s=xx", self->a, self->b));
	struct step s1[] = { { S, "br", br } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: unknown mode 'xx'", self->b))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=rx", self->a));
}

/*
 * A writable top branch mounts a writable union showing "=rw"; anything
 * else (an error, a read-only mount) is wrong.  Returns an empty string
 * when the outcome is right.
 */
static const char *rw_outcome(int err, const char *log, const char *mnt, const char *top)
{
	struct statvfs sv;
	char *mi;

	if (err)
		return st_fmt("errno %d, log: %s", err, log ?: "(mount(2))");
	mi = st_mountinfo(mnt, NULL, 0);
	if (statvfs(mnt, &sv) || (sv.f_flag & ST_RDONLY))
		return "mounted, but read-only";
	if (!mi || !strstr(mi, st_fmt("br=%s=rw", top)))
		return st_fmt("mounted, mountinfo: %s", mi ?: "(none)");
	if (umount2(mnt, 0))
		return "cannot unmount";
	return "";
}

TEST_F(opts, rw_top_branch)
{
	struct step s1[] = { { S, "branch_rw", self->a } };
	struct step s2[] = { { S, "branch", self->a }, { S, "branch", self->b } };
	struct step s3[] = { { S, "br", st_fmt("%s:%s", self->a, self->b) } };
	int err;

	err = try_fsmount(self->mnt, s1, 1, &self->log);
	EXPECT_STREQ("", rw_outcome(err, self->log, self->mnt, self->a));
	/* "branch" and a bare br= path default to rw in the top position. */
	err = try_fsmount(self->mnt, s2, 2, &self->log);
	EXPECT_STREQ("", rw_outcome(err, self->log, self->mnt, self->a));
	err = try_fsmount(self->mnt, s3, 1, &self->log);
	EXPECT_STREQ("", rw_outcome(err, self->log, self->mnt, self->a));
	err = mount2(self->mnt, "br=%s", self->a);
	EXPECT_STREQ("", rw_outcome(err, NULL, self->mnt, self->a));
	err = mount2(self->mnt, "br=%s=rw:%s=ro", self->a, self->b);
	EXPECT_STREQ("", rw_outcome(err, NULL, self->mnt, self->a));
}

/* Only the top branch may be writable; the message names the branch. */
TEST_F(opts, rw_below_top)
{
	struct step s1[] = { { S, "br", st_fmt("%s=ro:%s=rw", self->a, self->b) } };
	struct step s2[] = { { S, "branch_ro", self->a }, { S, "branch_rw", self->b } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: only the top branch may be rw", self->b))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s2, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "branch %s: only the top branch may be rw", self->b))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro:%s=rw", self->a, self->b));
}

TEST_F(opts, rw_on_readonly_fs)
{
	const char *ro = strdup(st_fmt("%s/robind", self->dir));
	struct step s1[] = { { S, "branch_rw", ro }, { S, "branch_ro", self->b } };
	int err;

	ASSERT_EQ(0, st_mkdirs(ro));
	ASSERT_EQ(0, mount(self->a, ro, NULL, MS_BIND, NULL));
	ASSERT_EQ(0, mount(NULL, ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL));
	err = try_fsmount(self->mnt, s1, 2, &self->log);
	EXPECT_EQ(EROFS, err);
	EXPECT_TRUE(log_has(self->log, "branch %s: rw branch on a read-only filesystem", ro))
		TH_LOG("log: %s", self->log);
}

/* overlayfs' writable spelling: a writable union, as above. */
TEST_F(opts, upperdir)
{
	const char *work = strdup(st_fmt("%s/work", self->dir));
	struct step s1[] = { { S, "lowerdir", self->b }, { S, "upperdir", self->a },
			     { S, "workdir", work } };
	int err;

	ASSERT_EQ(0, st_mkdirs(work));
	err = try_fsmount(self->mnt, s1, 3, &self->log);
	EXPECT_STREQ("", rw_outcome(err, self->log, self->mnt, self->a));
	err = mount2(self->mnt, "lowerdir=%s,upperdir=%s,workdir=%s", self->b, self->a, work);
	EXPECT_STREQ("", rw_outcome(err, NULL, self->mnt, self->a));
}

TEST_F(opts, no_branches)
{
	struct step s1[] = { { S, "whiteout", "overlay" } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, NULL, 0, &self->log));
	EXPECT_TRUE(log_has(self->log, "no branches given")) TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "no branches given")) TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "whiteout=aufs"));
}

TEST_F(opts, br_and_lowerdir)
{
	struct step s1[] = { { S, "br", st_fmt("%s=ro", self->a) }, { S, "lowerdir", self->b } };
	struct step s2[] = { { S, "lowerdir", self->b }, { S, "br", st_fmt("%s=ro", self->a) } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "br= and lowerdir= cannot be combined"))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s2, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "br= and lowerdir= cannot be combined"))
		TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro,lowerdir=%s", self->a, self->b));
}

TEST_F(opts, empty_branch_path)
{
	struct step s1[] = { { S, "br", st_fmt("%s=ro::%s=ro", self->a, self->b) } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 1, &self->log));
	EXPECT_TRUE(log_has(self->log, "empty branch path")) TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro::%s=ro", self->a, self->b));
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br==ro:%s=ro", self->a));
}

TEST_F(opts, unknown_key_and_bad_value)
{
	struct step s1[] = { { S, "branch_ro", self->a }, { S, "nosuchkey", "1" } };
	struct step s2[] = { { S, "branch_ro", self->a }, { S, "whiteout", "bogus" } };

	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s1, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "nosuchkey")) TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, try_fsmount(self->mnt, s2, 2, &self->log));
	EXPECT_TRUE(log_has(self->log, "whiteout")) TH_LOG("log: %s", self->log);
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro,nosuchkey", self->a));
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro,whiteout=bogus", self->a));
}

/* New /dev/kmsg records since @fd was opened, one message per line. */
static char *kmsg_since(int fd)
{
	size_t cap = 65536, n = 0;
	char *out = calloc(1, cap), rec[8192];
	ssize_t r;

	while (out && ((r = read(fd, rec, sizeof(rec) - 1)) > 0 || (r < 0 && errno == EPIPE))) {
		char *msg;

		if (r <= 0)
			continue;	/* EPIPE: records were overwritten, go on */
		rec[r] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (n + strlen(msg) + 2 > cap)
			break;
		n += sprintf(out + n, "%s\n", msg);
	}
	return out;
}

/* mount(2) has no log to read back: its messages go to the kernel log. */
TEST_F(opts, mount2_errors_in_kernel_log)
{
	const char *nope = strdup(st_fmt("%s/nope", self->dir));
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char *k;

	if (kfd < 0)
		SKIP(return, "no /dev/kmsg: %s", strerror(errno));
	lseek(kfd, 0, SEEK_END);
	EXPECT_EQ(ENOENT, mount2(self->mnt, "br=%s=ro:%s=ro", self->a, nope));
	EXPECT_EQ(EINVAL, mount2(self->mnt, "br=%s=ro:%s=ro", self->a, self->a));
	k = kmsg_since(kfd);
	EXPECT_NE(NULL, strstr(k, st_fmt("branch %s: does not exist", nope))) TH_LOG("%s", k);
	EXPECT_NE(NULL, strstr(k, st_fmt("branch %s: given twice", self->a))) TH_LOG("%s", k);
	close(kfd);
}

/* ---- good forms ---- */

TEST_F(opts, br_modes_mount2)
{
	char type[64] = "";
	char *mi;

	ASSERT_EQ(0, mount2(self->mnt, "br=%s=ro:%s=rr:%s", self->a, self->b, self->c));
	EXPECT_STREQ("A", uread(self->mnt, "fa"));
	EXPECT_STREQ("B", uread(self->mnt, "fb"));
	EXPECT_STREQ("C", uread(self->mnt, "fc"));
	EXPECT_STREQ("top", uread(self->mnt, "same"));
	mi = st_mountinfo(self->mnt, type, sizeof(type));
	ASSERT_NE(NULL, mi);
	EXPECT_STREQ("strata", type);
	/* Modes spelled out, the default ro of lower branches included. */
	EXPECT_TRUE(opt_has(mi, st_fmt("br=%s=ro:%s=rr:%s=ro", self->a, self->b, self->c)))
		TH_LOG("mountinfo: %s", mi);
	EXPECT_FALSE(mi && strstr(mi, "whiteout=")) TH_LOG("mountinfo: %s", mi);
	EXPECT_FALSE(opt_has(mi, "userxattr")) TH_LOG("mountinfo: %s", mi);
	EXPECT_EQ(0, st_umount(self->mnt));
}

TEST_F(opts, br_string_fsconfig)
{
	struct step s1[] = { { S, "br", st_fmt("%s=rr:%s=ro", self->b, self->c) } };
	char *mi;

	ASSERT_EQ(0, try_fsmount(self->mnt, s1, 1, &self->log)) TH_LOG("log: %s", self->log);
	EXPECT_STREQ("middle", uread(self->mnt, "same"));
	EXPECT_STREQ("C", uread(self->mnt, "fc"));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_TRUE(opt_has(mi, st_fmt("br=%s=rr:%s=ro", self->b, self->c)))
		TH_LOG("mountinfo: %s", mi);
}

/* One branch per call, by string, by path and by descriptor. */
TEST_F(opts, branch_keys)
{
	struct step s1[] = { { S, "branch_ro", self->a }, { P, "branch_rr", self->b },
			     { F, "branch", self->c } };
	char *mi;

	ASSERT_EQ(0, try_fsmount(self->mnt, s1, 3, &self->log)) TH_LOG("log: %s", self->log);
	EXPECT_STREQ("top", uread(self->mnt, "same"));
	EXPECT_STREQ("B", uread(self->mnt, "fb"));
	EXPECT_STREQ("C", uread(self->mnt, "fc"));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_TRUE(opt_has(mi, st_fmt("br=%s=ro:%s=rr:%s=ro", self->a, self->b, self->c)))
		TH_LOG("mountinfo: %s", mi);
}

/*
 * ':' '=' ',' '\' escaped with '\' in br=; mountinfo then shows the same
 * spelling under its own octal escapes (undone by st_mountinfo).
 */
TEST_F(opts, escaped_paths)
{
	char *ew = st_br_escape(self->weird);
	struct step s1[] = { { S, "branch_ro", self->weird }, { S, "branch_ro", self->b } };
	struct step s2[] = { { S, "br", st_fmt("%s=rr", ew) } };
	const char *want = strdup(st_fmt("br=%s=ro:%s=ro", ew, self->b));
	char *mi;

	ASSERT_EQ(0, mount2(self->mnt, "br=%s=ro:%s=ro", ew, self->b));
	EXPECT_STREQ("W", uread(self->mnt, "fw"));
	EXPECT_STREQ("B", uread(self->mnt, "fb"));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_TRUE(mi && strstr(mi, want)) TH_LOG("mountinfo: %s want %s", mi, want);
	ASSERT_EQ(0, st_umount(self->mnt));

	/* fsconfig branch keys take the path raw. */
	ASSERT_EQ(0, try_fsmount(self->mnt, s1, 2, &self->log)) TH_LOG("log: %s", self->log);
	EXPECT_STREQ("W", uread(self->mnt, "fw"));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_TRUE(mi && strstr(mi, want)) TH_LOG("mountinfo: %s want %s", mi, want);
	ASSERT_EQ(0, st_umount(self->mnt));

	/* ... while br= given to fsconfig is escaped like mount(2)'s. */
	ASSERT_EQ(0, try_fsmount(self->mnt, s2, 1, &self->log)) TH_LOG("log: %s", self->log);
	EXPECT_STREQ("W", uread(self->mnt, "fw"));
}

TEST_F(opts, lowerdir)
{
	char *mi, *pa, *pb, *pc;

	ASSERT_EQ(0, mount2(self->mnt, "lowerdir=%s:%s:%s", self->a, self->b, self->c));
	EXPECT_STREQ("top", uread(self->mnt, "same"));
	EXPECT_STREQ("C", uread(self->mnt, "fc"));
	EXPECT_EQ(-1, open(st_fmt("%s/fa", self->mnt), O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	/* Shown in the br= spelling, top first. */
	mi = st_mountinfo(self->mnt, NULL, 0);
	ASSERT_NE(NULL, mi);
	pa = strstr(mi, st_fmt("br=%s=", self->a));
	pb = strstr(mi, st_fmt(":%s=", self->b));
	pc = strstr(mi, st_fmt(":%s=", self->c));
	EXPECT_TRUE(pa && pb && pc && pa < pb && pb < pc) TH_LOG("mountinfo: %s", mi);
	ASSERT_EQ(0, st_umount(self->mnt));

	/* overlayfs escaping: "\:" inside a lowerdir path. */
	ASSERT_EQ(0, mount2(self->mnt, "lowerdir=%s/co\\:lon:%s", self->dir, self->b));
	EXPECT_STREQ("colon", uread(self->mnt, "fcol"));
	EXPECT_STREQ("B", uread(self->mnt, "fb"));
}

TEST_F(opts, lowerdir_append)
{
	struct step s1[] = { { S, "lowerdir+", self->b }, { S, "lowerdir+", self->a },
			     { S, "lowerdir+", self->c } };

	ASSERT_EQ(0, try_fsmount(self->mnt, s1, 3, &self->log)) TH_LOG("log: %s", self->log);
	/* Appended in order: b is on top. */
	EXPECT_STREQ("middle", uread(self->mnt, "same"));
	EXPECT_STREQ("A", uread(self->mnt, "fa"));
	EXPECT_STREQ("C", uread(self->mnt, "fc"));
}

TEST_F(opts, whiteout_and_userxattr)
{
	char *mi;

	ASSERT_EQ(0, mount2(self->mnt, "br=%s=ro,whiteout=overlay", self->a));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_TRUE(opt_has(mi, "whiteout=overlay")) TH_LOG("mountinfo: %s", mi);
	ASSERT_EQ(0, st_umount(self->mnt));

	/* The default is not shown. */
	ASSERT_EQ(0, mount2(self->mnt, "br=%s=ro,whiteout=aufs", self->a));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_FALSE(mi && strstr(mi, "whiteout=")) TH_LOG("mountinfo: %s", mi);
	ASSERT_EQ(0, st_umount(self->mnt));

	ASSERT_EQ(0, mount2(self->mnt, "br=%s=ro,userxattr", self->a));
	mi = st_mountinfo(self->mnt, NULL, 0);
	EXPECT_TRUE(opt_has(mi, "userxattr")) TH_LOG("mountinfo: %s", mi);
	EXPECT_STREQ("A", uread(self->mnt, "fa"));
}

TEST_F(opts, read_only_union)
{
	struct statvfs sv;

	ASSERT_EQ(0, mount2(self->mnt, "br=%s=ro:%s=rr", self->a, self->b));
	ASSERT_EQ(0, statvfs(self->mnt, &sv));
	EXPECT_TRUE(sv.f_flag & ST_RDONLY);
	EXPECT_EQ(-1, open(st_fmt("%s/fa", self->mnt), O_WRONLY));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(st_fmt("%s/new", self->mnt), O_WRONLY | O_CREAT, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mkdir(st_fmt("%s/newdir", self->mnt), 0755));
	EXPECT_EQ(EROFS, errno);
	/* Nothing leaked into the top branch. */
	EXPECT_EQ(-1, access(st_fmt("%s/new", self->a), F_OK));
	EXPECT_EQ(-1, access(st_fmt("%s/newdir", self->a), F_OK));
}

TEST_HARNESS_MAIN
