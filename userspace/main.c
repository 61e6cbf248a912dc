// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - strata: command dispatch, usage and exit codes.
 *
 * Exit codes: 0 the command succeeded, 1 the operation failed (the message
 * says which object and why), 2 the command line was wrong and nothing was
 * done.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "store.h"
#include "util.h"

static const struct command commands[] = {
	{ "mount",   "mount a union of branch directories", cmd_mount,   help_mount },
	{ "umount",  "unmount a union",                     cmd_umount,  help_umount },
	{ "branch",  "add, remove or change branches of a mounted union", cmd_branch, help_branch },
	{ "image",   "import, list, tag and remove images",  cmd_image,   help_image },
	{ "layer",   "import, create, list, export and remove layers", cmd_layer, help_layer },
	{ "commit",  "turn a container's changes into a new image", cmd_commit, help_commit },
	{ "container", "list and remove containers",       cmd_container, help_container },
	{ "gc",      "remove unused layers and dead containers", cmd_gc, help_gc },
	{ "status",  "show unions, their branches and counters", cmd_status, help_status },
	{ "monitor", "follow mounts, unmounts, copy-ups and branch changes", cmd_monitor, help_monitor },
	{ "version", "print the helper and module versions", cmd_version, help_version },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: strata [-h|--help] [--version] [--root DIR] COMMAND [ARGS...]\n"
	      "       strata help [COMMAND]\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("  help      show help for a command\n"
	      "\n"
	      "'strata COMMAND --help' shows the options of a command.\n"
	      "--root DIR (or $STRATA_ROOT) selects the store, default " STORE_DEFAULT_ROOT ".\n"
	      "\n"
	      "Exit status: 0 success, 1 the operation failed, 2 usage error.\n",
	      out);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs(PROGNAME ": ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nTry 'strata %s --help'.\n", cmd);
	else
		fputs("\nTry 'strata --help'.\n", stderr);
	return EXIT_USAGE;
}

int option_error(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return usage_error(cmd, "option '%s' needs an argument",
				   argv[optind - 1]);
	if (optopt)
		return usage_error(cmd, "unknown option '-%c'", optopt);
	return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int run_subcommand(const char *cmd, const struct subcommand *subs,
		   int argc, char **argv, void (*help)(FILE *out))
{
	const struct subcommand *s;

	if (argc < 2)
		return usage_error(cmd, "missing verb");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help(stdout);
		return EXIT_OK;
	}
	for (s = subs; s->name; s++)
		if (!strcmp(s->name, argv[1]))
			return s->run(argc - 1, argv + 1);
	return usage_error(cmd, "unknown verb '%s'", argv[1]);
}

int verb_options(int argc, char **argv, const char *cmd,
		 struct verb_opts *o, void (*help)(FILE *out), int *ret)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jt:h", opts, NULL)) != -1) {
		if (c == 'j' && o->allow_json) {
			o->json = true;
		} else if (c == 't' && o->allow_tag) {
			o->tag = optarg;
		} else if (c == 'h') {
			help(stdout);
			*ret = EXIT_OK;
			return -1;
		} else {
			*ret = option_error(cmd, c, argv);
			return -1;
		}
	}
	if (argc - optind != o->operands) {
		*ret = argc > optind + o->operands ?
			usage_error(cmd, "unexpected argument '%s'",
				    argv[optind + o->operands]) :
			usage_error(cmd, "missing operand");
		return -1;
	}
	return optind;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error("help", "unexpected argument '%s'", argv[2]);
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	cmd->help(stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	const char *name;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Global: the store root. */
	while (argc > 2 && (!strcmp(argv[1], "--root") ||
			    !strncmp(argv[1], "--root=", 7))) {
		if (argv[1][6] == '=') {
			store_root_opt = argv[1] + 7;
			argv++;
			argc--;
		} else {
			store_root_opt = argv[2];
			argv += 2;
			argc -= 2;
		}
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version")) {
		argv[1] = "version";
		name = argv[1];
	}
	if (!strcmp(name, "help"))
		return cmd_help(argc - 1, argv + 1);

	cmd = find_command(name);
	if (!cmd) {
		if (name[0] == '-')
			return usage_error(NULL, "unknown option '%s'", name);
		return usage_error(NULL, "unknown command '%s'", name);
	}
	ret = cmd->run(argc - 1, argv + 1);
	if (fflush(stdout) && ret == EXIT_OK) {
		err_msg(NULL, "write error on standard output");
		ret = EXIT_FAILED;
	}
	return ret;
}
