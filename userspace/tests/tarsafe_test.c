// SPDX-License-Identifier: GPL-2.0
/*
 * tarsafe_test.c - hostile layer tarballs, built here with libarchive,
 * are refused with the entry named, and nothing is written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "test.h"
#include "../layer.h"
#include "../tarsafe.h"
#include "../util.h"

struct ent {
	const char *path;
	mode_t type;
	const char *link;	/* symlink target */
	const char *hard;	/* hard link target */
	int64_t size;		/* header size; data written only if <= 64 */
};

/* Rewrite the ustar size field of entry @name as GNU base-256 @size. */
static void set_huge_size(const char *tar, const char *name, int64_t size)
{
	unsigned char h[512];
	unsigned int sum = 0;
	int fd = open(tar, O_RDWR), i;
	off_t off;

	CHECK(fd >= 0);
	for (off = 0; pread(fd, h, 512, off) == 512; off += 512) {
		if (strcmp((char *)h, name) || memcmp(h + 257, "ustar", 5))
			continue;
		memset(h + 124, 0, 12);
		h[124] = 0x80;
		for (i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
		memset(h + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
		h[155] = ' ';
		CHECK(pwrite(fd, h, 512, off) == 512);
		close(fd);
		return;
	}
	test_fail(__FILE__, __LINE__, "no header for %s", name);
}

static char *make_tar(const char *name, const struct ent *v, size_t n)
{
	char *path = xasprintf("%s/%s", test_tmpdir(), name);
	struct archive *a = archive_write_new();
	char data[64];
	size_t i;

	memset(data, 'x', sizeof(data));
	archive_write_set_format_pax_restricted(a);
	CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, v[i].path);
		archive_entry_set_filetype(e, v[i].type);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, 1000000000, 0);
		if (v[i].link)
			archive_entry_set_symlink(e, v[i].link);
		if (v[i].hard)
			archive_entry_set_hardlink(e, v[i].hard);
		if (v[i].type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		/* Huge sizes are patched into the header afterwards: libarchive
		 * would pad the missing data with zeros. */
		archive_entry_set_size(e, v[i].type == AE_IFREG && v[i].size <= 64 ?
				       v[i].size : 0);
		archive_write_header(a, e);
		if (v[i].type == AE_IFREG && v[i].size && v[i].size <= 64)
			archive_write_data(a, data, v[i].size);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	for (i = 0; i < n; i++)
		if (v[i].size > 64)
			set_huge_size(path, v[i].path, v[i].size);
	return path;
}

static int empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n == 0;
}

struct extract_args {
	const char *tar, *dir;
	bool privileged;
};

static int do_extract(void *p)
{
	struct extract_args *a = p;

	return tar_extract(a->tar, a->dir, a->tar, a->privileged, NULL);
}

/* A good entry first, then the hostile one: both must stay unwritten. */
static void refused(const char *name, struct ent bad, const char *why)
{
	struct ent v[2] = {
		{ .path = "good", .type = AE_IFREG, .size = 3 },
		bad,
	};
	struct extract_args a = { .privileged = false };
	char *err, *want;

	a.tar = make_tar(name, v, 2);
	a.dir = xasprintf("%s/%s.out", test_tmpdir(), name);
	CHECK(!mkdir(a.dir, 0755));
	CHECK_INT(test_capture_stderr(do_extract, &a, &err), -1);
	want = xasprintf("entry %s: %s", bad.path, why);
	CHECK_CONTAINS(err, want);
	CHECK(empty_dir(a.dir));
	free(want);
	free(err);
}

TEST(tarsafe_absolute_path)
{
	refused("abs.tar", (struct ent){ .path = "/etc/passwd", .type = AE_IFREG,
		.size = 1 }, "absolute path");
}

TEST(tarsafe_dotdot)
{
	refused("dotdot.tar", (struct ent){ .path = "a/../../x", .type = AE_IFREG,
		.size = 1 }, "'..' in path");
}

TEST(tarsafe_hardlink_escape)
{
	refused("hard.tar", (struct ent){ .path = "h", .type = AE_IFREG,
		.hard = "../../etc/shadow" }, "hard link leaves the layer");
	refused("hard2.tar", (struct ent){ .path = "h", .type = AE_IFREG,
		.hard = "/etc/shadow" }, "hard link leaves the layer");
}

TEST(tarsafe_symlink_escape)
{
	refused("sym.tar", (struct ent){ .path = "a/s", .type = AE_IFLNK,
		.link = "../../x" }, "symbolic link leaves the layer");
}

TEST(tarsafe_device_unprivileged)
{
	refused("dev.tar", (struct ent){ .path = "dev/mem", .type = AE_IFCHR },
		"device node in an unprivileged import");
}

TEST(tarsafe_absurd_size)
{
	refused("big.tar", (struct ent){ .path = "big", .type = AE_IFREG,
		.size = TARSAFE_MAX_SIZE + 1 }, "absurd size");
}

TEST(tarsafe_link_inside_cases)
{
	CHECK(tarsafe_link_inside("a/b/l", "../c"));
	CHECK(tarsafe_link_inside("a/b/l", "../../c"));
	CHECK(!tarsafe_link_inside("a/b/l", "../../../c"));
	CHECK(!tarsafe_link_inside("l", "../c"));
	CHECK(!tarsafe_link_inside("./l", "../c"));
	CHECK(tarsafe_link_inside("./l", "./c/../d"));
	CHECK(!tarsafe_link_inside("a/l", "x/../../../y"));
}

TEST(tarsafe_good_tar_kept)
{
	struct ent v[] = {
		{ .path = "d", .type = AE_IFDIR },
		{ .path = "d/f", .type = AE_IFREG, .size = 5 },
		{ .path = "d/h", .type = AE_IFREG, .hard = "d/f" },
		{ .path = "d/s", .type = AE_IFLNK, .link = "/bin/sh" },
		{ .path = "d/.wh..wh..opq", .type = AE_IFREG, .size = 0 },
		{ .path = ".wh.gone", .type = AE_IFREG, .size = 0 },
	};
	char *tar = make_tar("good.tar", v, 6);
	char *dir = xasprintf("%s/good", test_tmpdir()), *p, *q;
	struct stat a, b;
	char buf[64];

	CHECK(!mkdir(dir, 0755));
	CHECK_INT(tar_extract(tar, dir, tar, false, NULL), 0);
	p = xasprintf("%s/d/f", dir);
	q = xasprintf("%s/d/h", dir);
	CHECK(!stat(p, &a) && !stat(q, &b));
	CHECK(a.st_ino == b.st_ino);		/* hard link kept */
	CHECK_INT(a.st_size, 5);
	CHECK_INT(a.st_mtime, 1000000000);	/* times kept */
	CHECK_INT(a.st_mode & 0777, 0644);
	free(p);
	p = xasprintf("%s/d/s", dir);
	CHECK(readlink(p, buf, sizeof(buf)) == 7);
	free(p);
	p = xasprintf("%s/.wh.gone", dir);	/* whiteouts stored as they are */
	CHECK(!stat(p, &a));
	free(p);
	p = xasprintf("%s/d/.wh..wh..opq", dir);
	CHECK(!stat(p, &a));
	free(p);
	free(q);
	free(dir);
	free(tar);
}

/* libarchive's messages get the system's reason, once, when there is one. */
TEST(archive_why_errno)
{
	struct archive *a = archive_write_new();

	archive_set_error(a, ENOSPC, "Write error");
	CHECK_STR(archive_why(a), "Write error: No space left on device");
	archive_set_error(a, EDQUOT, "Write failed");
	CHECK_STR(archive_why(a), "Write failed: Disk quota exceeded");
	archive_set_error(a, ENOENT, "Failed to open 'x': No such file or directory");
	CHECK_STR(archive_why(a), "Failed to open 'x': No such file or directory");
	/* Format errors (EILSEQ) and libarchive's own -1 stand alone. */
	archive_set_error(a, EILSEQ, "Damaged tar archive");
	CHECK_STR(archive_why(a), "Damaged tar archive");
	archive_set_error(a, -1, "Truncated input");
	CHECK_STR(archive_why(a), "Truncated input");
	archive_write_free(a);
}
