// SPDX-License-Identifier: GPL-2.0
/*
 * layer.c - verify, check and unpack layer tarballs into the store.
 *
 * A blob is read three times: once to hash it (compressed and
 * uncompressed in the same pass), once to check every entry header, and
 * once to unpack.  Nothing is written before the first two passes agree
 * that the blob is the one asked for and holds nothing hostile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "layer.h"
#include "progress.h"
#include "tarsafe.h"
#include "util.h"

#define BLOCK (1 << 16)

struct hash_src {
	int fd;
	struct digest_ctx *blob;
	char buf[BLOCK];
	struct progress *pg;
};

static la_ssize_t hash_read(struct archive *a, void *data, const void **buf)
{
	struct hash_src *s = data;
	ssize_t n;

	do
		n = read(s->fd, s->buf, sizeof(s->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	digest_update(s->blob, s->buf, n);
	if (s->pg)
		progress_add(s->pg, n);
	*buf = s->buf;
	return n;
}

/* sha256 of the blob's bytes and of its decompressed stream. */
static int hash_blob(const char *blob, char blob_id[DIGEST_STR_LEN],
		     char diff_id[DIGEST_STR_LEN], uint64_t *size,
		     struct progress *pg)
{
	struct hash_src *s = xmalloc(sizeof(*s));
	struct digest_ctx *diff;
	struct archive *a;
	struct archive_entry *e;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r, ret = -1;

	s->fd = open(blob, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		err_errno(blob, errno);
		free(s);
		return -1;
	}
	s->blob = digest_new();
	s->pg = pg;
	diff = digest_new();
	*size = 0;
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, s, NULL, hash_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		err_msg(blob, "%s", archive_why(a));
		goto out;
	}
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		digest_update(diff, buf, len);
		*size += len;
	}
	if (r != ARCHIVE_EOF) {
		err_msg(blob, "%s", archive_why(a));
		goto out;
	}
	/* Whatever follows the compressed stream still belongs to the blob. */
	while (hash_read(a, s, &buf) > 0)
		;
	ret = 0;
out:
	archive_read_free(a);
	close(s->fd);
	digest_final(s->blob, blob_id);
	digest_final(diff, diff_id);
	free(s);
	return ret;
}

static struct archive *open_tar(const char *file)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, file, BLOCK) != ARCHIVE_OK) {
		err_msg(file, "%s", archive_why(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The header pass: every entry is checked before anything is written. */
static int check_tar(const char *file, const char *obj, bool privileged)
{
	struct tarsafe_opts o = { .allow_devices = privileged };
	struct archive_entry *e;
	struct archive *a;
	const char *why;
	int r, ret = -1;

	a = open_tar(file);
	if (!a)
		return -1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		why = tarsafe_check(e, &o);
		if (why) {
			err_msg(obj, "entry %s: %s", archive_entry_pathname(e) ?: "",
				why);
			goto out;
		}
		if (archive_read_data_skip(a) != ARCHIVE_OK)
			break;
	}
	if (r != ARCHIVE_EOF) {
		err_msg(obj, "%s", archive_why(a));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	return ret;
}

static int copy_data(struct archive *in, struct archive *out,
		     struct progress *pg)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK) {
		if (archive_write_data_block(out, buf, len, off) != ARCHIVE_OK)
			return -1;
		if (pg)
			progress_add(pg, len);
	}
	return r == ARCHIVE_EOF ? 0 : -1;
}

static int unpack_tar(const char *file, const char *obj, bool privileged,
		      struct progress *pg)
{
	struct tarsafe_opts o = { .allow_devices = privileged };
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
		ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
		ARCHIVE_EXTRACT_SPARSE | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	struct archive_entry *e;
	struct archive *a, *w;
	const char *why;
	int r, ret = -1;

	if (privileged)
		flags |= ARCHIVE_EXTRACT_OWNER;
	a = open_tar(file);
	if (!a)
		return -1;
	w = archive_write_disk_new();
	archive_write_disk_set_options(w, flags);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		/* Again: the file may have changed since the header pass. */
		why = tarsafe_check(e, &o);
		if (why) {
			err_msg(obj, "entry %s: %s", archive_entry_pathname(e), why);
			goto out;
		}
		if (archive_write_header(w, e) != ARCHIVE_OK ||
		    copy_data(a, w, pg) || archive_write_finish_entry(w) != ARCHIVE_OK) {
			err_msg(obj, "entry %s: %s", archive_entry_pathname(e),
				archive_error_string(w) ? archive_why(w) : archive_why(a));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		err_msg(obj, "%s", archive_why(a));
		goto out;
	}
	/* Directory times and modes are fixed up here. */
	if (archive_write_close(w) != ARCHIVE_OK) {
		err_msg(obj, "%s", archive_why(w));
		goto out;
	}
	ret = 0;
out:
	archive_write_free(w);
	archive_read_free(a);
	return ret;
}

int tar_extract(const char *file, const char *dir, const char *obj,
		bool privileged, struct progress *pg)
{
	char *abs = realpath(file, NULL);
	int cwd, ret = -1;

	if (!abs) {
		err_errno(file, errno);
		return -1;
	}
	if (check_tar(abs, obj, privileged))
		goto out_free;
	/* libarchive extracts relative to the working directory. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir)) {
		err_errno(dir, errno);
		goto out;
	}
	ret = unpack_tar(abs, obj, privileged, pg);
	if (fchdir(cwd))
		warn_msg(NULL, "cannot return to the working directory");
out:
	if (cwd >= 0)
		close(cwd);
out_free:
	free(abs);
	return ret;
}

char *layer_diff_dir(const struct store *st, const char *diff_id)
{
	return store_path(st, "layers/%s/diff", digest_hex(diff_id));
}

int layer_stage(const struct store *st, const char *blob,
		const char *want_blob, const char *want_diff_id,
		struct staged_layer *out, struct progress *pg)
{
	char blob_id[DIGEST_STR_LEN];
	char *dst, *diff = NULL;
	json_t *meta;
	int ret = -1;

	out->tmp = NULL;
	if (pg)
		progress_start(pg, "verify");
	ret = hash_blob(blob, blob_id, out->diff_id, &out->size, pg);
	if (pg)
		progress_done(pg);
	if (ret)
		return -1;
	ret = -1;
	if (want_blob && strcmp(want_blob, blob_id)) {
		err_msg(blob, "digest mismatch: expected %s, got %s", want_blob,
			blob_id);
		return -1;
	}
	if (want_diff_id && strcmp(want_diff_id, out->diff_id)) {
		err_msg(blob, "diff-id mismatch: expected %s, got %s",
			want_diff_id, out->diff_id);
		return -1;
	}
	dst = store_path(st, "layers/%s", digest_hex(out->diff_id));
	if (path_exists(dst)) {
		free(dst);
		return 0;		/* never unpacked twice */
	}
	free(dst);
	out->tmp = store_mktemp(st, "layer");
	if (!out->tmp)
		return -1;
	diff = xasprintf("%s/diff", out->tmp);
	if (mkdir(diff, 0755)) {
		err_errno(diff, errno);
		goto out;
	}
	if (pg)
		progress_start(pg, "unpack");
	ret = tar_extract(blob, diff, blob, geteuid() == 0, pg);
	if (pg)
		progress_done(pg);
	if (ret)
		goto out;
	meta = json_pack("{s:s, s:I}", "diff_id", out->diff_id, "size",
			 (json_int_t)out->size);
	dst = xasprintf("%s/layer.json", out->tmp);
	ret = json_dump_file(meta, dst, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (ret)
		err_msg(dst, "cannot write");
	json_decref(meta);
	free(dst);
out:
	free(diff);
	if (ret)
		layer_unstage(out);
	return ret;
}

int layer_publish(const struct store *st, struct staged_layer *l)
{
	char *dst;
	int ret;

	if (!l->tmp)
		return 0;
	dst = store_path(st, "layers/%s", digest_hex(l->diff_id));
	if (path_exists(dst)) {
		/* The same layer twice in one import. */
		free(dst);
		layer_unstage(l);
		return 0;
	}
	ret = store_publish(st, l->tmp, dst);
	free(dst);
	if (!ret) {
		free(l->tmp);
		l->tmp = NULL;
	}
	return ret;
}

void layer_unstage(struct staged_layer *l)
{
	if (l->tmp) {
		rm_rf(l->tmp);
		free(l->tmp);
		l->tmp = NULL;
	}
}

int layer_resolve(const struct store *st, const char *ref,
		  char out[DIGEST_STR_LEN])
{
	return store_resolve(st, "layers", "", ref, "layer", out);
}
