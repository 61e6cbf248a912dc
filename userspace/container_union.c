// SPDX-License-Identifier: GPL-2.0
/*
 * container_union.c - a container's branches, and a detached read-only
 * union of an unmounted container, for exports that need the union view
 * (a directory renamed in the union has its merged contents nowhere else).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "container.h"
#include "container_union.h"
#include "digest.h"
#include "kmod.h"
#include "layer.h"
#include "mount.h"
#include "util.h"

int container_branches(const struct store *st, json_t *img, json_t *c,
		       struct branch_list *bl)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	json_t *layers = json_object_get(img, "layers");
	size_t i = json_array_size(layers);

	branch_list_add(bl, container_top(st, c), BRANCH_MODE_RW);
	while (i--) {
		const char *id = json_string_value(json_array_get(layers, i));
		char *d;

		if (!id || !digest_valid(id)) {
			err_msg(name, "image record: bad layer %zu", i);
			return -1;
		}
		d = layer_diff_dir(st, id);
		if (!path_exists(d)) {
			err_msg(id, "layer missing from the store");
			free(d);
			return -1;
		}
		branch_list_add(bl, d, BRANCH_MODE_RR);
	}
	return 0;
}

/* Serialise detached unions of one container (see container_union.h). */
static int lock_container(struct container_view *cv, const char *label)
{
	char *dir = store_path(cv->st, "containers/%s",
			       json_string_value(json_object_get(cv->c, "name")));

	cv->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (cv->lockfd < 0 || flock(cv->lockfd, LOCK_EX)) {
		err_msg(label, "cannot lock the container: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int view_open(struct union_view *v)
{
	struct container_view *cv = (struct container_view *)v;
	const char *name = json_string_value(json_object_get(cv->c, "name"));
	struct mount_request req = { .fstype = "strata", .readonly = true };
	struct branch_list bl = {};
	char *label = xasprintf("union of container %s", name);
	int mfd = -1;

	if (fs_make_available(req.fstype, NULL) || lock_container(cv, label) ||
	    container_branches(cv->st, cv->img, cv->c, &bl))
		goto out;
	req.label = label;
	req.branches = &bl;
	req.workdir = store_path(cv->st, "containers/%s/work", name);
	mfd = union_open_detached(&req);
	/* The kernel named the busy directory; say what that means here. */
	if (mfd < 0 && errno == EBUSY)
		err_msg(label, "the container is mounted where this helper cannot see it (another mount namespace?); umount it there first");
	free((char *)req.workdir);
out:
	branch_list_free(&bl);
	free(label);
	return mfd;
}

void container_view_init(struct container_view *cv, const struct store *st,
			 json_t *c, json_t *img)
{
	cv->v.root = json_string_value(json_object_get(c, "target"));
	cv->v.open = cv->v.root ? union_view_mounted : view_open;
	cv->st = st;
	cv->c = c;
	cv->img = img;
	cv->lockfd = -1;
}

void container_view_close(struct container_view *cv)
{
	if (cv->lockfd >= 0)
		close(cv->lockfd);
	cv->lockfd = -1;
}
