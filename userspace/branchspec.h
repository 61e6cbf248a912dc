/* SPDX-License-Identifier: GPL-2.0 */
/*
 * branchspec.h - the textual form of branches.
 *
 * A branch is written DIR[=MODE].  A backslash makes the character after
 * it literal (write '\=' for '=' and '\\' for a backslash); the last
 * unescaped '=' starts the MODE (rw, ro or rr).  The same element syntax
 * is used on the helper's command line, in --branches-from files and,
 * joined by unescaped ':', in the br= mount option, where the kernel reads
 * it the same way.
 */
#ifndef STRATA_BRANCHSPEC_H
#define STRATA_BRANCHSPEC_H

#include <stdio.h>
#include <stddef.h>

enum branch_mode {
	BRANCH_MODE_DEFAULT,	/* not given: rw for the top branch, else ro */
	BRANCH_MODE_RW,
	BRANCH_MODE_RO,
	BRANCH_MODE_RR,
};

struct branch {
	char *path;		/* unescaped, as it will be opened */
	enum branch_mode mode;
};

struct branch_list {
	struct branch *v;	/* top (index 0) first */
	size_t n;
	size_t cap;
};

/* "rw", "ro", "rr" to a mode; -1 for anything else. */
int branch_mode_parse(const char *s, enum branch_mode *mode);
/* The spelling of a mode; NULL for BRANCH_MODE_DEFAULT. */
const char *branch_mode_name(enum branch_mode mode);

/*
 * Parse one DIR[=MODE] element.  On error returns -1 and sets *err to a
 * malloc'ed message in the kernel's wording ("empty branch path",
 * "branch DIR: unknown mode 'M'").
 */
int branchspec_parse(const char *arg, struct branch *br, char **err);

/* Parse the value of a br= option (elements joined by ':') and append. */
int branchspec_parse_br(const char *value, struct branch_list *list,
			char **err);

/*
 * Append the branches in @f, one element per line.  Empty lines and lines
 * starting with '#' are skipped.  Errors name "@name:LINE".
 */
int branchspec_read(FILE *f, const char *name, struct branch_list *list,
		    char **err);

/* Escape ':', '=', ',' and '\' in @path; the result is malloc'ed. */
char *branchspec_escape(const char *path);
/* One element: escaped path, plus "=MODE" when the mode is not default. */
char *branchspec_format(const struct branch *br);
/* A br= value for the whole list. */
char *branchspec_format_br(const struct branch_list *list);

void branch_list_add(struct branch_list *list, char *path,
		     enum branch_mode mode);
void branch_list_free(struct branch_list *list);

#endif /* STRATA_BRANCHSPEC_H */
