// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - a branch directory to an OCI layer tar.
 *
 * The output depends only on the tree: names are sorted bytewise, times
 * are whole seconds, owners numeric, and no access or change times are
 * written.  Importing the tar and exporting the layer again gives the
 * same bytes, hence the same digest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <archive.h>
#include <archive_entry.h>

#include "export.h"
#include "progress.h"
#include "util.h"

#define WH_PREFIX	".wh."
#define WH_OPAQUE	".wh..wh..opq"

struct export_ctx {
	struct archive *a;
	struct archive_entry_linkresolver *links;
	struct union_view *view;	/* NULL: no union to read */
	int union_fd;		/* the view's root once opened, or -1 */
	char *const *lowers;	/* layer dirs below, top first, or NULL */
	struct progress *pg;
	char buf[1 << 16];
};

/* One child of a directory: the name written and the name on disk. */
struct child {
	char *out;
	char *src;		/* NULL: synthetic opaque marker */
	bool whiteout;		/* 0/0 char device written as .wh.NAME */
};

static int cmp_child(const void *a, const void *b)
{
	return strcmp(((const struct child *)a)->out,
		      ((const struct child *)b)->out);
}

static bool private_xattr(const char *name)
{
	return strstr(name, ".overlay.") || !strncmp(name, "trusted.strata.", 15) ||
	       !strncmp(name, "user.strata.", 12);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool xattr_is(int fd, const char *name, const char *want)
{
	char val[8];
	ssize_t n = fgetxattr(fd, name, val, sizeof(val));

	return n == (ssize_t)strlen(want) && !memcmp(val, want, n);
}

static bool has_xattr(int fd, const char *name)
{
	return fgetxattr(fd, name, NULL, 0) >= 0;
}

/* Public xattrs of @fd, in name order. */
static int add_xattrs(struct archive_entry *e, int fd, const char *path)
{
	char *list = NULL, *p, **names = NULL, *val = NULL;
	ssize_t len, vlen;
	size_t n = 0, i;
	int ret = -1;

	len = flistxattr(fd, NULL, 0);
	if (len <= 0)
		return (len < 0 && errno != ENOTSUP) ? (err_errno(path, errno), -1) : 0;
	list = xmalloc(len);
	len = flistxattr(fd, list, len);
	if (len < 0) {
		err_errno(path, errno);
		goto out;
	}
	for (p = list; p < list + len; p += strlen(p) + 1) {
		if (private_xattr(p))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = p;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		vlen = fgetxattr(fd, names[i], NULL, 0);
		if (vlen < 0) {
			err_msg(path, "xattr %s: %s", names[i], strerror(errno));
			goto out;
		}
		val = xrealloc(val, vlen);
		vlen = fgetxattr(fd, names[i], val, vlen);
		if (vlen < 0) {
			err_msg(path, "xattr %s: %s", names[i], strerror(errno));
			goto out;
		}
		archive_entry_xattr_add_entry(e, names[i], val, vlen);
	}
	ret = 0;
out:
	free(val);
	free(names);
	free(list);
	return ret;
}

static int write_data(struct export_ctx *c, int fd, const char *path)
{
	ssize_t n;

	while ((n = read(fd, c->buf, sizeof(c->buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_errno(path, errno);
			return -1;
		}
		if (archive_write_data(c->a, c->buf, n) != n) {
			err_msg(path, "%s", archive_why(c->a));
			return -1;
		}
		if (c->pg)
			progress_add(c->pg, n);
	}
	return 0;
}

static int emit(struct export_ctx *c, struct archive_entry *e, int fd,
		const char *path)
{
	struct archive_entry *spare = NULL;
	int ret = 0;

	/* The link resolver turns second and later hard links into links. */
	archive_entry_linkify(c->links, &e, &spare);
	if (e) {
		if (archive_write_header(c->a, e) != ARCHIVE_OK) {
			err_msg(path, "%s", archive_why(c->a));
			ret = -1;
		} else if (fd >= 0 && archive_entry_size(e) > 0) {
			ret = write_data(c, fd, path);
		}
		archive_entry_free(e);
	}
	if (spare)
		archive_entry_free(spare);
	return ret;
}

/* An empty regular file: a .wh. marker. */
static int emit_marker(struct export_ctx *c, const char *name,
		       const struct stat *like)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, like ? (like->st_mode & 0777) : 0644);
	archive_entry_set_uid(e, like ? like->st_uid : 0);
	archive_entry_set_gid(e, like ? like->st_gid : 0);
	archive_entry_set_mtime(e, like ? like->st_mtim.tv_sec : 0, 0);
	archive_entry_set_size(e, 0);
	/* Never a hard link candidate. */
	archive_entry_set_nlink(e, 1);
	return emit(c, e, -1, name);
}

static int walk(struct export_ctx *c, int rootfd, const char *rel, int depth);

int union_view_mounted(struct union_view *v)
{
	int fd = open(v->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		err_errno(v->root, errno);
	return fd;
}

/*
 * The union's root, opened on first need, which @srcrel (a @what) has;
 * -1 after printing why.
 */
static int union_root(struct export_ctx *c, const char *srcrel,
		      const char *what)
{
	if (c->union_fd < 0 && c->view) {
		c->union_fd = c->view->open(c->view);
		if (c->union_fd < 0)
			err_msg(srcrel, "%s: not exported without the union", what);
	}
	return c->union_fd;
}

/* The stub @srcrel read through the union; -1 after printing why. */
static int open_in_union(struct export_ctx *c, const char *srcrel)
{
	int ufd = union_root(c, srcrel, "a metadata-only copy"), fd;

	if (ufd < 0)
		return -1;
	fd = openat(ufd, srcrel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		err_msg(srcrel, "in the union: %s", strerror(errno));
	return fd;
}

/*
 * The data of the stub @fd: through the union if it is open already, else
 * in the first layer below that has a regular file of the recorded size
 * at the recorded path (Documentation/formats.rst, "Metadata-only
 * copies"), opened without following symlinks or leaving the layer, else
 * through the union.
 */
static int stub_data(struct export_ctx *c, int fd, const char *srcrel)
{
	unsigned char rec[16 + PATH_MAX + 1];
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	uint64_t size = 0;
	ssize_t n;
	int i;

	if (c->union_fd >= 0)
		return open_in_union(c, srcrel);
	n = fgetxattr(fd, "trusted.strata.metacopy", rec, sizeof(rec) - 1);
	if (n < 0)
		n = fgetxattr(fd, "user.strata.metacopy", rec, sizeof(rec) - 1);
	if (n < 18 || rec[0] != 1 || rec[16] != '/' ||
	    memchr(rec + 16, '\0', n - 16)) {
		err_msg(srcrel, "a metadata-only copy with a record this strata cannot read");
		return -1;
	}
	rec[n] = '\0';
	for (i = 7; i >= 0; i--)
		size = size << 8 | rec[8 + i];
	for (i = 0; c->lowers && c->lowers[i]; i++) {
		int lfd = open(c->lowers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		int dfd;

		if (lfd < 0)
			continue;
		dfd = syscall(SYS_openat2, lfd, (char *)rec + 17, &how, sizeof(how));
		close(lfd);
		if (dfd < 0)
			continue;
		if (!fstat(dfd, &st) && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size == size &&
		    !has_xattr(dfd, "trusted.strata.metacopy") &&
		    !has_xattr(dfd, "user.strata.metacopy"))
			return dfd;
		close(dfd);
	}
	if (c->view)
		return open_in_union(c, srcrel);
	err_msg(srcrel, "a metadata-only copy whose data %s is in no layer below; mount the container to export it",
		(char *)rec + 16);
	return -1;
}

static int export_one(struct export_ctx *c, int rootfd, const char *rel,
		      const char *srcrel, int depth)
{
	struct archive_entry *e;
	struct stat st;
	char target[4096];
	int fd = -1, ret = -1;
	ssize_t n;

	if (fstatat(rootfd, srcrel, &st, AT_SYMLINK_NOFOLLOW)) {
		err_msg(srcrel, "%s", strerror(errno));
		return -1;
	}
	e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	/* Only what the tree means: no atime/ctime/birthtime, whole seconds. */
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	archive_entry_set_pathname(e, rel);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(rootfd, srcrel, target, sizeof(target) - 1);
		if (n < 0) {
			err_msg(srcrel, "%s", strerror(errno));
			goto out_free;
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
		return emit(c, e, -1, srcrel);
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(rootfd, srcrel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err_msg(srcrel, "%s", strerror(errno));
			goto out_free;
		}
		if (add_xattrs(e, fd, srcrel))
			goto out_free;
	}
	if (!S_ISREG(st.st_mode))
		archive_entry_set_size(e, 0);
	if (S_ISREG(st.st_mode) && (has_xattr(fd, "trusted.strata.metacopy") ||
				    has_xattr(fd, "user.strata.metacopy"))) {
		/* A metadata-only copy: its data is read elsewhere. */
		int dfd = stub_data(c, fd, srcrel);

		close(fd);
		fd = dfd;
		if (fd < 0)
			goto out_free;
	}
	if (S_ISDIR(st.st_mode)) {
		bool redirect = has_xattr(fd, "trusted.strata.redirect") ||
				has_xattr(fd, "user.strata.redirect");

		ret = emit(c, e, -1, srcrel);
		e = NULL;
		if (ret)
			goto out;
		ret = -1;
		if (redirect) {
			/* Renamed here: its merged contents live only in the union. */
			if (!c->view) {
				err_msg(srcrel, "a directory renamed in the union: mount the container to export it");
				goto out;
			}
			if (union_root(c, srcrel, "a directory renamed in the union") >= 0)
				ret = walk(c, c->union_fd, srcrel, -1);
			goto out;
		}
		ret = walk(c, rootfd, srcrel, depth + 1);
		goto out;
	}
	ret = emit(c, e, fd, srcrel);
	e = NULL;
out:
	if (fd >= 0)
		close(fd);
out_free:
	if (e)
		archive_entry_free(e);
	return ret;
}

/*
 * Export the children of @rel (relative to @rootfd, "." for the top).
 * @depth < 0 means we read the union: there are no whiteouts, and the
 * directory must be opaque in the layer.
 */
static int walk(struct export_ctx *c, int rootfd, const char *rel, int depth)
{
	bool top = !strcmp(rel, ".");
	struct child *v = NULL;
	struct dirent *de;
	size_t n = 0, i;
	int dfd, ret = -1;
	bool opaque;
	DIR *d;

	dfd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err_msg(rel, "%s", strerror(errno));
		return -1;
	}
	opaque = depth < 0 || xattr_is(dfd, "trusted.overlay.opaque", "y") ||
		 xattr_is(dfd, "user.overlay.opaque", "y");
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		const char *name = de->d_name;
		struct child ch = {};

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		/* The kernel's hidden work directory in a container top. */
		if (top && !strncmp(name, ".wh..wh.", 8) && strcmp(name, WH_OPAQUE))
			continue;
		if (!strcmp(name, WH_OPAQUE)) {
			opaque = true;
			continue;
		}
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		ch.src = xasprintf("%s/%s", rel, name);
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			ch.whiteout = true;
			ch.out = xasprintf("%s/" WH_PREFIX "%s", rel, name);
		} else {
			ch.out = xstrdup(ch.src);
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = ch;
	}
	if (opaque) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].src = NULL;
		v[n].whiteout = false;
		v[n++].out = xasprintf("%s/" WH_OPAQUE, rel);
	}
	qsort(v, n, sizeof(*v), cmp_child);
	for (i = 0; i < n; i++) {
		/* Paths in the tar have no "./" prefix. */
		const char *out = v[i].out + 2;
		struct stat st;

		if (!v[i].src) {
			ret = emit_marker(c, out, NULL);
		} else if (v[i].whiteout) {
			fstatat(rootfd, v[i].src, &st, AT_SYMLINK_NOFOLLOW);
			ret = emit_marker(c, out, &st);
		} else {
			ret = export_one(c, rootfd, out, v[i].src, depth);
		}
		if (ret)
			break;
	}
	if (!n)
		ret = 0;
	for (i = 0; i < n; i++) {
		free(v[i].out);
		free(v[i].src);
	}
	free(v);
	closedir(d);
	return ret;
}

int layer_export(const char *dir, struct union_view *view,
		 char *const *lowers, int fd, struct progress *pg)
{
	struct export_ctx *c = xmalloc(sizeof(*c));
	int rootfd, ret = -1;

	c->view = view;
	c->union_fd = -1;
	c->lowers = lowers;
	c->pg = pg;
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err_errno(dir, errno);
		free(c);
		return -1;
	}
	c->a = archive_write_new();
	archive_write_set_format_pax_restricted(c->a);
	/* Fixed padding whether @fd is a file or a pipe: same bytes. */
	archive_write_set_bytes_in_last_block(c->a, 1);
	c->links = archive_entry_linkresolver_new();
	archive_entry_linkresolver_set_strategy(c->links,
		ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if (archive_write_open_fd(c->a, fd) != ARCHIVE_OK) {
		err_msg(dir, "%s", archive_why(c->a));
	} else {
		ret = walk(c, rootfd, ".", 0);
		if (archive_write_close(c->a) != ARCHIVE_OK && !ret) {
			err_msg(dir, "%s", archive_why(c->a));
			ret = -1;
		}
	}
	archive_entry_linkresolver_free(c->links);
	archive_write_free(c->a);
	if (c->union_fd >= 0)
		close(c->union_fd);
	close(rootfd);
	free(c);
	return ret;
}
