/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mountinfo.h - find where a filesystem is mounted, by device number, in
 * /proc/self/mountinfo (see proc(5)).
 */
#ifndef STRATA_MOUNTINFO_H
#define STRATA_MOUNTINFO_H

#include <stdio.h>

/*
 * The mount point of the filesystem with device @major:@minor in the
 * mountinfo text read from @f: of the first line mounting the whole
 * filesystem (root "/"), else of the first line mounting part of it.
 * Returns a malloc'ed path with the octal escapes undone, or NULL with
 * errno ENOENT when no line matches.
 */
char *mountinfo_find_dev(FILE *f, unsigned int major, unsigned int minor);

/* The same in /proc/self/mountinfo; NULL with errno set on failure. */
char *mountinfo_lookup(unsigned int major, unsigned int minor);

/* Undo mountinfo's "\ooo" escapes in place. */
void mountinfo_unescape(char *s);

#endif /* STRATA_MOUNTINFO_H */
