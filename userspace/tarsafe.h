/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tarsafe.h - refuse hostile tar entries before anything is written.
 */
#ifndef STRATA_TARSAFE_H
#define STRATA_TARSAFE_H

#include <stdbool.h>
#include <stdint.h>

struct archive_entry;

/* Larger entries are refused as absurd: 256 GiB. */
#define TARSAFE_MAX_SIZE ((int64_t)256 << 30)

struct tarsafe_opts {
	bool allow_devices;	/* device nodes only for privileged imports */
};

/*
 * Check one entry: absolute paths, ".." components, hard links outside
 * the layer, relative symbolic links that climb out of it, device nodes
 * when not allowed, absurd sizes.  Returns NULL if it is fine, else a
 * static string naming the problem.
 */
const char *tarsafe_check(struct archive_entry *e,
			  const struct tarsafe_opts *o);

/*
 * Does the relative path @target, seen from the directory holding @path,
 * stay inside the tree?  (Lexical: "a/b" with "../c" is fine, "a" with
 * "../../c" is not.)
 */
bool tarsafe_link_inside(const char *path, const char *target);

#endif /* STRATA_TARSAFE_H */
