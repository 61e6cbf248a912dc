// SPDX-License-Identifier: GPL-2.0
/*
 * commit.c - a directory (a container's rw top) to a layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commit.h"
#include "export.h"
#include "layer.h"
#include "progress.h"
#include "util.h"

int layer_from_dir(const struct store *st, const char *dir,
		   struct union_view *view, char *const *lowers,
		   char diff_id[DIGEST_STR_LEN])
{
	char *tmp = store_mktemp(st, "commit"), *tar;
	struct staged_layer l;
	struct progress pg;
	int fd, ret = -1;

	if (!tmp)
		return -1;
	tar = xasprintf("%s/layer.tar", tmp);
	fd = open(tar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_errno(tar, errno);
		goto out;
	}
	progress_start(&pg, "commit");
	ret = layer_export(dir, view, lowers, fd, &pg);
	close(fd);
	progress_done(&pg);
	if (ret)
		goto out;
	ret = layer_stage(st, tar, NULL, NULL, &l, NULL);
	if (!ret) {
		ret = layer_publish(st, &l);
		layer_unstage(&l);
		snprintf(diff_id, DIGEST_STR_LEN, "%s", l.diff_id);
	}
out:
	rm_rf(tmp);
	free(tar);
	free(tmp);
	return ret;
}
