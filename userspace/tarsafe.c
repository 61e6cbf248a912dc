// SPDX-License-Identifier: GPL-2.0
/*
 * tarsafe.c - the checks every layer tar entry passes before extraction.
 *
 * Absolute symbolic link targets are allowed: images are full of them
 * ("/bin/sh -> busybox") and they resolve against the container's root,
 * never against the store.  Extraction itself also refuses to write
 * through a symbolic link (ARCHIVE_EXTRACT_SECURE_SYMLINKS).
 */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <archive_entry.h>

#include "tarsafe.h"

/* Is any "/"-separated component of @p exactly ".."? */
static bool has_dotdot(const char *p)
{
	const char *s = p;

	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s += n;
		while (*s == '/')
			s++;
	}
	return false;
}

/* Depth of a path's component list after "." and ".." are applied;
 * -1 as soon as it would climb above the top. */
static int walk_depth(int depth, const char *p)
{
	const char *s = p;

	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (--depth < 0)
				return -1;
		} else if (n && !(n == 1 && s[0] == '.')) {
			depth++;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	return depth;
}

bool tarsafe_link_inside(const char *path, const char *target)
{
	int depth = walk_depth(0, path);
	const char *last = strrchr(path, '/');

	if (depth < 0)
		return false;
	/* The link itself is the last component; count its directory. */
	if (last && last[1])
		depth--;
	else if (!last && strcmp(path, ".") && *path)
		depth--;
	if (depth < 0)
		depth = 0;
	return walk_depth(depth, target) >= 0;
}

const char *tarsafe_check(struct archive_entry *e,
			  const struct tarsafe_opts *o)
{
	const char *path = archive_entry_pathname(e);
	const char *hard = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);

	if (!path || !*path)
		return "empty path";
	if (strlen(path) >= PATH_MAX)
		return "path too long";
	if (path[0] == '/')
		return "absolute path";
	if (has_dotdot(path))
		return "'..' in path";
	if (hard) {
		if (hard[0] == '/' || has_dotdot(hard))
			return "hard link leaves the layer";
		return NULL;
	}
	if (archive_entry_size_is_set(e) &&
	    (archive_entry_size(e) < 0 || archive_entry_size(e) > TARSAFE_MAX_SIZE))
		return "absurd size";
	switch (type) {
	case AE_IFREG:
	case AE_IFDIR:
	case AE_IFIFO:
		return NULL;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);

		if (!target || !*target)
			return "symbolic link without a target";
		if (target[0] != '/' && !tarsafe_link_inside(path, target))
			return "symbolic link leaves the layer";
		return NULL;
	}
	case AE_IFCHR:
	case AE_IFBLK:
		return o->allow_devices ? NULL :
			"device node in an unprivileged import";
	default:
		return "unsupported file type";
	}
}
