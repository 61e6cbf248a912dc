// SPDX-License-Identifier: GPL-2.0
/*
 * store.c - store root, locking, and the build-in-tmp-then-rename rule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

const char *store_root_opt;

const char *store_root_path(void)
{
	const char *env = getenv("STRATA_ROOT");

	if (store_root_opt)
		return store_root_opt;
	if (env && *env)
		return env;
	return STORE_DEFAULT_ROOT;
}

bool path_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int rm_rf(const char *path)
{
	if (!path_exists(path))
		return 0;
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) && errno != EEXIST) {
				ret = -1;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ret;
}

/* What a killed helper left in tmp/; only ever called under LOCK_EX. */
static void clean_tmp(struct store *st)
{
	char *tmp = store_path(st, "tmp");
	struct dirent *de;
	DIR *d = opendir(tmp);

	if (!d) {
		free(tmp);
		return;
	}
	while ((de = readdir(d))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", tmp, de->d_name);
		if (rm_rf(p))
			warn_msg(p, "cannot remove leftover: %s", strerror(errno));
		free(p);
	}
	closedir(d);
	free(tmp);
}

int store_open(struct store *st, bool exclusive)
{
	static const char *const dirs[] = { "tmp", "layers", "images", "containers" };
	const char *root = store_root_path();
	char *lock;
	size_t i;

	st->root = xstrdup(root);
	st->rootfd = -1;
	st->lockfd = -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *p = store_path(st, "%s", dirs[i]);

		if (mkdir_p(p)) {
			err_msg(p, "cannot create store directory: %s",
				strerror(errno));
			free(p);
			goto fail;
		}
		free(p);
	}
	st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd < 0) {
		err_errno(root, errno);
		goto fail;
	}
	lock = store_path(st, "lock");
	st->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lockfd < 0) {
		err_msg(lock, "cannot open store lock: %s", strerror(errno));
		free(lock);
		goto fail;
	}
	/* Blocks while another helper changes the store. */
	while (flock(st->lockfd, exclusive ? LOCK_EX : LOCK_SH)) {
		if (errno != EINTR) {
			err_msg(lock, "cannot lock the store: %s", strerror(errno));
			free(lock);
			goto fail;
		}
	}
	free(lock);
	if (exclusive)
		clean_tmp(st);
	return 0;
fail:
	store_close(st);
	return -1;
}

void store_close(struct store *st)
{
	if (st->lockfd >= 0)
		close(st->lockfd);	/* drops the flock */
	if (st->rootfd >= 0)
		close(st->rootfd);
	free(st->root);
	st->root = NULL;
	st->lockfd = st->rootfd = -1;
}

char *store_path(const struct store *st, const char *fmt, ...)
{
	char *rel, *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	va_end(ap);
	if (!rel) {
		err_msg(NULL, "out of memory");
		exit(EXIT_FAILED);
	}
	p = xasprintf("%s/%s", st->root, rel);
	free(rel);
	return p;
}

char *store_mktemp(const struct store *st, const char *prefix)
{
	char *p = store_path(st, "tmp/%s.XXXXXX", prefix);

	if (!mkdtemp(p)) {
		err_msg(p, "cannot create: %s", strerror(errno));
		free(p);
		return NULL;
	}
	return p;
}

static int fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd, ret;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int store_publish(const struct store *st, const char *tmp, const char *dst)
{
	/* One syncfs covers every file and directory built under tmp/. */
	if (syncfs(st->rootfd)) {
		err_msg(st->root, "sync: %s", strerror(errno));
		return -1;
	}
	if (rename(tmp, dst)) {
		err_msg(dst, "cannot create: %s", strerror(errno));
		return -1;
	}
	if (fsync_parent(dst)) {
		err_msg(dst, "sync: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int store_write_json(const struct store *st, const char *dst, json_t *j)
{
	char *tmp = store_path(st, "tmp/json.XXXXXX");
	int fd, ret = -1;
	char *text;
	size_t len, off = 0;

	fd = mkstemp(tmp);
	if (fd < 0) {
		err_msg(tmp, "cannot create: %s", strerror(errno));
		free(tmp);
		return -1;
	}
	text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text) {
		err_msg(dst, "cannot encode JSON");
		goto out;
	}
	len = strlen(text);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_msg(tmp, "write: %s", strerror(errno));
			goto out;
		}
		off += n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd)) {
		err_msg(tmp, "write: %s", strerror(errno));
		goto out;
	}
	if (rename(tmp, dst)) {
		err_msg(dst, "cannot write: %s", strerror(errno));
		goto out;
	}
	fsync_parent(dst);
	ret = 0;
out:
	free(text);
	close(fd);
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

json_t *store_read_json(const char *path, bool missing_ok)
{
	json_error_t jerr;
	json_t *j;

	j = json_load_file(path, 0, &jerr);
	if (j)
		return j;
	if (!path_exists(path)) {
		if (!missing_ok)
			err_msg(path, "does not exist");
		errno = ENOENT;
		return NULL;
	}
	err_msg(path, "bad JSON: line %d: %s", jerr.line, jerr.text);
	errno = EINVAL;
	return NULL;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

json_t *store_ids(const struct store *st, const char *dir, const char *suffix)
{
	char *path = store_path(st, "%s", dir);
	size_t n = 0, cap = 0, i, slen = strlen(suffix);
	json_t **v = NULL, *arr = json_array();
	struct dirent *de;
	DIR *d = opendir(path);

	free(path);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name), k;

		if (len != 64 + slen || strcmp(de->d_name + 64, suffix))
			continue;
		for (k = 0; k < 64; k++)
			if (!strchr("0123456789abcdef", de->d_name[k]))
				break;
		if (k < 64)
			continue;
		if (n == cap)
			v = xrealloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
		v[n++] = json_sprintf("sha256:%.64s", de->d_name);
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof(*v), cmp_json_str);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return arr;
}

int store_resolve(const struct store *st, const char *dir, const char *suffix,
		  const char *ref, const char *what, char out[72])
{
	json_t *ids = store_ids(st, dir, suffix), *v;
	const char *hex = ref;
	size_t i, n;
	int found = 0;

	if (!strncmp(hex, "sha256:", 7))
		hex += 7;
	n = strlen(hex);
	json_array_foreach(ids, i, v) {
		if (n >= 4 && n <= 64 && !strncmp(json_string_value(v) + 7, hex, n)) {
			snprintf(out, 72, "%s", json_string_value(v));
			found++;
		}
	}
	json_decref(ids);
	if (found == 1)
		return 0;
	if (found)
		err_msg(ref, "ambiguous %s reference", what);
	else
		err_msg(ref, "no such %s", what);
	return -1;
}

int store_remove(const struct store *st, const char *path)
{
	char *tmp = store_mktemp(st, "rm");
	char *dst;
	int ret = -1;

	if (!tmp)
		return -1;
	dst = xasprintf("%s/x", tmp);
	/* After this rename the object is gone from the store's view, even if
	 * we crash before the rm -rf below finishes. */
	if (rename(path, dst)) {
		err_msg(path, "cannot remove: %s", strerror(errno));
		goto out;
	}
	fsync_parent(path);
	if (rm_rf(tmp))
		warn_msg(tmp, "cannot remove: %s", strerror(errno));
	ret = 0;
out:
	free(dst);
	free(tmp);
	return ret;
}
