/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmod.h - make sure the strata filesystem is available.
 */
#ifndef STRATA_KMOD_H
#define STRATA_KMOD_H

/* Is @name listed in the text of /proc/filesystems @text?  1 or 0. */
int fs_list_has(const char *text, const char *name);

/*
 * Is filesystem @name registered?  1 yes, 0 no, -1 (errno set) when
 * /proc/filesystems cannot be read.
 */
int fs_is_registered(const char *name);

/*
 * Load strata.ko with libkmod: from the file @path, or when @path is NULL
 * by name from the running kernel's module directory.  A module that is
 * already loaded is success.  On failure prints "strata: module ...: why"
 * and returns -1.
 */
int module_load(const char *path);

/*
 * Make filesystem @name available: module_load(@path) when it is not
 * registered, or when /proc/filesystems cannot be read and @path names a
 * module file (else fsopen() decides).  0, or -1 after printing why.
 */
int fs_make_available(const char *name, const char *path);

#endif /* STRATA_KMOD_H */
