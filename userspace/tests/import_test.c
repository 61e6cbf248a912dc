// SPDX-License-Identifier: GPL-2.0
/*
 * import_test.c - image import of OCI layouts built here: plain, gzip and
 * zstd layers; a wrong diff-id rejects the whole import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "test.h"
#include "../digest.h"
#include "../image.h"
#include "../oci.h"
#include "../store.h"
#include "../util.h"

/* A one-file layer tar at @path with filter @filter (ARCHIVE_FILTER_*). */
static void write_layer(const char *path, int filter, const char *name)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	if (filter == ARCHIVE_FILTER_GZIP)
		CHECK(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
	else if (filter == ARCHIVE_FILTER_ZSTD &&
		 archive_write_add_filter_zstd(a) != ARCHIVE_OK)
		SKIP("libarchive without zstd");
	CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, strlen(name));
	archive_write_header(a, e);
	archive_write_data(a, name, strlen(name));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

/* The sha256 of the decompressed stream of @path. */
static void diff_id(const char *path, char out[DIGEST_STR_LEN])
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct digest_ctx *c = digest_new();
	char buf[4096];
	la_ssize_t n;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	CHECK(archive_read_open_filename(a, path, 4096) == ARCHIVE_OK);
	CHECK(archive_read_next_header(a, &e) == ARCHIVE_OK);
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		digest_update(c, buf, n);
	archive_read_free(a);
	digest_final(c, out);
}

/* Move @tmp into blobs/sha256/ under its digest; returns the digest. */
static char *put_blob(const char *dir, const char *tmp)
{
	char d[DIGEST_STR_LEN], *dst;

	CHECK(!digest_file(tmp, d));
	dst = xasprintf("%s/blobs/sha256/%s", dir, digest_hex(d));
	CHECK(!rename(tmp, dst));
	free(dst);
	return xstrdup(d);
}

static char *put_json(const char *dir, json_t *j)
{
	char *tmp = xasprintf("%s/blob.json", dir), *d;

	CHECK(!json_dump_file(j, tmp, JSON_COMPACT));
	d = put_blob(dir, tmp);
	free(tmp);
	json_decref(j);
	return d;
}

/* An OCI layout with a plain, a gzip and a zstd layer; @break_diff_id
 * makes the config lie about the last one. */
static char *make_layout(const char *name, bool break_diff_id)
{
	static const int filters[] = { ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP,
				       ARCHIVE_FILTER_ZSTD };
	char *dir = xasprintf("%s/%s", test_tmpdir(), name), *p, *cfg, *man;
	json_t *ids = json_array(), *layers = json_array();
	size_t i;

	p = xasprintf("%s/blobs/sha256", dir);
	CHECK(!mkdir(dir, 0755) && !mkdir(xasprintf("%s/blobs", dir), 0755) &&
	      !mkdir(p, 0755));
	free(p);
	for (i = 0; i < 3; i++) {
		char id[DIGEST_STR_LEN], *tmp = xasprintf("%s/layer", dir), *d;
		char file[32];

		snprintf(file, sizeof(file), "file%zu", i);
		write_layer(tmp, filters[i], file);
		diff_id(tmp, id);
		if (break_diff_id && i == 2)
			id[10] = id[10] == '0' ? '1' : '0';
		d = put_blob(dir, tmp);
		json_array_append_new(ids, json_string(id));
		json_array_append_new(layers, json_pack("{s:s, s:s}", "mediaType",
			"application/vnd.oci.image.layer.v1.tar", "digest", d));
		free(d);
		free(tmp);
	}
	cfg = put_json(dir, json_pack("{s:s, s:{s:s, s:o}}", "os", "linux",
				      "rootfs", "type", "layers", "diff_ids", ids));
	man = put_json(dir, json_pack("{s:i, s:{s:s}, s:o}", "schemaVersion", 2,
				      "config", "digest", cfg, "layers", layers));
	p = xasprintf("%s/index.json", dir);
	json_dump_file(json_pack("{s:i, s:[{s:s, s:{s:s}}]}", "schemaVersion", 2,
				 "manifests", "digest", man, "annotations",
				 "org.opencontainers.image.ref.name", "t:1"), p, 0);
	free(p);
	free(cfg);
	free(man);
	return dir;
}

static int count(const struct store *st, const char *dir)
{
	json_t *ids = store_ids(st, dir, "");
	int n = json_array_size(ids);

	json_decref(ids);
	return n;
}

struct import_args {
	struct store *st;
	const char *dir;
};

static int do_import(void *p)
{
	struct import_args *a = p;

	return oci_import(a->st, a->dir, NULL);
}

TEST(import_plain_gzip_zstd_layers)
{
	char *dir = make_layout("oci", false), id[DIGEST_STR_LEN];
	struct store st;
	int out, ret;

	store_root_opt = xasprintf("%s/store", test_tmpdir());
	CHECK_INT(store_open(&st, true), 0);
	/* The image id it prints is not TAP. */
	fflush(stdout);
	out = dup(1);
	CHECK(freopen("/dev/null", "w", stdout));
	ret = oci_import(&st, dir, NULL);
	fflush(stdout);
	dup2(out, 1);
	CHECK_INT(ret, 0);
	CHECK_INT(count(&st, "layers"), 3);
	CHECK_INT(image_resolve(&st, "t:1", id), 0);
	store_close(&st);
}

TEST(import_wrong_diff_id_leaves_nothing)
{
	char *dir = make_layout("bad", true), *err, *tmp;
	struct store st;
	struct import_args a = { &st, NULL };

	store_root_opt = xasprintf("%s/store", test_tmpdir());
	CHECK_INT(store_open(&st, true), 0);
	a.dir = dir;
	CHECK_INT(test_capture_stderr(do_import, &a, &err), -1);
	CHECK_CONTAINS(err, "diff-id mismatch");
	/* The two good layers were staged, then dropped with the rest. */
	CHECK_INT(count(&st, "layers"), 0);
	tmp = store_path(&st, "tmp");
	CHECK_INT(rmdir(tmp), 0);
	CHECK(!path_exists(store_path(&st, "tags.json")));
	free(err);
	free(tmp);
	store_close(&st);
}
