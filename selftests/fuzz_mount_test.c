// SPDX-License-Identifier: GPL-2.0
/*
 * Mount option fuzzer: seeded random and malformed option strings for
 * mount(2) and random fsconfig(2) sequences for the new mount API.  Each
 * attempt must either mount (and then unmount cleanly) or fail with an
 * errno a user can understand; failures the filesystem reports must leave
 * a message in the fs_context log.  A kernel warning fails the run through
 * the guest's log check.
 *
 * STRATA_FUZZ_SEED replays a seed, STRATA_FUZZ_ITERS sets the number of
 * attempts of each kind (default 2000).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define DEF_SEED 0x5354524154410001ULL
#define DEF_ITERS 2000
#define NPATHS 20

FIXTURE(fz) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	const char *paths[NPATHS];
	int dirfd, filefd;
	uint64_t rng;
	long iters, mounted, failed;
};

FIXTURE_SETUP(fz)
{
	const char *d;
	char *lay[1];
	char *longp;
	size_t n;

	ST_PREPARE("tmpfs", "fuzz_mount", self->dir);
	d = self->dir;
	snprintf(self->mnt, sizeof(self->mnt), "%.4000s/mnt", d);
	ASSERT_EQ(0, st_mkdirs(self->mnt));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/a/sub", d)));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/b", d)));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/c", d)));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/odd,na=me:x\\y", d)));
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/u", d)));
	ASSERT_EQ(0, st_put(st_fmt("%s/f", d), "file"));
	ASSERT_EQ(0, symlink("a", st_fmt("%s/link", d)));
	ASSERT_EQ(0, symlink("loop", st_fmt("%s/loop", d)));
	/* A union of its own, usable as a branch of the next one. */
	lay[0] = strdup(st_fmt("%s/b", d));
	ASSERT_EQ(0, st_mount_union(st_fmt("%s/u", d), lay, 1, "ro", NULL));
	free(lay[0]);

	longp = malloc(4300);
	ASSERT_NE(NULL, longp);
	n = snprintf(longp, 4300, "%.100s", d);
	while (n < 4150)
		n += sprintf(longp + n, "/%s", "x23456789");

	{
		const char *p[NPATHS] = {
			st_fmt("%s/a", d), st_fmt("%s/b", d), st_fmt("%s/c", d),
			st_fmt("%s/a/sub", d), st_fmt("%s/f", d),
			st_fmt("%s/missing", d), "/proc", "/sys",
			st_fmt("%s/u", d), self->mnt, st_fmt("%s/link", d),
			st_fmt("%s/loop", d), st_fmt("%s/a/../b", d), "a",
			st_fmt("%s/odd,na=me:x\\y", d), longp, "/",
			st_fmt("%s//b/", d), "/proc/self/fd", "/dev/null",
		};
		for (n = 0; n < NPATHS; n++)
			self->paths[n] = strdup(p[n]);
	}
	free(longp);
	self->dirfd = open(self->paths[0], O_RDONLY | O_DIRECTORY);
	self->filefd = open(self->paths[4], O_RDONLY);
	ASSERT_LE(0, self->dirfd);
	ASSERT_LE(0, self->filefd);
	self->rng = st_fuzz_seed(DEF_SEED);
	self->iters = st_env_long("STRATA_FUZZ_ITERS", DEF_ITERS);
	TH_LOG("seed %#llx, %ld attempts (STRATA_FUZZ_SEED, STRATA_FUZZ_ITERS)",
	       (unsigned long long)self->rng, self->iters);
}

ST_TEARDOWN(fz);

/* ---- generators ---- */

struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = 2 * (b->n + n + 1);
		b->s = realloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static const char *const keys[] = {
	"br", "branch", "branch_rw", "branch_ro", "branch_rr", "lowerdir",
	"lowerdir+", "upperdir", "workdir", "whiteout", "userxattr",
	"source", "ro", "redirect_dir", "index", "BR", "br ", "", "=",
	"lowerdir+lowerdir", "metacopy", "xino",
};

static const char *const modes[] = {
	"rw", "ro", "rr", "RW", "", "wr", "rw=ro", "r\\w", "rrr",
};

static const char *rnd_path(FIXTURE_DATA(fz) *self)
{
	return self->paths[st_rand_below(&self->rng, NPATHS)];
}

/* Random bytes, no NUL; sometimes the separators and escapes only. */
static void junk(uint64_t *r, struct buf *b, size_t max)
{
	static const char sep[] = ",:=\\ /.";
	size_t n = st_rand_below(r, max + 1), i;
	bool seps = st_rand_below(r, 2);

	for (i = 0; i < n; i++) {
		char c = seps ? sep[st_rand_below(r, sizeof(sep) - 1)] :
				(char)(1 + st_rand_below(r, 255));
		put(b, &c, 1);
	}
}

/* A path with its separators escaped (or not, or half). */
static void esc_path(uint64_t *r, struct buf *b, const char *p)
{
	int how = st_rand_below(r, 4);

	for (; *p; p++) {
		if (how && strchr(",:=\\", *p) && (how == 1 || st_rand_below(r, 2)))
			put(b, "\\", 1);
		put(b, p, 1);
	}
	if (how == 3 && st_rand_below(r, 4) == 0)
		put(b, "\\", 1);	/* a dangling escape at the end */
}

static void branch_list(FIXTURE_DATA(fz) *self, struct buf *b, bool with_modes)
{
	int n = 1 + st_rand_below(&self->rng, 5), i;

	for (i = 0; i < n; i++) {
		if (i)
			puts_(b, st_rand_below(&self->rng, 8) ? ":" : "::");
		esc_path(&self->rng, b, rnd_path(self));
		if (with_modes && st_rand_below(&self->rng, 3)) {
			puts_(b, "=");
			puts_(b, modes[st_rand_below(&self->rng, ARRAY_SIZE(modes))]);
		}
	}
}

/* One mount(2) data string. */
static void gen_data(FIXTURE_DATA(fz) *self, struct buf *b)
{
	uint64_t *r = &self->rng;
	int n = 1 + st_rand_below(r, 6), i;

	/* A third start from a valid union, so that successes vary too. */
	if (!st_rand_below(r, 3)) {
		puts_(b, "br=");
		esc_path(r, b, self->paths[st_rand_below(r, 2) ? 1 : 14]);
		puts_(b, st_rand_below(r, 2) ? "=rw:" : "=ro:");
		esc_path(r, b, self->paths[2]);
		n = st_rand_below(r, 3);
	}
	for (i = 0; i < n; i++) {
		const char *k = keys[st_rand_below(r, ARRAY_SIZE(keys))];

		if (i || b->n)
			puts_(b, ",");
		switch (st_rand_below(r, 8)) {
		case 0: case 1: case 2:
			puts_(b, "br=");
			branch_list(self, b, true);
			break;
		case 3:
			puts_(b, "lowerdir=");
			branch_list(self, b, false);
			break;
		case 4:
			puts_(b, k);
			if (st_rand_below(r, 4)) {
				puts_(b, "=");
				esc_path(r, b, rnd_path(self));
			}
			break;
		case 5:
			puts_(b, "whiteout=");
			puts_(b, st_rand_below(r, 2) ? "aufs" : "overlay");
			break;
		case 6:
			puts_(b, k);
			puts_(b, "=");
			junk(r, b, st_rand_below(r, 8) ? 20 : 3000);
			break;
		default:
			junk(r, b, 30);
			break;
		}
	}
	/* Sometimes cut the string anywhere. */
	if (b->n && !st_rand_below(r, 6))
		b->s[b->n = st_rand_below(r, b->n)] = 0;
}

/* ---- checks ---- */

/* The errors a rejected mount may give; anything else is a bug. */
static bool clean_errno(int e)
{
	switch (e) {
	case EINVAL: case ENOENT: case ENOTDIR: case ELOOP: case ENAMETOOLONG:
	case EACCES: case EPERM: case EBUSY: case EXDEV: case E2BIG:
	case EOPNOTSUPP: case EROFS: case EBADF: case EIO:
		return true;
	}
	return false;
}

static void undo(struct __test_metadata *_metadata, const char *mnt,
		 const char *what)
{
	EXPECT_EQ(0, umount2(mnt, 0))
		TH_LOG("umount after mounting %s: %s", what, strerror(errno));
}

TEST_F(fz, mount_data)
{
	struct buf b = { 0 };
	long i;

	for (i = 0; i < self->iters && !_metadata->exit_code; i++) {
		b.n = 0;
		puts_(&b, "");
		gen_data(self, &b);
		if (!mount("none", self->mnt, "strata", 0, b.s)) {
			self->mounted++;
			undo(_metadata, self->mnt, b.s);
			continue;
		}
		self->failed++;
		EXPECT_TRUE(clean_errno(errno))
			TH_LOG("#%ld \"%s\": %s", i, b.s, strerror(errno));
	}
	free(b.s);
	TH_LOG("%ld mount(2) attempts: %ld mounted, %ld refused",
	       i, self->mounted, self->failed);
	/* Not all rejected: the generator reaches the success paths too. */
	EXPECT_LT(0, self->mounted);
	EXPECT_LT(0, self->failed);
}

enum { K_STRING, K_PATH, K_FD, K_FLAG, K_NCMD };

/*
 * One fsconfig() call that is well-formed for the syscall (so it reaches
 * strata's parser): the error, if any, must come with a log message.
 * Returns 0 or the errno.
 */
static int fuzz_one(FIXTURE_DATA(fz) *self, int fd, char *desc, size_t dlen)
{
	uint64_t *r = &self->rng;
	const char *key = keys[st_rand_below(r, ARRAY_SIZE(keys))];
	struct buf v = { 0 };
	int cmd = st_rand_below(r, K_NCMD), ret, vfd;

	puts_(&v, "");
	switch (cmd) {
	case K_STRING:
		if (st_rand_below(r, 3))
			branch_list(self, &v, true);
		else
			junk(r, &v, 40);
		if (!v.n)
			puts_(&v, "x");
		/* fsconfig copies at most 255 bytes of a string value. */
		if (v.n > 255)
			v.s[v.n = 255] = 0;
		ret = fsconfig(fd, FSCONFIG_SET_STRING, key, v.s, 0);
		break;
	case K_PATH:
		puts_(&v, rnd_path(self));
		if (v.n >= PATH_MAX)
			v.s[v.n = PATH_MAX - 1] = 0;
		ret = fsconfig(fd, FSCONFIG_SET_PATH, key, v.s, AT_FDCWD);
		break;
	case K_FD:
		vfd = st_rand_below(r, 2) ? self->dirfd : self->filefd;
		puts_(&v, vfd == self->dirfd ? "<dirfd>" : "<filefd>");
		ret = fsconfig(fd, FSCONFIG_SET_FD, key, NULL, vfd);
		break;
	default:
		ret = fsconfig(fd, FSCONFIG_SET_FLAG, key, NULL, 0);
		break;
	}
	snprintf(desc, dlen, "%s \"%s\" %.200s",
		 (const char *[]){ "string", "path", "fd", "flag" }[cmd], key, v.s);
	free(v.s);
	return ret ? errno : 0;
}

TEST_F(fz, fsconfig_sequences)
{
	long i, calls = 0, refused = 0, created = 0;
	char desc[512], *log;

	for (i = 0; i < self->iters && !_metadata->exit_code; i++) {
		int fd = fsopen("strata", FSOPEN_CLOEXEC);
		int n = 1 + st_rand_below(&self->rng, 6), j, e;

		ASSERT_LE(0, fd);
		for (j = 0; j < n; j++, calls++) {
			e = fuzz_one(self, fd, desc, sizeof(desc));
			log = st_fslog(fd);
			if (e) {
				refused++;
				EXPECT_TRUE(clean_errno(e))
					TH_LOG("#%ld %s: %s", i, desc, strerror(e));
				EXPECT_NE(0, log && *log)
					TH_LOG("#%ld %s: %s, but no message in the log",
					       i, desc, strerror(e));
			}
			free(log);
		}
		if (!fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
			int mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0);

			created++;
			EXPECT_LE(0, mfd) TH_LOG("fsmount: %s", strerror(errno));
			if (mfd >= 0 && st_rand_below(&self->rng, 2)) {
				EXPECT_EQ(0, move_mount(mfd, "", AT_FDCWD, self->mnt,
							MOVE_MOUNT_F_EMPTY_PATH));
				close(mfd);	/* an open mount fd keeps it busy */
				undo(_metadata, self->mnt, "an fsconfig sequence");
			} else if (mfd >= 0) {
				close(mfd);
			}
		} else {
			e = errno;
			log = st_fslog(fd);
			EXPECT_TRUE(clean_errno(e))
				TH_LOG("#%ld create: %s", i, strerror(e));
			EXPECT_NE(0, log && *log)
				TH_LOG("#%ld create failed (%s) without a message",
				       i, strerror(e));
			free(log);
		}
		close(fd);
	}
	TH_LOG("%ld sequences, %ld fsconfig calls (%ld refused), %ld created",
	       i, calls, refused, created);
	EXPECT_LT(0, created);
}

/*
 * Calls the syscall itself rejects or that reach odd corners: only the
 * errno is checked (the VFS refuses some of them before strata sees them).
 */
TEST_F(fz, fsconfig_malformed)
{
	static const char big[] = "this value is far longer than the 256 bytes "
		"fsconfig copies for a string";
	char huge[6000];
	long i;

	memset(huge, 'y', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = 0;
	for (i = 0; i < self->iters / 4 && !_metadata->exit_code; i++) {
		int fd = fsopen("strata", FSOPEN_CLOEXEC), r, e;
		const char *key = keys[st_rand_below(&self->rng, ARRAY_SIZE(keys))];
		const char *p = rnd_path(self);

		ASSERT_LE(0, fd);
		switch (st_rand_below(&self->rng, 7)) {
		case 0:
			r = fsconfig(fd, FSCONFIG_SET_STRING, key, huge, 0);
			break;
		case 1:
			r = fsconfig(fd, FSCONFIG_SET_FLAG, key, big, 0);
			break;
		case 2:
			r = fsconfig(fd, FSCONFIG_SET_PATH, key, huge, AT_FDCWD);
			break;
		case 3:
			r = fsconfig(fd, FSCONFIG_SET_PATH_EMPTY, key, "", self->dirfd);
			break;
		case 4:
			r = fsconfig(fd, FSCONFIG_SET_FD, key, NULL, 1000);
			break;
		case 5:
			r = fsconfig(fd, FSCONFIG_SET_PATH, key, p, self->filefd);
			break;
		default:
			r = fsconfig(fd, FSCONFIG_SET_BINARY, key, big, sizeof(big));
			break;
		}
		e = errno;
		if (r)
			EXPECT_TRUE(clean_errno(e) || e == ENAMETOOLONG)
				TH_LOG("#%ld key %s: %s", i, key, strerror(e));
		free(st_fslog(fd));
		/* A create after any of these: a verdict, not a crash. */
		if (!fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
			int mfd = fsmount(fd, 0, 0);

			if (mfd >= 0)
				close(mfd);
		} else {
			EXPECT_TRUE(clean_errno(errno)) TH_LOG("create: %s",
							       strerror(errno));
		}
		close(fd);
	}
	TH_LOG("%ld malformed calls", i);
}

/*
 * Found by fsconfig_sequences: a workdir that is not a directory was put
 * twice (once when refused, once when the context was freed), which
 * underflowed the dentry count and crashed at the next fput.
 */
TEST_F(fz, workdir_not_a_directory)
{
	int i;

	for (i = 0; i < 3; i++) {
		int fd = fsopen("strata", FSOPEN_CLOEXEC);
		int r, e;
		char *log;

		ASSERT_LE(0, fd);
		if (i == 0)
			r = fsconfig(fd, FSCONFIG_SET_STRING, "workdir", self->paths[4], 0);
		else if (i == 1)
			r = fsconfig(fd, FSCONFIG_SET_PATH, "workdir", self->paths[4], AT_FDCWD);
		else
			r = fsconfig(fd, FSCONFIG_SET_FD, "workdir", NULL, self->filefd);
		e = errno;
		EXPECT_EQ(-1, r);
		EXPECT_EQ(ENOTDIR, e);
		log = st_fslog(fd);
		EXPECT_NE(NULL, strstr(log ?: "", "not a directory")) TH_LOG("log: %s", log);
		free(log);
		/* A second workdir puts the first one again. */
		fsconfig(fd, FSCONFIG_SET_STRING, "workdir", self->paths[1], 0);
		close(fd);
	}
}

TEST_HARNESS_MAIN
