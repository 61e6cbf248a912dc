// SPDX-License-Identifier: GPL-2.0
/*
 * live_commit.c - commit a mounted container without stopping it, the
 * aufs-style way: through the control channel, the rw top becomes an rr
 * layer of the union (so nothing writes it while it is exported), and a
 * fresh rw top goes on top of it.  The container then sits on the new
 * image; its old top stays a branch of the live union until unmount.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "container.h"
#include "live_commit.h"
#include "strata_nl.h"
#include "util.h"

/* The next top's name: "rw" -> "rw.1", "rw.N" -> "rw.N+1". */
static char *next_top(json_t *c)
{
	const char *t = json_string_value(json_object_get(c, "top"));
	unsigned long n = 0;
	char s[32];

	if (t && !strncmp(t, "rw.", 3))
		n = strtoul(t + 3, NULL, 10);
	snprintf(s, sizeof(s), "rw.%lu", n + 1);
	return xstrdup(s);
}

/* What the tar of a tree takes: nftw() has no argument for its callback. */
static uint64_t room_bytes, room_entries;

static int room_add(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	room_entries++;
	/* A pax header of up to two blocks, the data padded to blocks. */
	room_bytes += 1024;
	if (type == FTW_F && S_ISREG(sb->st_mode))
		room_bytes += (sb->st_size + 511) & ~(uint64_t)511;
	return 0;
}

int live_room(const struct store *st, const char *top)
{
	char *tmp = store_path(st, "tmp");
	uint64_t need, avail;
	struct statvfs sv;
	int ret = -1;

	room_bytes = room_entries = 0;
	/* A walk that fails finds out nothing: the commit will say why. */
	if (nftw(top, room_add, 32, FTW_PHYS) || statvfs(tmp, &sv)) {
		ret = 0;
		goto out;
	}
	/* Project quotas show in statvfs of a directory they cover. */
	need = 2 * room_bytes + (1 << 20);
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (need > avail) {
		err_msg(tmp, "not enough room for the commit: about %llu MiB needed, %llu MiB available; nothing changed",
			(unsigned long long)(need >> 20),
			(unsigned long long)(avail >> 20));
		goto out;
	}
	if (sv.f_files && 2 * room_entries > sv.f_favail) {
		err_msg(tmp, "not enough inodes for the commit: about %llu needed, %llu available; nothing changed",
			(unsigned long long)(2 * room_entries),
			(unsigned long long)sv.f_favail);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	return ret;
}

int live_freeze(struct live_commit *lc, const char *target)
{
	struct strata_nl_opts o = { 0 };
	struct strata_branch_req r = {
		.cmd = STRATA_CMD_BRANCH_SET, .has_index = true, .index = 0,
		.has_mode = true, .mode = STRATA_BRANCH_MODE_RR, .dir_fd = -1,
	};
	char why[512];

	memset(lc, 0, sizeof(*lc));
	lc->target = target;
	lc->mfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lc->mfd < 0) {
		err_msg(target, "%s", strerror(errno));
		return -1;
	}
	lc->nl = strata_nl_open(&o);
	if (!lc->nl)
		goto fail;
	r.mount_fd = lc->mfd;
	if (strata_branch_op(lc->nl, &r)) {
		int e = errno;

		if (e == EBUSY)
			err_msg(target, "the container has files open for writing (%s)",
				strata_nl_strerror(lc->nl, e, why, sizeof(why)));
		else
			err_msg(target, "cannot make the top read-only: %s",
				strata_nl_strerror(lc->nl, e, why, sizeof(why)));
		goto fail;
	}
	return 0;
fail:
	live_close(lc);
	return -1;
}

int live_new_top(struct live_commit *lc, const struct store *st, json_t *c,
		 const char *image)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	struct strata_branch_req r = {
		.cmd = STRATA_CMD_BRANCH_ADD, .mount_fd = lc->mfd,
		.has_index = true, .index = 0, .has_mode = true,
		.mode = STRATA_BRANCH_MODE_RW, .dir_fd = -1,
	};
	char *top = next_top(c), *dir, *tmp, why[512];
	int ret = -1;

	dir = store_path(st, "containers/%s/%s", name, top);
	tmp = store_path(st, "containers/%s/%s.new", name, top);
	/* Made aside and renamed: a crash leaves no half-named top. */
	rmdir(tmp);
	if (mkdir(tmp, 0755) || rename(tmp, dir)) {
		err_msg(dir, "%s", strerror(errno));
		goto out;
	}
	/* The record first: after a crash the container mounts its new top. */
	json_object_set_new(c, "image", json_string(image));
	json_object_set_new(c, "top", json_string(top));
	if (container_save(st, c))
		goto out;
	r.path = dir;
	if (strata_branch_op(lc->nl, &r)) {
		err_msg(lc->target, "committed, but the union stays read-only: "
			"cannot add the new top %s: %s", dir,
			strata_nl_strerror(lc->nl, errno, why, sizeof(why)));
		goto out;
	}
	ret = 0;
out:
	free(dir);
	free(tmp);
	free(top);
	return ret;
}

void live_close(struct live_commit *lc)
{
	if (lc->nl)
		strata_nl_close(lc->nl);
	if (lc->mfd > 0)
		close(lc->mfd);
	lc->nl = NULL;
	lc->mfd = -1;
}
