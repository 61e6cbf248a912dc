// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: several processes hammer one writable union for a bounded time
 * with lookups, readdir, copy-ups (writes to lower files), file and
 * directory renames, unlinks, creates, mkdir and rmdir over a small name
 * space, so that they collide.  Afterwards, and again after a remount,
 * the union must be consistent: every listed name can be looked up, no
 * name is listed twice, every file holds one complete written version.
 *
 * STRATA_STRESS_SECS sets the time per variant (default 15),
 * STRATA_STRESS_TASKS the number of processes (default 6),
 * STRATA_FUZZ_SEED the seed of the operation mix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define DEF_SEED 0x5354524154410003ULL
#define REC 32			/* every file holds one record of this size */
#define NDIR 4
#define NFILE 6

struct shared {
	long ops, refused, unexpected;
	char last[256];
};

FIXTURE(st) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
	struct shared *sh;
	long files, dirs, depth;
};

FIXTURE_VARIANT(st) {
	const char *fs;
	const char *extra;
};

FIXTURE_VARIANT_ADD(st, tmpfs_aufs) { .fs = "tmpfs", .extra = "whiteout=aufs" };
FIXTURE_VARIANT_ADD(st, ext4_overlay) { .fs = "ext4", .extra = "whiteout=overlay" };

/* "W<task>-<serial>-<hash>\n", REC bytes; the hash covers the rest. */
static void record(char *buf, unsigned int task, unsigned int serial)
{
	char head[16];
	int n = snprintf(head, sizeof(head), "W%02u-%08x", task % 100, serial);

	snprintf(buf, REC + 1, "%.12s-%018llx\n", head,
		 (unsigned long long)(st_hash(head, n, 0) & 0xffffffffffffffULL));
}

static bool record_ok(const char *buf, ssize_t n)
{
	char want[REC + 1];
	unsigned int task, serial;

	if (n != REC || sscanf(buf, "W%02u-%08x-", &task, &serial) != 2)
		return false;
	record(want, task, serial);
	return !memcmp(want, buf, REC);
}

static int put_record(const char *path, unsigned int task, unsigned int serial)
{
	char rec[REC + 1];

	record(rec, task, serial);
	return st_put(path, rec);
}

FIXTURE_SETUP(st)
{
	int d, f;

	ST_PREPARE(variant->fs, "stress", self->dir);
	self->l = st_make_layers(self->dir, 3);
	ASSERT_NE(NULL, self->l);
	/* A tree spread over both lower branches, some directories merged. */
	for (d = 0; d < NDIR; d++)
		for (f = 0; f < NFILE; f++) {
			int b = 1 + (d + f) % 2;

			ASSERT_EQ(0, st_mkdirs(st_fmt("%s/d%d/s%d", self->l[b], d, f % 2)));
			ASSERT_EQ(0, put_record(st_fmt("%s/d%d/f%d", self->l[b], d, f), 99, d * 16 + f));
			ASSERT_EQ(0, put_record(st_fmt("%s/d%d/s%d/g%d", self->l[b], d, f % 2, f),
						98, d * 16 + f));
		}
	snprintf(self->mnt, sizeof(self->mnt), "%.4000s/mnt", self->dir);
	ASSERT_EQ(0, st_mkdirs(self->mnt));
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2, variant->extra))
		TH_LOG("mount: %s", strerror(errno));
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
}

ST_TEARDOWN(st);

static const char *rnd_dir(uint64_t *r, const char *mnt)
{
	switch (st_rand_below(r, 3)) {
	case 0:
		return st_fmt("%s/d%u", mnt, st_rand_below(r, NDIR));
	case 1:
		return st_fmt("%s/d%u/s%u", mnt, st_rand_below(r, NDIR), st_rand_below(r, 3));
	default:
		return st_fmt("%s/d%u/s%u/s%u", mnt, st_rand_below(r, NDIR),
			      st_rand_below(r, 2), st_rand_below(r, 2));
	}
}

static const char *rnd_file(uint64_t *r, const char *mnt)
{
	return st_fmt("%s/%c%u", rnd_dir(r, mnt), st_rand_below(r, 2) ? 'f' : 'g',
		      st_rand_below(r, NFILE));
}

/* Errors two tasks racing over the same names may see. */
static bool expected(int e)
{
	switch (e) {
	case ENOENT: case EEXIST: case ENOTEMPTY: case EINVAL: case ENOTDIR:
	case EISDIR: case EBUSY:
		return true;
	}
	return false;
}

static void one_op(struct shared *sh, uint64_t *r, const char *mnt,
		   unsigned int task, unsigned int serial)
{
	char buf[4096];
	const char *a = strdup(rnd_file(r, mnt)), *b = NULL, *what;
	int op = st_rand_below(r, 10), ret = 0, fd;
	struct stat st;
	DIR *d;

	switch (op) {
	case 0:
		what = "lstat";
		ret = lstat(a, &st);
		break;
	case 1:
		what = "readdir";
		b = strdup(rnd_dir(r, mnt));
		d = opendir(b);
		ret = d ? 0 : -1;
		if (d) {
			while (readdir(d))
				;
			closedir(d);
		}
		break;
	case 2: case 3:	/* copy-up by a write of a whole record */
		what = "write";
		record(buf, task, serial);
		fd = open(a, O_WRONLY);
		ret = fd < 0 ? -1 : 0;
		if (fd >= 0) {
			if (pwrite(fd, buf, REC, 0) != REC)
				ret = -1;
			close(fd);
		}
		break;
	case 4:
		what = "read";
		fd = open(a, O_RDONLY);
		ret = fd < 0 ? -1 : 0;
		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf)) < 0)
				ret = -1;
			close(fd);
		}
		break;
	case 5:
		what = "rename";
		b = strdup(rnd_file(r, mnt));
		ret = rename(a, b);
		break;
	case 6:
		what = "rename dir";
		a = (free((void *)a), strdup(rnd_dir(r, mnt)));
		b = strdup(rnd_dir(r, mnt));
		ret = rename(a, b);
		break;
	case 7:
		what = "unlink";
		ret = unlink(a);
		break;
	case 8:
		what = "create";
		record(buf, task, serial);
		fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);
		ret = fd < 0 ? -1 : 0;
		if (fd >= 0) {
			if (write(fd, buf, REC) != REC)
				ret = -1;
			close(fd);
		}
		break;
	default:
		b = strdup(rnd_dir(r, mnt));
		if (st_rand_below(r, 2)) {
			what = "mkdir";
			ret = mkdir(b, 0755);
		} else {
			what = "rmdir";
			ret = rmdir(b);
		}
		break;
	}
	__atomic_add_fetch(&sh->ops, 1, __ATOMIC_RELAXED);
	if (ret && expected(errno)) {
		__atomic_add_fetch(&sh->refused, 1, __ATOMIC_RELAXED);
	} else if (ret) {
		__atomic_add_fetch(&sh->unexpected, 1, __ATOMIC_RELAXED);
		snprintf(sh->last, sizeof(sh->last), "%s %s %s: %s", what, a,
			 b ?: "", strerrorname_np(errno));
	}
	free((void *)a);
	free((void *)b);
}

/*
 * Walk and judge the directory open at @fd (taken over); returns the
 * number of problems, TH_LOGs each.  Directory renames nest the tree
 * deeply after a long run: the walk is relative to directory fds, so
 * paths never grow, and keeps little on the stack.
 */
static int check(struct __test_metadata *_metadata, FIXTURE_DATA(st) *self,
		 int fd, const char *name, int depth)
{
	size_t seen_len = 1, seen_cap = 256;
	char *seen = malloc(seen_cap), buf[REC + 8];
	struct dirent *de;
	int bad = 0;
	DIR *d = fdopendir(fd);

	if (!d || !seen) {
		TH_LOG("opendir %s (depth %d): %s", name, depth, strerror(errno));
		free(seen);
		return 1;
	}
	strcpy(seen, "/");
	while ((de = readdir(d))) {
		const char *key;
		struct stat st;
		ssize_t n;
		int cfd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		key = st_fmt("/%s/", de->d_name);
		if (strstr(seen, key)) {
			TH_LOG("%s/%s listed twice", name, de->d_name);
			bad++;
		} else {
			if (seen_len + strlen(key) >= seen_cap) {
				seen_cap = 2 * (seen_len + strlen(key));
				seen = realloc(seen, seen_cap);
			}
			strcpy(seen + seen_len, key + 1);
			seen_len += strlen(key) - 1;
		}
		if (!strcmp(de->d_name, ".wh..wh.work") ||
		    !strcmp(de->d_name, ".wh..wh.index"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			TH_LOG("%s/%s listed but lstat: %s", name, de->d_name, strerror(errno));
			bad++;
		} else if (S_ISDIR(st.st_mode)) {
			self->dirs++;
			cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY);
			if (cfd < 0) {
				TH_LOG("%s/%s: %s", name, de->d_name, strerror(errno));
				bad++;
			} else {
				char *sub = strdup(de->d_name);

				bad += check(_metadata, self, cfd, sub, depth + 1);
				free(sub);
			}
		} else if (!S_ISREG(st.st_mode)) {
			TH_LOG("%s/%s: unexpected type %o", name, de->d_name, st.st_mode);
			bad++;
		} else {
			self->files++;
			cfd = openat(dirfd(d), de->d_name, O_RDONLY);
			n = cfd < 0 ? -1 : read(cfd, buf, sizeof(buf));
			if (cfd >= 0)
				close(cfd);
			if (!record_ok(buf, n) || st.st_size != REC) {
				TH_LOG("%s/%s: not one whole version (%zd bytes, size %lld)",
				       name, de->d_name, n, (long long)st.st_size);
				bad++;
			}
		}
		if (depth > self->depth)
			self->depth = depth;
	}
	closedir(d);
	free(seen);
	return bad;
}

static int check_union(struct __test_metadata *_metadata, FIXTURE_DATA(st) *self)
{
	/* One open directory per level: trees get 1000 deep in a minute. */
	struct rlimit rl = { 65536, 65536 };
	int fd;

	setrlimit(RLIMIT_NOFILE, &rl);
	fd = open(self->mnt, O_RDONLY | O_DIRECTORY);
	self->files = self->dirs = self->depth = 0;
	if (fd < 0)
		return 1;
	return check(_metadata, self, fd, "", 0);
}

TEST_F_TIMEOUT(st, hammer, 300)
{
	long secs = st_env_long("STRATA_STRESS_SECS", 15);
	long tasks = st_env_long("STRATA_STRESS_TASKS", 6);
	uint64_t seed = st_fuzz_seed(DEF_SEED);
	pid_t pids[64];
	int i, status;

	if (tasks > 64)
		tasks = 64;
	TH_LOG("%ld tasks for %ld s, seed %#llx", tasks, secs, (unsigned long long)seed);
	for (i = 0; i < tasks; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			uint64_t r = seed + 0x9e3779b97f4a7c15ULL * (i + 1);
			time_t end = time(NULL) + secs;
			unsigned int serial = 0;

			while (time(NULL) < end)
				one_op(self->sh, &r, self->mnt, i, serial++);
			_exit(0);
		}
	}
	for (i = 0; i < tasks; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("task %d: status %#x", i, status);
	}
	TH_LOG("%ld operations, %ld refused by the races, %ld unexpected errors",
	       self->sh->ops, self->sh->refused, self->sh->unexpected);
	EXPECT_EQ(0, self->sh->unexpected) TH_LOG("last: %s", self->sh->last);
	EXPECT_LT(tasks, self->sh->ops);

	EXPECT_EQ(0, check_union(_metadata, self));
	TH_LOG("consistent: %ld files, %ld directories, %ld deep",
	       self->files, self->dirs, self->depth);
	/* The same after a remount, from the branches alone. */
	ASSERT_EQ(0, umount2(self->mnt, 0)) TH_LOG("umount: %s", strerror(errno));
	ASSERT_EQ(0, st_mount_rw(self->mnt, self->l[0], self->l + 1, 2, variant->extra));
	EXPECT_EQ(0, check_union(_metadata, self));
	TH_LOG("after remount: %ld files, %ld directories", self->files, self->dirs);
}

TEST_HARNESS_MAIN
