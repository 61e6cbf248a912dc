// SPDX-License-Identifier: GPL-2.0
/*
 * Injected failures: strata's own fault points (kmod/fault.c, debugfs
 * strata/fail_*: one in ten of strata's allocations, copy-ups and
 * whiteouts failing for this process) and, on a kernel that has it, the
 * kernel's failslab (one in fifty slab allocations of this process,
 * wherever they are: VFS, strata, branch filesystem).  Under each, run a
 * mix of union operations (lookups, readdir, copy-up writes, renames,
 * unlinks, mkdir/rmdir, chmod, branch add/del, remounts) many times.
 * Every call must succeed or fail with an errno the operation can give;
 * with injection off again the union must be consistent, the lower
 * branches byte-identical, and unmounting clean (strata warns at umount
 * if a union entry leaked a branch reference; the log check fails then).
 *
 * STRATA_FAULT_ITERS sets the number of operations (default 600),
 * STRATA_FAULT_SEED the choice of files (default 1).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"
#include "nl_client.h"
#include "../uapi/linux/strata.h"

#define DBG "/sys/kernel/debug/strata/"

static int put_dbg(const char *name, long v)
{
	char path[128];

	snprintf(path, sizeof(path), DBG "%s", name);
	return st_put(path, st_fmt("%ld", v));
}

static long get_dbg(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), DBG "%s", name);
	return atol(st_cat(path));
}

/*
 * Two injectors: strata's own fault points (any kernel), and the kernel's
 * failslab (debug kernels), which fails slab allocations anywhere in the
 * syscalls of this process: the VFS, strata and the branch filesystem.
 */
struct injector {
	const char *name;
	void (*set)(int percent);
	long (*count)(void);
};

static void own_set(int percent)
{
	put_dbg("fail_pid", percent ? getpid() : 0);
	put_dbg("fail_percent", percent);
}

static long own_count(void)
{
	return get_dbg("injected");
}

#define FAILSLAB "/sys/kernel/debug/failslab/"
/* failslab counts down "times" with each failure it makes. */
#define FAILSLAB_TIMES 100000000L

static void failslab_set(int percent)
{
	int tries = 1000;

	/* The write allocates too: turning it off may take a few tries. */
	while (st_put("/proc/self/make-it-fail", percent ? "1" : "0") &&
	       !percent && --tries)
		;
}

static long failslab_count(void)
{
	return FAILSLAB_TIMES - atol(st_cat(FAILSLAB "times"));
}

static int failslab_setup(void)
{
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" },		/* only make-it-fail tasks */
		{ "ignore-gfp-wait", "N" },	/* GFP_KERNEL too */
		{ "cache-filter", "N" },
		{ "verbose", "0" },		/* no stack dump per failure */
		{ "interval", "1" },
		{ "space", "0" },
		{ "probability", "2" },
	};
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (st_put(st_fmt(FAILSLAB "%s", knobs[i][0]), knobs[i][1]))
			return -1;
	return st_put(FAILSLAB "times", st_fmt("%ld", FAILSLAB_TIMES));
}

static void failslab_off(void)
{
	st_put("/proc/self/make-it-fail", "0");
	st_put(FAILSLAB "probability", "0");
}

static const struct injector own = { "strata fault points", own_set, own_count };
static const struct injector failslab = { "failslab", failslab_set, failslab_count };

static const struct injector *inj = &own;

static void inject(int percent)
{
	inj->set(percent);
}

/* Errors an injected failure or an earlier one may explain. */
static bool allowed(int err)
{
	switch (err) {
	case 0: case ENOMEM: case EIO: case ENOENT: case EEXIST:
	case ENOTEMPTY: case EBUSY: case ENOBUFS:
		return true;
	case ENOSPC:
		/* tmpfs reports an inode it could not allocate so. */
		return inj == &failslab;
	}
	return false;
}

/* Every name listed is there, every file holds what was written. */
static int consistent(const char *dir, int depth, char *why, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int bad = 0;

	if (!d)
		return snprintf(why, len, "opendir %s: %s", dir, strerror(errno)), 1;
	while (!bad && (e = readdir(d))) {
		char p[512];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st)) {
			snprintf(why, len, "%s listed but lstat: %s", p, strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode) && depth < 4) {
			bad = consistent(p, depth + 1, why, len);
		} else if (S_ISREG(st.st_mode) && strncmp(st_cat(p), "content", 7)) {
			snprintf(why, len, "%s holds '%s'", p, st_cat(p));
			bad = 1;
		}
	}
	closedir(d);
	return bad;
}

/* A digest of a whole tree: names, modes, sizes, contents. */
static uint64_t tree_hash(const char *dir, uint64_t h)
{
	struct dirent **v;
	int i, n = scandir(dir, &v, NULL, alphasort);

	for (i = 0; i < n; i++) {
		char p[ST_PATH];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, v[i]->d_name);
		if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, "..") &&
		    !lstat(p, &st)) {
			h = st_hash(p, strlen(p), h);
			h = st_hash(&st.st_mode, sizeof(st.st_mode), h);
			if (S_ISDIR(st.st_mode))
				h = tree_hash(p, h);
			else if (S_ISREG(st.st_mode))
				h = st_hash(st_cat(p), strlen(st_cat(p)), h);
		}
		free(v[i]);
	}
	free(v);
	return h;
}

FIXTURE(fault) {
	char dir[ST_PATH];
	char mnt[ST_PATH + 8];
	struct nlsk s;
	struct family f;
};

FIXTURE_VARIANT(fault) {
	const char *fs;
	const struct injector *inj;
};

FIXTURE_VARIANT_ADD(fault, tmpfs) { .fs = "tmpfs", .inj = &own };
FIXTURE_VARIANT_ADD(fault, ext4) { .fs = "ext4", .inj = &own };
FIXTURE_VARIANT_ADD(fault, failslab_tmpfs) { .fs = "tmpfs", .inj = &failslab };
FIXTURE_VARIANT_ADD(fault, failslab_ext4) { .fs = "ext4", .inj = &failslab };

FIXTURE_SETUP(fault)
{
	int i, j;

	if (!st_is_strata())
		SKIP(return, "strata's own fault points");
	inj = variant->inj;
	if (inj == &own && access(DBG "fail_percent", W_OK))
		SKIP(return, "no %s (debugfs)", DBG);
	if (inj == &failslab && (access(FAILSLAB "probability", W_OK) ||
				 access("/proc/self/make-it-fail", W_OK)))
		SKIP(return, "no failslab (a kernel with CONFIG_FAILSLAB)");
	if (inj == &failslab)
		ASSERT_EQ(0, failslab_setup());
	ST_PREPARE(variant->fs, "fault", self->dir);
	ASSERT_EQ(0, nlsk_open(&self->s, 0));
	ASSERT_EQ(0, resolve(&self->s, &self->f));
	snprintf(self->mnt, sizeof(self->mnt), "%s/m", self->dir);
	ST_OK(st_mkdirs(self->mnt));
	ST_OK(st_mkdirs(st_fmt("%s/top", self->dir)));
	for (i = 0; i < 5; i++)
		for (j = 0; j < 6; j++)
			ST_OK(st_put(st_fmt("%s/l1/d%d/f%d", self->dir, i, j),
				     st_fmt("content %d.%d", i, j)));
	for (i = 0; i < 5; i++)
		ST_OK(st_put(st_fmt("%s/l2/d%d/g", self->dir, i), "content l2"));
	ST_OK(st_put(st_fmt("%s/l3/d0/h", self->dir), "content l3"));
	ST_OK(st_wh_aufs(st_fmt("%s/l2/d4/f0", self->dir)));
}

FIXTURE_TEARDOWN_PARENT(fault)
{
	/* The parent: the test ran in a child, with its own inj. */
	variant->inj->set(0);
	if (variant->inj == &failslab)
		failslab_off();
	st_cleanup(self->dir);
}

static int do_mount(struct __test_metadata *_metadata, const char *dir,
		    const char *mnt)
{
	if (!mount("none", mnt, "strata", 0,
		   st_fmt("br=%s/top=rw:%s/l1=rr:%s/l2=rr", dir, dir, dir)))
		return 0;
	EXPECT_TRUE(allowed(errno)) TH_LOG("mount: %s", strerror(errno));
	return -1;
}

TEST_F(fault, operations)
{
	const char *env = getenv("STRATA_FAULT_ITERS");
	int iters = env ? atoi(env) : 600, i, k, bad = 0;
	uint64_t lower = tree_hash(st_fmt("%s/l2", self->dir),
				   tree_hash(st_fmt("%s/l1", self->dir), 1));
	long injected = inj->count();
	bool mounted = false;
	char why[ST_PATH];

	env = getenv("STRATA_FAULT_SEED");
	srandom(env ? atoi(env) : 1);
	for (i = 0; i < iters && !bad; i++) {
		int d = random() % 5, f = random() % 6, err = 0, fd;
		const char *p = st_fmt("%s/d%d/f%d", self->mnt, d, f);
		struct stat st;
		char msg[512];

		inject(10);
		if (!mounted) {
			mounted = !do_mount(_metadata, self->dir, self->mnt);
			continue;
		}
		switch (i % 9) {
		case 0:
			err = stat(p, &st) ? errno : 0;
			break;
		case 1:
			err = st_ls(st_fmt("%s/d%d", self->mnt, d)) ? 0 : errno;
			break;
		case 2:
			fd = open(p, O_WRONLY | O_APPEND);
			err = fd < 0 ? errno : 0;
			if (fd >= 0) {
				if (write(fd, "+", 1) != 1)
					err = errno;
				close(fd);
			}
			break;
		case 3:
			err = rename(p, st_fmt("%s/d%d/f%d", self->mnt, (d + 1) % 5, f)) ?
			      errno : 0;
			break;
		case 4:
			err = unlink(p) ? errno : 0;
			break;
		case 5:
			err = mkdir(st_fmt("%s/d%d/n", self->mnt, d), 0755) ? errno : 0;
			if (!err || err == EEXIST)
				err = rmdir(st_fmt("%s/d%d/n", self->mnt, d)) ? errno : 0;
			break;
		case 6:
			err = chmod(p, 0600 | (i & 077)) ? errno : 0;
			break;
		case 7: {
			struct req q;
			struct reply r;
			int32_t mfd = open(self->mnt, O_PATH | O_CLOEXEC);
			uint32_t idx = 3, mode = STRATA_BRANCH_MODE_RR;
			const char *l3 = st_fmt("%s/l3", self->dir);

			if (mfd < 0) {
				err = errno;
				break;
			}
			req_init(&q, self->f.id, i & 8 ? STRATA_CMD_BRANCH_DEL :
				 STRATA_CMD_BRANCH_ADD, NLM_F_ACK);
			req_put(&q, STRATA_A_BRANCH_OP_MOUNT_FD, &mfd, sizeof(mfd));
			req_put(&q, STRATA_A_BRANCH_OP_INDEX, &idx, sizeof(idx));
			if (!(i & 8)) {
				req_put(&q, STRATA_A_BRANCH_OP_PATH, l3, strlen(l3) + 1);
				req_put(&q, STRATA_A_BRANCH_OP_MODE, &mode, sizeof(mode));
			}
			err = transact(&self->s, &q, &r) ? EIO : r.error;
			/* Adding twice or removing what is not there. */
			if (err == EINVAL)
				err = 0;
			snprintf(msg, sizeof(msg), "%s", r.msg);
			reply_free(&r);
			close(mfd);
			break;
		}
		case 8:
			inject(0);
			if (consistent(self->mnt, 0, why, sizeof(why))) {
				bad = 1;
				break;
			}
			inject(10);
			err = umount(self->mnt) ? errno : 0;
			if (!err)
				mounted = false;
			break;
		}
		EXPECT_TRUE(allowed(err)) TH_LOG("op %d on %s: %s", i % 9, p, strerror(err));
		if (!allowed(err))
			bad = 1;
	}
	inject(0);
	EXPECT_EQ(0, bad) TH_LOG("%s", why);
	if (bad)
		for (k = 0; k < 5; k++)
			TH_LOG("top/d%d: %s", k, st_ls(st_fmt("%s/top/d%d", self->dir, k)));
	injected = inj->count() - injected;
	TH_LOG("%d operations, %ld failures injected by %s", i, injected,
	       inj->name);
	EXPECT_LT(20, injected);
	if (!mounted)
		ASSERT_EQ(0, do_mount(_metadata, self->dir, self->mnt));
	EXPECT_EQ(0, consistent(self->mnt, 0, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(0, umount(self->mnt)) TH_LOG("%s", strerror(errno));
	/* The lower branches are exactly as they were. */
	EXPECT_EQ(lower, tree_hash(st_fmt("%s/l2", self->dir),
				   tree_hash(st_fmt("%s/l1", self->dir), 1)));
}

TEST_HARNESS_MAIN
