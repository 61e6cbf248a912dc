// SPDX-License-Identifier: GPL-2.0
/*
 * container.c - container records in the store.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "mountinfo.h"
#include "util.h"

json_t *container_load(const struct store *st, const char *name)
{
	char *p = store_path(st, "containers/%s/container.json", name);
	json_t *j = store_read_json(p, true);

	free(p);
	return j;
}

int container_save(const struct store *st, json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	char *p = store_path(st, "containers/%s/container.json", name);
	int ret = store_write_json(st, p, c);

	free(p);
	return ret;
}

json_t *container_create(const struct store *st, const char *name,
			 const char *image)
{
	char *tmp = store_mktemp(st, "container"), *p, *dst;
	json_t *c = NULL;

	if (!tmp)
		return NULL;
	p = xasprintf("%s/rw", tmp);
	if (mkdir(p, 0755)) {
		err_errno(p, errno);
		goto out;
	}
	free(p);
	p = xasprintf("%s/work", tmp);
	if (mkdir(p, 0700)) {
		err_errno(p, errno);
		goto out;
	}
	free(p);
	p = xasprintf("%s/container.json", tmp);
	c = json_pack("{s:s, s:s, s:n}", "name", name, "image", image, "target");
	if (json_dump_file(c, p, JSON_INDENT(2) | JSON_SORT_KEYS)) {
		err_msg(p, "cannot write");
		json_decref(c);
		c = NULL;
		goto out;
	}
	dst = store_path(st, "containers/%s", name);
	if (store_publish(st, tmp, dst)) {
		json_decref(c);
		c = NULL;
	}
	free(dst);
out:
	free(p);
	if (!c)
		rm_rf(tmp);
	free(tmp);
	return c;
}

json_t *container_list(const struct store *st)
{
	char *dir = store_path(st, "containers");
	json_t *all = json_array(), *c;
	struct dirent *de;
	DIR *d = opendir(dir);

	free(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		c = container_load(st, de->d_name);
		if (c)
			json_array_append_new(all, c);
	}
	if (d)
		closedir(d);
	return all;
}

bool mounted_strata(const char *target)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char mnt[4096], *sep;

		/* id parent maj:min root MOUNTPOINT ... - fstype ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		mountinfo_unescape(mnt);
		sep = strstr(line, " - ");
		found = !strcmp(mnt, target) && sep && !strncmp(sep + 3, "strata ", 7);
	}
	free(line);
	fclose(f);
	return found;
}

bool container_refresh(json_t *c)
{
	const char *t = json_string_value(json_object_get(c, "target"));

	if (!t || mounted_strata(t))
		return false;
	json_object_set_new(c, "target", json_null());
	return true;
}

json_t *container_by_target(const struct store *st, const char *target)
{
	json_t *all = container_list(st), *c, *found = NULL;
	size_t i;

	json_array_foreach(all, i, c) {
		const char *t = json_string_value(json_object_get(c, "target"));

		if (t && !strcmp(t, target)) {
			found = json_incref(c);
			break;
		}
	}
	json_decref(all);
	return found;
}

/* "rw" or "rw.N": the only names a top directory has. */
static bool top_name_valid(const char *s)
{
	if (!s || strncmp(s, "rw", 2))
		return false;
	if (!s[2])
		return true;
	return s[2] == '.' && s[3] && strlen(s) < 16 &&
	       strspn(s + 3, "0123456789") == strlen(s + 3);
}

char *container_top(const struct store *st, json_t *c)
{
	const char *t = json_string_value(json_object_get(c, "top"));

	return store_path(st, "containers/%s/%s",
			  json_string_value(json_object_get(c, "name")),
			  top_name_valid(t) ? t : "rw");
}

/*
 * An unmounted container keeps only its current top: earlier ones were
 * committed into its image and stayed only while the union used them.
 */
void container_drop_old_tops(const struct store *st, json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	char *top = container_top(st, c), *base = strrchr(top, '/') + 1;
	char *dir = store_path(st, "containers/%s", name);
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		char *p;

		if (strncmp(e->d_name, "rw", 2) || !strcmp(e->d_name, base) ||
		    (e->d_name[2] && e->d_name[2] != '.'))
			continue;
		p = store_path(st, "containers/%s/%s", name, e->d_name);
		if (store_remove(st, p))
			warn_msg(p, "cannot remove an old container top");
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
	free(top);
}
