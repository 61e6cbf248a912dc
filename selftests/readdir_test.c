// SPDX-License-Identifier: GPL-2.0
/*
 * Merged readdir (design.md §3): each name once, whiteouts and reserved
 * names removed, right d_type, d_ino equal to st_ino, offsets that stay
 * valid while the directory is open (lseek/telldir/seekdir), rewinddir,
 * and directories of 10k (and, on tmpfs, 100k) entries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(rd) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
};

FIXTURE_VARIANT(rd) {
	const char *fs;
};

ST_FS_VARIANTS(rd);

FIXTURE_SETUP(rd)
{
	ST_PREPARE(variant->fs, "readdir", self->dir);
	self->l = st_make_layers(self->dir, 16);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
}

ST_TEARDOWN(rd)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)

#define BUILD(...) do {							\
	const char *const __spec[] = { __VA_ARGS__, NULL };		\
	ASSERT_EQ(0, st_build(self->dir, __spec));			\
} while (0)

#define MOUNT(n)							\
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, n, "rr", NULL))	\
		TH_LOG("mount: %s", strerror(errno))

struct ent {
	char name[256];
	unsigned char type;
	uint64_t ino;
	int64_t off;
};

/*
 * getdents64() from the current position to the end with a @bufsz buffer
 * (small buffers force many calls, so many resume points).  Returns the
 * number of entries, -1 on error.
 */
static long getdents_all(int fd, struct ent **out, size_t bufsz, long max)
{
	char *buf = malloc(bufsz);
	long n = 0;
	ssize_t r;

	*out = calloc(max, sizeof(**out));
	if (!buf || !*out)
		return -1;
	while ((r = getdents64(fd, buf, bufsz)) > 0) {
		ssize_t pos = 0;

		while (pos < r) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);

			if (n == max)
				return -1;
			snprintf((*out)[n].name, 256, "%s", d->d_name);
			(*out)[n].type = d->d_type;
			(*out)[n].ino = d->d_ino;
			(*out)[n].off = d->d_off;
			n++;
			pos += d->d_reclen;
		}
	}
	free(buf);
	return r < 0 ? -1 : n;
}

/*
 * Every name once, and d_type/d_ino agreeing with lstat.  ".." is left
 * out: at the union root it belongs to the filesystem below.
 */
static int check_entries(int dfd, const struct ent *e, long n, char *why, size_t wlen)
{
	long i, j;

	for (i = 0; i < n; i++) {
		struct stat st;

		if (!strcmp(e[i].name, ".."))
			continue;
		for (j = 0; j < i; j++) {
			if (!strcmp(e[i].name, e[j].name)) {
				snprintf(why, wlen, "%s listed twice", e[i].name);
				return -1;
			}
		}
		if (fstatat(dfd, e[i].name, &st, AT_SYMLINK_NOFOLLOW)) {
			snprintf(why, wlen, "%s listed but lstat: %m", e[i].name);
			return -1;
		}
		if (st_dtype_char(e[i].type) != st_type_char(st.st_mode)) {
			snprintf(why, wlen, "%s d_type %c, lstat %c", e[i].name,
				 st_dtype_char(e[i].type), st_type_char(st.st_mode));
			return -1;
		}
		if (e[i].ino != st.st_ino) {
			snprintf(why, wlen, "%s d_ino %llu, st_ino %llu", e[i].name,
				 (unsigned long long)e[i].ino,
				 (unsigned long long)st.st_ino);
			return -1;
		}
	}
	return 0;
}

static void build_mixed(struct __test_metadata *_metadata, const char *dir)
{
	const char *const spec[] = {
		"0:f:a=0", "0:f:d/x=0", "0:l:s=a", "0:w:w",
		/* stray whiteouts with nothing below them */
		"0:w:nothing", "0:W:ghost",
		"1:f:a/under=1", "1:f:b=1", "1:f:w=1", "1:f:d/y=1", "1:p:p", "1:W:y",
		"1:w:d/gone",
		"2:f:c=2", "2:f:b=2", "2:f:y=2", "2:f:d/z=2", "2:f:d/gone=2",
		"2:s:sock", "2:c:cdev=1,3", "2:f:.wh.d=not a whiteout of d above",
		NULL
	};

	ASSERT_EQ(0, st_build(dir, spec));
}

TEST_F(rd, merged_names_and_types)
{
	char why[512] = "";
	struct ent *e;
	int fd, dots = 0, dotdots = 0;
	long n, i;

	build_mixed(_metadata, self->dir);
	MOUNT(3);
	EXPECT_STREQ("a:f,b:f,c:f,cdev:c,d:d,p:p,s:l,sock:s", st_ls(self->mnt));
	EXPECT_STREQ("x:f,y:f,z:f", st_ls(U("d")));

	fd = open(self->mnt, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	n = getdents_all(fd, &e, 4096, 1000);
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++) {
		dots += !strcmp(e[i].name, ".");
		dotdots += !strcmp(e[i].name, "..");
		EXPECT_NE(0, strncmp(e[i].name, ".wh.", 4)) TH_LOG("%s", e[i].name);
	}
	EXPECT_EQ(1, dots);
	EXPECT_EQ(1, dotdots);
	EXPECT_EQ(10, n);
	EXPECT_EQ(0, check_entries(fd, e, n, why, sizeof(why))) TH_LOG("%s", why);
	close(fd);
}

TEST_F(rd, opaque_dirs)
{
	BUILD("0:o:d", "0:f:d/a=0", "1:f:d/b=1",
	      "0:O:e", "0:f:e/a=0", "1:f:e/b=1",
	      "0:f:m/a=0", "1:o:m", "1:f:m/b=1", "2:f:m/c=2",
	      "0:f:n/a=0", "1:O:n", "1:f:n/b=1", "2:f:n/c=2");
	MOUNT(3);
	EXPECT_STREQ("a:f", st_ls(U("d")));
	EXPECT_STREQ("a:f", st_ls(U("e")));
	EXPECT_STREQ("a:f,b:f", st_ls(U("m")));
	EXPECT_STREQ("a:f,b:f", st_ls(U("n")));
}

TEST_F(rd, special_dirs)
{
	BUILD("2:f:only/a=2", "2:f:only/b=2",	/* exists in one lower layer */
	      "0:d:e", "1:f:e/a=1",		/* empty top, full lower */
	      "0:w:v/a", "0:W:v/b", "1:f:v/a=1", "1:f:v/b=1",	/* all whited out */
	      "0:d:x", "1:d:x", "2:d:x");	/* empty everywhere */
	MOUNT(3);
	EXPECT_STREQ("a:f,b:f", st_ls(U("only")));
	EXPECT_STREQ("a:f", st_ls(U("e")));
	EXPECT_STREQ("", st_ls(U("v")));
	EXPECT_STREQ("", st_ls(U("x")));
}

/*
 * Resume points: after reading with a small buffer, seeking to the d_off of
 * any entry must continue with the entry that followed it, in a directory
 * merged from eight layers, also after other seeks and a full re-read.
 */
TEST_F(rd, seek_offsets_stable)
{
	struct ent *all, *again, *rest;
	int fd, i, k;
	long n, m;

	for (i = 0; i < 8; i++) {
		for (k = 0; k < 40; k++)
			BUILD(st_fmt("%d:f:big/u%d_%02d=%d", i, i, k, i));
		for (k = 0; k < 10; k++)
			BUILD(st_fmt("%d:f:big/shared%02d=%d", i, k, i));
		BUILD(st_fmt("%d:w:big/u%d_00", i, i + 1));	/* hides a lower name */
	}
	MOUNT(8);
	fd = open(U("big"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	n = getdents_all(fd, &all, 256, 1000);
	/* 8*40 unique, 7 of them whited out, 10 shared, . and .. */
	ASSERT_EQ(8 * 40 - 7 + 10 + 2, n);

	for (k = n - 1; k >= 0; k -= 7) {
		ASSERT_EQ(k ? all[k - 1].off : 0,
			  lseek(fd, k ? all[k - 1].off : 0, SEEK_SET));
		m = getdents_all(fd, &rest, 256, 1000);
		ASSERT_EQ(n - k, m) TH_LOG("resume at entry %d", k);
		EXPECT_STREQ(all[k].name, rest[0].name);
		EXPECT_STREQ(all[n - 1].name, rest[m - 1].name);
		free(rest);
	}
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	m = getdents_all(fd, &again, 4096, 1000);
	ASSERT_EQ(n, m);
	for (k = 0; k < n; k++) {
		EXPECT_STREQ(all[k].name, again[k].name);
		EXPECT_EQ(all[k].off, again[k].off);
	}
	close(fd);
}

TEST_F(rd, telldir_seekdir)
{
	long pos[600];
	char *name[600];
	struct dirent *d;
	DIR *dir;
	int i, k, n = 0;

	for (i = 0; i < 6; i++)
		for (k = 0; k < 50; k++)
			BUILD(st_fmt("%d:f:t/n%03d=%d", i, (k * 7 + i * 50) % 200, i));
	MOUNT(6);
	dir = opendir(U("t"));
	ASSERT_NE(NULL, dir);
	for (;;) {
		ASSERT_GT(600, n);
		pos[n] = telldir(dir);
		d = readdir(dir);
		if (!d)
			break;
		name[n++] = strdup(d->d_name);
	}
	ASSERT_EQ(202, n);	/* 200 distinct names, . and .. */
	for (k = n - 1; k >= 0; k -= 13) {
		seekdir(dir, pos[k]);
		d = readdir(dir);
		ASSERT_NE(NULL, d);
		EXPECT_STREQ(name[k], d->d_name);
	}
	/* rewinddir starts over with the same sequence */
	rewinddir(dir);
	for (k = 0; k < n; k++) {
		d = readdir(dir);
		ASSERT_NE(NULL, d);
		EXPECT_STREQ(name[k], d->d_name);
	}
	EXPECT_EQ(NULL, readdir(dir));
	closedir(dir);
}

/* d_ino == st_ino, including merged dirs, lower-only entries and "."/"..". */
TEST_F(rd, d_ino_matches_st_ino)
{
	const char *dirs[] = { "", "d", "only" };
	char why[512] = "";
	struct stat st;
	struct ent *e;
	unsigned int j;
	long n, i;

	build_mixed(_metadata, self->dir);
	BUILD("2:f:only/x=2", "2:d:only/sub");
	MOUNT(3);
	for (j = 0; j < ARRAY_SIZE(dirs); j++) {
		int fd = open(U(dirs[j]), O_RDONLY | O_DIRECTORY);

		ASSERT_LE(0, fd);
		n = getdents_all(fd, &e, 1024, 1000);
		ASSERT_LT(2, n);
		for (i = 0; i < n; i++) {
			if (!strcmp(e[i].name, "..")) {
				/* The root's ".." belongs to the filesystem below. */
				if (!j)
					continue;
				ASSERT_EQ(0, stat(U(st_fmt("%s/..", dirs[j])), &st));
				EXPECT_EQ(st.st_ino, e[i].ino) TH_LOG("%s/..", dirs[j]);
			}
		}
		/* check_entries covers "." too: fstatat(fd, ".") */
		EXPECT_EQ(0, check_entries(fd, e, n, why, sizeof(why)))
			TH_LOG("/%s: %s", dirs[j], why);
		free(e);
		close(fd);
	}
}

/* Create @count empty files named n%06d in @dir via mknodat (one syscall each). */
static int mkfiles(const char *dir, int first, int count, int step)
{
	int dfd, i;

	if (st_mkdirs(dir))
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -1;
	for (i = first; i < first + count * step; i += step) {
		if (mknodat(dfd, st_fmt("n%06d", i), S_IFREG | 0644, 0) && errno != EEXIST) {
			close(dfd);
			return -1;
		}
	}
	return close(dfd);
}

/* Read a n%06d directory through the union: each of 0..total-1 exactly once. */
static int check_numbered(const char *dir, int total, char *why, size_t wlen)
{
	char *seen = calloc(total, 1);
	long n, i, dots = 0;
	struct ent *e;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0 || !seen) {
		snprintf(why, wlen, "open %s: %m", dir);
		return -1;
	}
	n = getdents_all(fd, &e, 32768, total + 16);
	close(fd);
	if (n < 0) {
		snprintf(why, wlen, "getdents: %m (or too many entries)");
		return -1;
	}
	for (i = 0; i < n; i++) {
		int v;

		if (e[i].name[0] == '.') {
			dots++;
			continue;
		}
		if (sscanf(e[i].name, "n%d", &v) != 1 || v < 0 || v >= total) {
			snprintf(why, wlen, "unexpected name %s", e[i].name);
			return -1;
		}
		if (seen[v]++) {
			snprintf(why, wlen, "%s listed twice", e[i].name);
			return -1;
		}
		if (e[i].type != DT_REG) {
			snprintf(why, wlen, "%s d_type %d", e[i].name, e[i].type);
			return -1;
		}
	}
	if (n - dots != total || dots != 2) {
		snprintf(why, wlen, "%ld names and %ld dot entries, want %d and 2",
			 n - dots, dots, total);
		return -1;
	}
	free(e);
	free(seen);
	return 0;
}

/*
 * 10k names spread over 16 layers, a quarter of them present in two layers:
 * each listed once.
 */
TEST_F(rd, ten_thousand_over_16_layers)
{
	char why[512] = "";
	int i;

	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, mkfiles(st_fmt("%s/big", self->l[i]), i, 10000 / 16, 16));
		/* duplicates: every fourth name of layer i again in layer (i+7)%16 */
		ASSERT_EQ(0, mkfiles(st_fmt("%s/big", self->l[(i + 7) % 16]), i, 10000 / 64, 64));
	}
	MOUNT(16);
	EXPECT_EQ(0, check_numbered(U("big"), 10000, why, sizeof(why))) TH_LOG("%s", why);
}

/*
 * 100k entries merged from two layers: a quadratic merge would not finish
 * within the harness timeout.  Once (tmpfs variant), on a tmpfs private to
 * the test's mount namespace so that nobody has to unlink 100k files.
 */
TEST_F(rd, hundred_thousand)
{
	const char *ht = strdup(st_fmt("%s/ht", self->dir));
	char *layers[2];
	char why[512] = "";

	if (strcmp(variant->fs, "tmpfs"))
		SKIP(return, "100k entries only once, in the tmpfs variant");
	ASSERT_EQ(0, st_mkdirs(ht));
	ASSERT_EQ(0, mount("tmpfs", ht, "tmpfs", 0, "mode=0755"));
	layers[0] = strdup(st_fmt("%s/l0", ht));
	layers[1] = strdup(st_fmt("%s/l1", ht));
	ASSERT_EQ(0, mkfiles(layers[1], 0, 100000, 1));
	ASSERT_EQ(0, mkfiles(layers[0], 99000, 2000, 1));
	ASSERT_EQ(0, st_mount_union(self->mnt, layers, 2, "rr", NULL))
		TH_LOG("mount: %s", strerror(errno));
	EXPECT_EQ(0, check_numbered(self->mnt, 101000, why, sizeof(why))) TH_LOG("%s", why);
}

TEST_HARNESS_MAIN
