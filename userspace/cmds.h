/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmds.h - the helper's commands and the dispatch table's view of them.
 *
 * Each command gets argc/argv starting at its own name (argv[0] is
 * "mount" for "strata mount ...") and returns an exit code from util.h.
 */
#ifndef STRATA_CMDS_H
#define STRATA_CMDS_H

#include <stdbool.h>
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

/* One verb of a command with verbs ("image ls"); argv[0] is the verb. */
struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* main.c: run the verb argv[1] of @cmd. */
int run_subcommand(const char *cmd, const struct subcommand *subs,
		   int argc, char **argv, void (*help)(FILE *out));

/* What the verbs of image, layer and container take. */
struct verb_opts {
	bool allow_json, allow_tag;
	int operands;		/* exactly this many */
	bool json;		/* out: --json given */
	const char *tag;	/* out: --tag T */
};

/*
 * main.c: parse --json/--tag/--help for a verb.  Returns the index of the
 * first operand, or -1 with *ret set (help shown, or a usage error).
 */
int verb_options(int argc, char **argv, const char *cmd,
		 struct verb_opts *o, void (*help)(FILE *out), int *ret);

/* cmd_image.c */
int cmd_image(int argc, char **argv);
void help_image(FILE *out);
struct json_t;
/* Pretty JSON on stdout. */
void print_json(struct json_t *j);

/* cmd_layer.c */
int cmd_layer(int argc, char **argv);
void help_layer(FILE *out);

/* cmd_container.c */
int cmd_commit(int argc, char **argv);
void help_commit(FILE *out);
int cmd_container(int argc, char **argv);
void help_container(FILE *out);
/* "strata mount IMAGE TARGET": a container (new, or @name's) mounted. */
int mount_image(const char *image, const char *target, const char *name,
		bool readonly, const char *module);
/* The container mounted on @target: unmount it; 1 when @target is no
 * container's (nothing done), 0 done, -1 failed. */
int umount_container(const char *target, int remove);

/* cmd_gc.c */
int cmd_gc(int argc, char **argv);
void help_gc(FILE *out);

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
