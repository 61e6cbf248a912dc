// SPDX-License-Identifier: GPL-2.0
/*
 * mountinfo.c - mount points by device number.
 *
 * A line is "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE
 * SOURCE SUPEROPTS"; only the first five fields are needed here.  Space,
 * tab, newline and backslash in ROOT and MOUNTPOINT appear as "\ooo".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"
#include "util.h"

void mountinfo_unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

char *mountinfo_find_dev(FILE *f, unsigned int major, unsigned int minor)
{
	char *line = NULL, *found = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *root, *point;
		unsigned int ma, mi;
		int end = 0;

		line[strcspn(line, "\n")] = '\0';
		if (!strtok_r(line, " ", &save) || !strtok_r(NULL, " ", &save))
			continue;
		root = strtok_r(NULL, " ", &save);	/* MAJ:MIN */
		if (!root || sscanf(root, "%u:%u%n", &ma, &mi, &end) != 2 ||
		    root[end] || ma != major || mi != minor)
			continue;
		root = strtok_r(NULL, " ", &save);
		point = strtok_r(NULL, " ", &save);
		if (!root || !point)
			continue;
		mountinfo_unescape(root);
		mountinfo_unescape(point);
		if (!strcmp(root, "/")) {
			free(found);
			found = xstrdup(point);
			break;
		}
		if (!found)
			found = xstrdup(point);
	}
	free(line);
	if (!found)
		errno = ENOENT;
	return found;
}

char *mountinfo_lookup(unsigned int major, unsigned int minor)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *path;
	int saved;

	if (!f)
		return NULL;
	path = mountinfo_find_dev(f, major, minor);
	saved = errno;
	fclose(f);
	errno = saved;
	return path;
}
