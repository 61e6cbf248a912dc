// SPDX-License-Identifier: GPL-2.0
/*
 * store_test.c - digests, store metadata, locking and layer round trips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "test.h"
#include "../commit.h"
#include "../digest.h"
#include "../export.h"
#include "../image.h"
#include "../layer.h"
#include "../store.h"
#include "../util.h"

static void open_store(struct store *st, bool excl)
{
	store_root_opt = xasprintf("%s/store", test_tmpdir());
	CHECK_INT(store_open(st, excl), 0);
}

TEST(digest_known_values)
{
	char d[DIGEST_STR_LEN];

	digest_buf("abc", 3, d);
	CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(digest_valid(d));
	CHECK(!digest_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	CHECK(!digest_valid("sha256:abc"));
	CHECK(!digest_valid("md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

static char *make_layer_dir(const char *name)
{
	char *dir = xasprintf("%s/%s", test_tmpdir(), name), *p;

	CHECK(!mkdir(dir, 0755));
	p = xasprintf("%s/file", dir);
	free(test_write_file("dummy", "x"));
	CHECK(!rename(xasprintf("%s/dummy", test_tmpdir()), p));
	free(p);
	p = xasprintf("%s/sub", dir);
	CHECK(!mkdir(p, 0755));
	free(p);
	return dir;
}

struct stage_args {
	struct store *st;
	const char *blob, *want_blob, *want_diff;
};

static int do_stage(void *p)
{
	struct stage_args *a = p;
	struct staged_layer l;

	return layer_stage(a->st, a->blob, a->want_blob, a->want_diff, &l, NULL);
}

TEST(digest_mismatch_rejected_nothing_left)
{
	struct store st;
	char *dir, *tar, *tmp, *err;
	struct stage_args a;
	int fd;

	open_store(&st, true);
	dir = make_layer_dir("l");
	tar = xasprintf("%s/l.tar", test_tmpdir());
	fd = open(tar, O_WRONLY | O_CREAT, 0644);
	CHECK_INT(layer_export(dir, NULL, NULL, fd, NULL), 0);
	close(fd);
	a = (struct stage_args){ &st, tar,
		"sha256:0000000000000000000000000000000000000000000000000000000000000000",
		NULL };
	CHECK_INT(test_capture_stderr(do_stage, &a, &err), -1);
	CHECK_CONTAINS(err, "digest mismatch: expected sha256:0000");
	free(err);
	a.want_blob = NULL;
	a.want_diff = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	CHECK_INT(test_capture_stderr(do_stage, &a, &err), -1);
	CHECK_CONTAINS(err, "diff-id mismatch");
	free(err);
	tmp = store_path(&st, "tmp");
	CHECK_INT(rmdir(tmp), 0);	/* empty: nothing half-made */
	free(tmp);
	store_close(&st);
}

TEST(layer_round_trip_same_digest)
{
	char id[DIGEST_STR_LEN], again[DIGEST_STR_LEN], *dir, *tar, *ldir;
	struct store st;
	int fd;

	open_store(&st, true);
	dir = make_layer_dir("rt");
	CHECK_INT(layer_from_dir(&st, dir, NULL, NULL, id), 0);
	ldir = layer_diff_dir(&st, id);
	CHECK(path_exists(ldir));
	tar = xasprintf("%s/rt.tar", test_tmpdir());
	fd = open(tar, O_WRONLY | O_CREAT, 0644);
	CHECK_INT(layer_export(ldir, NULL, NULL, fd, NULL), 0);
	close(fd);
	CHECK_INT(digest_file(tar, again), 0);
	CHECK_STR(again, id);
	/* Storing it again does not unpack it twice. */
	CHECK_INT(layer_from_dir(&st, ldir, NULL, NULL, again), 0);
	CHECK_STR(again, id);
	store_close(&st);
}

/* A stub of a container top: its size, no data, and a v1 record. */
static int make_stub(const char *path, const char *target, off_t size)
{
	unsigned char rec[16 + 256] = { 1 };
	size_t len = strlen(target);
	int fd, i, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	for (i = 0; i < 8; i++)
		rec[8 + i] = (unsigned char)((uint64_t)size >> (8 * i));
	memcpy(rec + 16, target, len);
	ret = ftruncate(fd, size) ?:
	      fsetxattr(fd, "trusted.strata.metacopy", rec, 16 + len, 0);
	close(fd);
	return ret;
}

struct export_args {
	const char *dir;
	char *const *lowers;
	int fd;
};

static int do_export(void *p)
{
	struct export_args *a = p;

	return layer_export(a->dir, NULL, a->lowers, a->fd, NULL);
}

TEST(stub_exported_with_data_of_layer_below)
{
	char *top = xasprintf("%s/stubtop", test_tmpdir());
	char *low = xasprintf("%s/stublow", test_tmpdir());
	char *mid = xasprintf("%s/stubmid", test_tmpdir());
	char *lowers[] = { mid, low, NULL };
	char id[DIGEST_STR_LEN], *ldir, *got, *err, *tar;
	struct export_args a = { top, lowers, -1 };
	struct store st;
	size_t n;
	int fd;

	CHECK(!mkdir(top, 0755) && !mkdir(low, 0755) && !mkdir(mid, 0755));
	CHECK(!mkdir(xasprintf("%s/d", low), 0755));
	free(test_write_file("stubdata", "hello layer"));
	CHECK(!rename(xasprintf("%s/stubdata", test_tmpdir()),
		      xasprintf("%s/d/f", low)));
	/* A same-named file of another size in between is not the data. */
	CHECK(!mkdir(xasprintf("%s/d", mid), 0755));
	free(test_write_file("stubother", "other"));
	CHECK(!rename(xasprintf("%s/stubother", test_tmpdir()),
		      xasprintf("%s/d/f", mid)));
	if (make_stub(xasprintf("%s/g", top), "/d/f", 11)) {
		test_skip("no trusted xattrs here: %s", strerror(errno));
		return;
	}
	open_store(&st, true);
	CHECK_INT(layer_from_dir(&st, top, NULL, lowers, id), 0);
	ldir = layer_diff_dir(&st, id);
	got = xmalloc(32);
	fd = open(xasprintf("%s/g", ldir), O_RDONLY);
	CHECK(fd >= 0);
	n = fd >= 0 ? (size_t)read(fd, got, 32) : 0;
	CHECK(n == 11 && !memcmp(got, "hello layer", 11));
	if (fd >= 0)
		close(fd);
	free(got);

	/* No layer has it: the file and the cause are named. */
	tar = xasprintf("%s/stub.tar", test_tmpdir());
	a.fd = open(tar, O_WRONLY | O_CREAT, 0644);
	lowers[1] = NULL;
	CHECK_INT(test_capture_stderr(do_export, &a, &err), -1);
	CHECK_CONTAINS(err, "g: a metadata-only copy whose data /d/f is in no layer below");
	free(err);
	close(a.fd);
	store_close(&st);
}

TEST(store_image_metadata_and_tags)
{
	char id[DIGEST_STR_LEN], got[DIGEST_STR_LEN];
	json_t *cfg = json_pack("{s:s}", "os", "linux");
	json_t *layers = json_pack("[s]",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	struct store st;
	json_t *img;

	open_store(&st, true);
	CHECK_INT(image_save(&st, cfg, layers, "demo", id), 0);
	CHECK_INT(image_resolve(&st, "demo:latest", got), 0);
	CHECK_STR(got, id);
	CHECK_INT(image_resolve(&st, id + 7, got), 0);	/* full hex */
	CHECK_STR(got, id);
	CHECK_INT(image_tag(&st, id, "other:v1"), 0);
	CHECK_INT(image_resolve(&st, "other:v1", got), 0);
	img = image_load(&st, id);
	CHECK(img && json_array_size(json_object_get(img, "layers")) == 1);
	CHECK_STR(json_string_value(json_object_get(json_object_get(img, "config"),
						    "os")), "linux");
	json_decref(img);
	json_decref(cfg);
	json_decref(layers);
	store_close(&st);
}

TEST(store_lock_excludes_and_cleans_tmp)
{
	struct store st;
	char *lock, *junk;
	int fd, status;
	pid_t pid;

	open_store(&st, true);
	lock = store_path(&st, "lock");
	junk = store_path(&st, "tmp/layer.half");
	CHECK(!mkdir(junk, 0700));
	pid = fork();
	if (!pid) {
		/* Another helper: may not get the lock while we hold it. */
		int f = open(lock, O_RDWR);

		_exit(flock(f, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	store_close(&st);
	/* The next writer clears what a crashed helper left. */
	open_store(&st, true);
	CHECK(!path_exists(junk));
	store_close(&st);
	fd = open(lock, O_RDWR);
	CHECK(!flock(fd, LOCK_EX | LOCK_NB));	/* released on close */
	close(fd);
	free(lock);
	free(junk);
}

/* What a crash in the middle of an image change leaves, and gc after it. */
TEST(gc_finishes_interrupted_image_changes)
{
	char a[DIGEST_STR_LEN], b[DIGEST_STR_LEN], c[DIGEST_STR_LEN];
	char d[DIGEST_STR_LEN], got[DIGEST_STR_LEN], *p;
	json_t *layers = json_pack("[s]",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	json_t *ca = json_pack("{s:s}", "os", "a"), *cb = json_pack("{s:s}", "os", "b");
	json_t *cc = json_pack("{s:s}", "os", "c"), *cd = json_pack("{s:s}", "os", "d");
	json_t *none = json_array(), *used = json_pack("[{s:s}]", "image", "");
	json_t *tags;
	struct store st;

	open_store(&st, true);
	/* a: image rm cut after its intent; its tag is still there. */
	CHECK_INT(image_save(&st, ca, layers, "a", a), 0);
	CHECK_INT(image_intent(&st, a, "rm", NULL), 0);
	/* b: imported for tag b, cut before the tag was written. */
	CHECK_INT(image_save(&st, cb, layers, NULL, b), 0);
	CHECK_INT(image_intent(&st, b, "add", "b:latest"), 0);
	/* c: cut after its tag, before the intent went. */
	CHECK_INT(image_save(&st, cc, layers, "c", c), 0);
	CHECK_INT(image_intent(&st, c, "add", "c:latest"), 0);
	/* d: like b, but a container uses it. */
	CHECK_INT(image_save(&st, cd, layers, NULL, d), 0);
	CHECK_INT(image_intent(&st, d, "add", "d:latest"), 0);
	json_object_set_new(json_array_get(used, 0), "image", json_string(d));
	/* A complete image_save leaves no intent. */
	p = store_path(&st, "images/%s.pending", digest_hex(c));
	CHECK(path_exists(p));
	free(p);

	CHECK_INT(image_finish_pending(&st, used), 0);
	tags = tags_load(&st);
	CHECK(tags && !json_object_get(tags, "a:latest") && !json_object_get(tags, "b:latest"));
	json_decref(tags);
	CHECK(image_resolve(&st, "c:latest", got) == 0 && !strcmp(got, c));
	p = store_path(&st, "images/%s.json", digest_hex(a));
	CHECK(!path_exists(p));
	free(p);
	p = store_path(&st, "images/%s.json", digest_hex(b));
	CHECK(!path_exists(p));
	free(p);
	p = store_path(&st, "images/%s.json", digest_hex(d));
	CHECK(path_exists(p));
	free(p);
	for (const char *id = a; id; id = id == a ? b : id == b ? c : id == c ? d : NULL) {
		p = store_path(&st, "images/%s.pending", digest_hex(id));
		CHECK(!path_exists(p));
		free(p);
	}
	/* Nothing pending: nothing happens. */
	CHECK_INT(image_finish_pending(&st, none), 0);
	CHECK(image_resolve(&st, "c:latest", got) == 0);
	json_decref(layers);
	json_decref(ca);
	json_decref(cb);
	json_decref(cc);
	json_decref(cd);
	json_decref(none);
	json_decref(used);
	store_close(&st);
}
