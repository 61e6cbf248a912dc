// SPDX-License-Identifier: GPL-2.0
/*
 * export_view_test.c - layer_export() opens the union view only for what
 * needs it (a renamed directory, a stub no layer below has the data of),
 * reads such a directory whole from it, and passes its failure on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "test.h"
#include "../export.h"
#include "../util.h"

/* A view whose "union" is a plain directory; counts its opens. */
struct test_view {
	struct union_view v;
	const char *dir;	/* NULL: open fails */
	int opens;
};

static int test_view_open(struct union_view *v)
{
	struct test_view *t = (struct test_view *)v;

	t->opens++;
	if (!t->dir) {
		err_msg("test union", "cannot open");
		return -1;
	}
	return open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static char *mkdirf(const char *fmt, const char *arg)
{
	char *p = xasprintf(fmt, test_tmpdir(), arg);

	CHECK(!mkdir(p, 0755));
	return p;
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char *tmp = test_write_file("put", text);
	char *p = xasprintf("%s/%s", dir, name);

	CHECK(!rename(tmp, p));
	free(tmp);
	free(p);
}

/* The entry names of tar @path, one a line. */
static char *tar_names(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *out = xstrdup(""), *n;

	archive_read_support_format_all(a);
	CHECK(archive_read_open_filename(a, path, 4096) == ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		n = xasprintf("%s%s\n", out, archive_entry_pathname(e));
		free(out);
		out = n;
	}
	archive_read_free(a);
	return out;
}

struct export_args {
	const char *dir;
	struct union_view *view;
	const char *tar;
};

static int do_export(void *p)
{
	struct export_args *a = p;
	int fd = open(a->tar, O_WRONLY | O_CREAT | O_TRUNC, 0644), ret;

	ret = layer_export(a->dir, a->view, NULL, fd, NULL);
	close(fd);
	return ret;
}

TEST(export_plain_tree_opens_no_union)
{
	struct test_view t = { .v.open = test_view_open };
	char *top = mkdirf("%s/%s", "top");
	struct export_args a = { top, &t.v, xasprintf("%s/t.tar", test_tmpdir()) };
	char *err;

	put_file(top, "f", "x");
	mkdirf("%s/top/%s", "d");
	CHECK_INT(test_capture_stderr(do_export, &a, &err), 0);
	CHECK_STR(err, "");
	CHECK_INT(t.opens, 0);
	CHECK_STR(tar_names(a.tar), "d/\nf\n");
}

TEST(export_renamed_dir_read_from_union_once)
{
	char *uni = mkdirf("%s/%s", "union");
	struct test_view t = { .v.open = test_view_open, .dir = uni };
	char *top = mkdirf("%s/%s", "top");
	struct export_args a = { top, &t.v, xasprintf("%s/t.tar", test_tmpdir()) };
	char *d1, *d2, *err;

	d1 = mkdirf("%s/top/%s", "new");
	d2 = mkdirf("%s/top/%s", "new2");
	if (setxattr(d1, "trusted.strata.redirect", "/old", 4, 0)) {
		SKIP("no trusted xattrs here: %s", strerror(errno));
		return;
	}
	CHECK(!setxattr(d2, "trusted.strata.redirect", "/old2", 5, 0));
	/* What the union shows under the new names: lower contents too. */
	mkdirf("%s/union/%s", "new");
	put_file(xasprintf("%s/new", uni), "lower", "l");
	mkdirf("%s/union/%s", "new2");
	put_file(xasprintf("%s/new2", uni), "lower2", "l");
	CHECK_INT(test_capture_stderr(do_export, &a, &err), 0);
	CHECK_STR(err, "");
	CHECK_INT(t.opens, 1);
	CHECK_STR(tar_names(a.tar),
		  "new/\nnew/.wh..wh..opq\nnew/lower\n"
		  "new2/\nnew2/.wh..wh..opq\nnew2/lower2\n");

	/* A view that cannot be opened fails the export, with its reason. */
	t.dir = NULL;
	t.opens = 0;
	CHECK_INT(test_capture_stderr(do_export, &a, &err), -1);
	CHECK_STR(err, "strata: test union: cannot open\n"
		  "strata: ./new: a directory renamed in the union: not exported without the union\n");
	CHECK_INT(t.opens, 1);

	/* No view at all: the directory and the cause are named. */
	a.view = NULL;
	CHECK_INT(test_capture_stderr(do_export, &a, &err), -1);
	CHECK_CONTAINS(err, "./new: a directory renamed in the union");
}

/* The data of entry @name in tar @path (at most 63 bytes), or NULL. */
static char *tar_data(const char *path, const char *name)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *data = NULL;
	la_ssize_t n;

	archive_read_support_format_all(a);
	CHECK(archive_read_open_filename(a, path, 4096) == ARCHIVE_OK);
	while (!data && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		if (strcmp(archive_entry_pathname(e), name))
			continue;
		data = calloc(1, 64);
		n = archive_read_data(a, data, 63);
		CHECK(n >= 0);
	}
	archive_read_free(a);
	return data;
}

TEST(export_stub_without_layer_data_read_from_union)
{
	char *uni = mkdirf("%s/%s", "union");
	struct test_view t = { .v.open = test_view_open, .dir = uni };
	char *top = mkdirf("%s/%s", "top");
	struct export_args a = { top, &t.v, xasprintf("%s/t.tar", test_tmpdir()) };
	/* v1 record: version, reserved, size 5 (le64), path "/g" */
	static const char rec[] = { 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0,
				    0, 0, '/', 'g' };
	char *stub = xasprintf("%s/g", top), *err;
	int fd;

	fd = open(stub, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && !ftruncate(fd, 5));
	if (fsetxattr(fd, "trusted.strata.metacopy", rec, sizeof(rec), 0)) {
		close(fd);
		SKIP("no trusted xattrs here: %s", strerror(errno));
		return;
	}
	close(fd);
	put_file(uni, "g", "data!");
	/* No layer below has it: the union does. */
	CHECK_INT(test_capture_stderr(do_export, &a, &err), 0);
	CHECK_STR(err, "");
	CHECK_INT(t.opens, 1);
	CHECK_STR(tar_data(a.tar, "g"), "data!");
}
