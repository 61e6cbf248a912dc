/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmds.h - the helper's commands and the dispatch table's view of them.
 *
 * Each command gets argc/argv starting at its own name (argv[0] is
 * "mount" for "strata mount ...") and returns an exit code from util.h.
 */
#ifndef STRATA_CMDS_H
#define STRATA_CMDS_H

#include <stdio.h>

struct command {
	const char *name;
	const char *summary;		/* one line for "strata --help" */
	int (*run)(int argc, char **argv);
	void (*help)(FILE *out);
};

/* main.c: print "strata: CMD: why" and a pointer to --help; EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * main.c: usage_error() for what getopt_long() returned as @c (':' for a
 * missing argument, '?' for an unknown option; opterr must be 0 and the
 * optstring must start with ':').
 */
int option_error(const char *cmd, int c, char **argv);

/* cmd_mount.c */
int cmd_mount(int argc, char **argv);
void help_mount(FILE *out);
int cmd_umount(int argc, char **argv);
void help_umount(FILE *out);

/* cmd_branch.c */
int cmd_branch(int argc, char **argv);
void help_branch(FILE *out);

/* cmd_status.c */
int cmd_status(int argc, char **argv);
void help_status(FILE *out);

/* cmd_monitor.c */
int cmd_monitor(int argc, char **argv);
void help_monitor(FILE *out);

/* cmd_version.c */
int cmd_version(int argc, char **argv);
void help_version(FILE *out);

#endif /* STRATA_CMDS_H */
