// SPDX-License-Identifier: GPL-2.0
/*
 * Data operations on lower files go to the real file (design.md §3): read,
 * pread, mmap, splice, sendfile, SEEK_DATA/SEEK_HOLE, fadvise, O_DIRECT,
 * and the page cache is the real inode's, not a second copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define SMALL 10000
#define MiB (1 << 20)

FIXTURE(data) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
	char small[SMALL];
};

FIXTURE_VARIANT(data) {
	const char *fs;
};

ST_FS_VARIANTS(data);

FIXTURE_SETUP(data)
{
	int i;

	ST_PREPARE(variant->fs, "data", self->dir);
	self->l = st_make_layers(self->dir, 2);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	for (i = 0; i < SMALL; i++)
		self->small[i] = (char)(i * 7 % 251);
	ST_OK(st_put_buf(st_fmt("%s/small", self->l[1]), self->small, SMALL));
	ST_OK(st_put(st_fmt("%s/empty", self->l[1]), ""));
	ST_OK(st_put(st_fmt("%s/other", self->l[0]), "top"));
}

ST_TEARDOWN(data)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)
#define B(rel) st_fmt("%s/%s", self->l[1], rel)

/* Files are written to the branch before this, then never changed. */
#define MOUNT()								\
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, 2, "rr", NULL))	\
		TH_LOG("mount: %s", strerror(errno))

TEST_F(data, read_and_pread)
{
	char buf[SMALL + 100];
	size_t got = 0;
	ssize_t r;
	int fd;

	MOUNT();
	fd = open(U("small"), O_RDONLY);
	ASSERT_LE(0, fd);
	while ((r = read(fd, buf + got, 333)) > 0)
		got += r;
	ASSERT_EQ(0, r);
	ASSERT_EQ(SMALL, got);
	EXPECT_EQ(0, memcmp(buf, self->small, SMALL));
	EXPECT_EQ(SMALL, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(100, lseek(fd, 100, SEEK_SET));
	EXPECT_EQ(150, lseek(fd, 50, SEEK_CUR));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, self->small + 150, 10));
	ASSERT_EQ(2, pread(fd, buf, 2, 4095));
	EXPECT_EQ(0, memcmp(buf, self->small + 4095, 2));
	ASSERT_EQ(1, pread(fd, buf, 100, SMALL - 1));
	EXPECT_EQ(self->small[SMALL - 1], buf[0]);
	EXPECT_EQ(0, pread(fd, buf, 100, SMALL));
	EXPECT_EQ(0, pread(fd, buf, 100, 2 * SMALL));
	/* pread leaves the file position alone */
	EXPECT_EQ(160, lseek(fd, 0, SEEK_CUR));
	close(fd);

	fd = open(U("empty"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F(data, mmap_private_and_shared)
{
	char *p, *s, buf[16];
	int fd, bfd;

	MOUNT();
	fd = open(U("small"), O_RDONLY);
	ASSERT_LE(0, fd);
	p = mmap(NULL, SMALL, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, self->small, SMALL));
	s = mmap(NULL, SMALL, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, s);
	EXPECT_EQ(0, memcmp(s, self->small, SMALL));
	munmap(p, SMALL);

	/* A private writable mapping copies on write and never reaches the file. */
	p = mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 'X', 4096);
	EXPECT_EQ(self->small[0], s[0]);
	ASSERT_EQ(16, pread(fd, buf, 16, 0));
	EXPECT_EQ(0, memcmp(buf, self->small, 16));
	bfd = open(B("small"), O_RDONLY);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(16, pread(bfd, buf, 16, 0));
	EXPECT_EQ(0, memcmp(buf, self->small, 16));
	close(bfd);
	munmap(p, SMALL);

	/* A shared writable mapping needs a writable descriptor. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	munmap(s, SMALL);
	close(fd);
}

TEST_F(data, splice_to_pipe)
{
	char buf[SMALL];
	loff_t off = 0;
	size_t got = 0;
	int fd, p[2];
	ssize_t r;

	MOUNT();
	fd = open(U("small"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	while (got < SMALL) {
		r = splice(fd, &off, p[1], NULL, SMALL - got, 0);
		ASSERT_LT(0, r) TH_LOG("splice: %s", strerror(errno));
		ASSERT_EQ(r, read(p[0], buf + got, r));
		got += r;
	}
	EXPECT_EQ(SMALL, off);
	EXPECT_EQ(0, memcmp(buf, self->small, SMALL));
	EXPECT_EQ(0, splice(fd, &off, p[1], NULL, 100, 0));	/* at EOF */

	/* From the file position */
	ASSERT_EQ(5000, lseek(fd, 5000, SEEK_SET));
	ASSERT_EQ(100, splice(fd, NULL, p[1], NULL, 100, 0));
	ASSERT_EQ(100, read(p[0], buf, 100));
	EXPECT_EQ(0, memcmp(buf, self->small + 5000, 100));
	EXPECT_EQ(5100, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_F(data, sendfile_to_memfd)
{
	char buf[SMALL];
	off_t off = 0;
	size_t sent = 0;
	int fd, out;
	ssize_t r;

	MOUNT();
	fd = open(U("small"), O_RDONLY);
	ASSERT_LE(0, fd);
	out = memfd_create("sendfile-out", MFD_CLOEXEC);
	ASSERT_LE(0, out);
	while (sent < SMALL) {
		r = sendfile(out, fd, &off, SMALL - sent);
		ASSERT_LT(0, r) TH_LOG("sendfile: %s", strerror(errno));
		sent += r;
	}
	ASSERT_EQ(SMALL, pread(out, buf, SMALL, 0));
	EXPECT_EQ(0, memcmp(buf, self->small, SMALL));

	ASSERT_EQ(0, ftruncate(out, 0));
	ASSERT_EQ(0, lseek(out, 0, SEEK_SET));
	ASSERT_EQ(100, lseek(fd, 100, SEEK_SET));
	ASSERT_EQ(50, sendfile(out, fd, NULL, 50));
	EXPECT_EQ(150, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(50, pread(out, buf, 50, 0));
	EXPECT_EQ(0, memcmp(buf, self->small + 100, 50));
	close(out);
	close(fd);
}

/* Both results of lseek (value, or -1 and errno) on union and branch. */
static const char *seek_str(int fd, off_t off, int whence)
{
	off_t r = lseek(fd, off, whence);

	return r < 0 ? st_fmt("<%s>", strerrorname_np(errno)) : st_fmt("%lld", (long long)r);
}

TEST_F(data, seek_data_and_hole)
{
	static const off_t probes[] = {
		0, 1, 65535, 65536, MiB, 4 * MiB - 1, 4 * MiB, 4 * MiB + 65536,
		6 * MiB, 8 * MiB, 8 * MiB + 100, 9 * MiB, 12 * MiB - 1, 12 * MiB,
	};
	char chunk[65536], buf[4096];
	unsigned int i;
	off_t hole;
	int bfd, fd;

	bfd = open(B("sparse"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, bfd);
	memset(chunk, 'A', sizeof(chunk));
	ASSERT_EQ(65536, pwrite(bfd, chunk, sizeof(chunk), 0));
	memset(chunk, 'B', sizeof(chunk));
	ASSERT_EQ(65536, pwrite(bfd, chunk, sizeof(chunk), 4 * MiB));
	memset(chunk, 'C', sizeof(chunk));
	ASSERT_EQ(65536, pwrite(bfd, chunk, sizeof(chunk), 8 * MiB));
	ASSERT_EQ(0, ftruncate(bfd, 12 * MiB));
	ASSERT_EQ(0, fsync(bfd));
	hole = lseek(bfd, 0, SEEK_HOLE);
	if (hole < 0 || hole >= 12 * MiB) {
		close(bfd);
		SKIP(return, "%s reports no holes", variant->fs);
	}
	MOUNT();
	fd = open(U("sparse"), O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		EXPECT_STREQ(seek_str(bfd, probes[i], SEEK_DATA), seek_str(fd, probes[i], SEEK_DATA))
			TH_LOG("SEEK_DATA %lld", (long long)probes[i]);
		EXPECT_STREQ(seek_str(bfd, probes[i], SEEK_HOLE), seek_str(fd, probes[i], SEEK_HOLE))
			TH_LOG("SEEK_HOLE %lld", (long long)probes[i]);
	}
	/* and the data itself: zeros in holes */
	ASSERT_EQ(4096, pread(fd, buf, 4096, 2 * MiB));
	EXPECT_EQ(0, buf[0] | buf[4095]);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 4 * MiB));
	EXPECT_EQ('B', buf[0]);
	EXPECT_EQ('B', buf[4095]);
	close(fd);
	close(bfd);
}

TEST_F(data, fadvise)
{
	static const int advice[] = {
		POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
		POSIX_FADV_NOREUSE, POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,
	};
	unsigned int i;
	int fd;

	MOUNT();
	fd = open(U("small"), O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(advice); i++) {
		EXPECT_EQ(0, posix_fadvise(fd, 0, 0, advice[i])) TH_LOG("advice %d", advice[i]);
	}
	close(fd);
}

static int evict(const char *path)
{
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0)
		return -1;
	ret = fdatasync(fd) ?: posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return ret;
}

static int read_all(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return r;
}

/*
 * mincore() of a mapping reports the page cache of the file that backs it.
 * Reading through the union must fill the branch file's cache, evicting
 * through the union must empty it, and the union's mapping must show the
 * branch's cache, not a copy of its own.  tmpfs pages cannot be evicted.
 */
TEST_F(data, page_cache_is_shared)
{
	const int size = 4 * MiB;
	char *buf = malloc(size);
	long total, res;
	int i, fd;

	if (!strcmp(variant->fs, "tmpfs"))
		SKIP(return, "tmpfs pages cannot be evicted");
	ASSERT_NE(NULL, buf);
	for (i = 0; i < size; i++)
		buf[i] = (char)(i ^ (i >> 12));
	ASSERT_EQ(0, st_put_buf(B("pc"), buf, size));
	MOUNT();

	ASSERT_EQ(0, evict(B("pc")));
	res = st_resident_pages(B("pc"), &total);
	ASSERT_EQ(size / getpagesize(), total);
	if (res > total / 10)
		SKIP(return, "%ld of %ld pages stay resident after DONTNEED", res, total);

	ASSERT_EQ(0, read_all(U("pc")));
	res = st_resident_pages(B("pc"), NULL);
	EXPECT_LE(total * 9 / 10, res) TH_LOG("union read cached %ld of %ld branch pages",
					       res, total);

	fd = open(U("pc"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	close(fd);
	res = st_resident_pages(B("pc"), NULL);
	EXPECT_GE(total / 10, res) TH_LOG("%ld of %ld pages left after DONTNEED on the union",
					  res, total);

	ASSERT_EQ(0, read_all(B("pc")));
	res = st_resident_pages(U("pc"), NULL);
	EXPECT_LE(total * 9 / 10, res) TH_LOG("union mapping sees %ld of %ld cached pages",
					       res, total);
	ASSERT_EQ(0, evict(B("pc")));
	res = st_resident_pages(U("pc"), NULL);
	EXPECT_GE(total / 10, res) TH_LOG("union mapping keeps %ld of %ld evicted pages",
					  res, total);
	free(buf);
}

static const char *pread_str(int fd, void *buf, size_t len, off_t off)
{
	ssize_t r = pread(fd, buf, len, off);

	return r < 0 ? st_fmt("<%s>", strerrorname_np(errno)) : st_fmt("%zd", r);
}

TEST_F(data, o_direct)
{
	const int size = MiB;
	char *want = malloc(size), *buf;
	int i, fd, bfd;

	if (!strcmp(variant->fs, "tmpfs"))
		SKIP(return, "no O_DIRECT on tmpfs");
	ASSERT_NE(NULL, want);
	for (i = 0; i < size; i++)
		want[i] = (char)(i * 13 + (i >> 9));
	ASSERT_EQ(0, st_put_buf(B("dio"), want, size));
	fd = open(B("dio"), O_RDONLY | O_DIRECT);
	if (fd < 0)
		SKIP(return, "%s refuses O_DIRECT: %s", variant->fs, strerror(errno));
	close(fd);
	ASSERT_EQ(0, evict(B("dio")));
	MOUNT();
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, size));
	fd = open(U("dio"), O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd) TH_LOG("open O_DIRECT: %s", strerror(errno));
	ASSERT_EQ(65536, pread(fd, buf, 65536, 0)) TH_LOG("pread: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, want, 65536));
	ASSERT_EQ(size - 4096, pread(fd, buf, size, 4096));
	EXPECT_EQ(0, memcmp(buf, want + 4096, size - 4096));
	/* A misaligned direct read does what it does on the branch. */
	bfd = open(B("dio"), O_RDONLY | O_DIRECT);
	ASSERT_LE(0, bfd);
	EXPECT_STREQ(pread_str(bfd, buf + 1, 4096, 512), pread_str(fd, buf + 1, 4096, 512));
	close(bfd);
	close(fd);
}

/* 64 MiB read through the union hashes like what was written. */
TEST_F(data, large_file_checksum)
{
	const int blocks = 64;
	uint64_t want = 0, got, x = 0x9e3779b97f4a7c15ULL;
	char *blk = malloc(MiB);
	off_t size = 0;
	int b, i, fd;

	ASSERT_NE(NULL, blk);
	for (i = 0; i < MiB; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(blk + i, &x, 8);
	}
	fd = open(B("large"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	for (b = 0; b < blocks; b++) {
		/* stamp every 4 KiB page, so a misplaced page changes the hash */
		for (i = 0; i < MiB; i += 4096)
			memcpy(blk + i, &(int){ b * 256 + i / 4096 }, sizeof(int));
		ASSERT_EQ(MiB, write(fd, blk, MiB));
		want = st_hash(blk, MiB, want);
	}
	ASSERT_EQ(0, close(fd));
	MOUNT();
	got = st_hash_file(U("large"), &size);
	EXPECT_EQ((off_t)blocks * MiB, size);
	EXPECT_EQ(want, got);
	free(blk);
}

TEST_HARNESS_MAIN
