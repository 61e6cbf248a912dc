// SPDX-License-Identifier: GPL-2.0
/*
 * branchspec.c - parse and print DIR[=MODE] branch elements and br= values.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "branchspec.h"
#include "util.h"

static const char *const mode_names[] = {
	[BRANCH_MODE_RW] = "rw",
	[BRANCH_MODE_RO] = "ro",
	[BRANCH_MODE_RR] = "rr",
};

int branch_mode_parse(const char *s, enum branch_mode *mode)
{
	size_t i;

	for (i = BRANCH_MODE_RW; i <= BRANCH_MODE_RR; i++) {
		if (!strcmp(s, mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

const char *branch_mode_name(enum branch_mode mode)
{
	if (mode < BRANCH_MODE_RW || mode > BRANCH_MODE_RR)
		return NULL;
	return mode_names[mode];
}

static bool is_special(char c)
{
	return c == ':' || c == '=' || c == ',' || c == '\\';
}

/*
 * Scan one element starting at @s, the way the kernel reads br=: a
 * backslash makes the next character literal (a trailing one stays), the
 * element ends at the end of the string or, when @in_list, at an unescaped
 * ':', and the last unescaped '=' separates DIR from MODE.  *path gets the
 * unescaped DIR, *mode the unescaped MODE or NULL.  Returns a pointer to
 * the stop character.
 */
static const char *scan_element(const char *s, bool in_list, char **path,
				char **mode)
{
	char *out = xmalloc(strlen(s) + 1);
	ssize_t eq = -1;
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			out[n++] = *++s;
			continue;
		}
		if (in_list && *s == ':')
			break;
		if (*s == '=')
			eq = n;
		out[n++] = *s;
	}
	out[n] = '\0';
	*mode = NULL;
	if (eq >= 0) {
		out[eq] = '\0';
		*mode = xstrdup(out + eq + 1);
	}
	*path = out;
	return s;
}

static int finish_element(char *path, char *mode, struct branch *br,
			  char **err)
{
	int ret = -1;

	br->mode = BRANCH_MODE_DEFAULT;
	if (!*path)
		*err = xstrdup("empty branch path");
	else if (mode && branch_mode_parse(mode, &br->mode))
		*err = xasprintf("branch %s: unknown mode '%s'", path, mode);
	else
		ret = 0;
	free(mode);
	if (ret)
		free(path);
	else
		br->path = path;
	return ret;
}

int branchspec_parse(const char *arg, struct branch *br, char **err)
{
	char *path, *mode;

	scan_element(arg, false, &path, &mode);
	return finish_element(path, mode, br, err);
}

int branchspec_parse_br(const char *value, struct branch_list *list,
			char **err)
{
	const char *s = value;
	char *path, *mode;
	struct branch br;

	for (;;) {
		s = scan_element(s, true, &path, &mode);
		if (finish_element(path, mode, &br, err))
			return -1;
		branch_list_add(list, br.path, br.mode);
		if (!*s)
			return 0;
		s++;	/* the ':' */
	}
}

int branchspec_read(FILE *f, const char *name, struct branch_list *list,
		    char **err)
{
	size_t cap = 0, lineno = 0;
	char *line = NULL, *msg;
	struct branch br;
	ssize_t len;
	int ret = 0;

	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		if (branchspec_parse(line, &br, &msg)) {
			*err = xasprintf("%s:%zu: %s", name, lineno, msg);
			free(msg);
			ret = -1;
			break;
		}
		branch_list_add(list, br.path, br.mode);
	}
	if (!ret && ferror(f)) {
		*err = xasprintf("%s: %s", name, strerror(errno ? errno : EIO));
		ret = -1;
	}
	free(line);
	return ret;
}

char *branchspec_escape(const char *path)
{
	char *out = xmalloc(2 * strlen(path) + 1), *p = out;

	for (; *path; path++) {
		if (is_special(*path))
			*p++ = '\\';
		*p++ = *path;
	}
	*p = '\0';
	return out;
}

char *branchspec_format(const struct branch *br)
{
	const char *mode = branch_mode_name(br->mode);
	char *esc = branchspec_escape(br->path), *s;

	if (!mode)
		return esc;
	s = xasprintf("%s=%s", esc, mode);
	free(esc);
	return s;
}

char *branchspec_format_br(const struct branch_list *list)
{
	size_t i, len = 0, cap = 64;
	char *out = xmalloc(cap), *elem;
	size_t elen;

	out[0] = '\0';
	for (i = 0; i < list->n; i++) {
		elem = branchspec_format(&list->v[i]);
		elen = strlen(elem);
		if (len + elen + 2 > cap) {
			while (len + elen + 2 > cap)
				cap *= 2;
			out = xrealloc(out, cap);
		}
		if (i)
			out[len++] = ':';
		memcpy(out + len, elem, elen + 1);
		len += elen;
		free(elem);
	}
	return out;
}

void branch_list_add(struct branch_list *list, char *path,
		     enum branch_mode mode)
{
	if (list->n == list->cap) {
		list->cap = list->cap ? 2 * list->cap : 16;
		list->v = xrealloc(list->v, list->cap * sizeof(*list->v));
	}
	list->v[list->n].path = path;
	list->v[list->n].mode = mode;
	list->n++;
}

void branch_list_free(struct branch_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->v[i].path);
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
}
