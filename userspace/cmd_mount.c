// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_mount.c - "strata mount" and "strata umount": command lines.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "branchspec.h"
#include "cmds.h"
#include "kmod.h"
#include "mount.h"
#include "store.h"
#include "util.h"

void help_mount(FILE *out)
{
	fputs(
"Usage: strata mount [OPTIONS] TARGET BRANCH...\n"
"       strata mount [--image] [--name NAME] [--readonly] IMAGE TARGET\n"
"       strata mount [OPTIONS] --branches-from FILE TARGET [BRANCH...]\n"
"\n"
"Mount a union of the BRANCH directories on TARGET, top branch first.\n"
"\n"
"BRANCH is DIR[=MODE], MODE one of:\n"
"  rw   writable; only the top branch\n"
"  ro   read-only through the union\n"
"  rr   really read-only: the directory never changes while mounted\n"
"Without MODE the top branch is rw and the others are ro.  In DIR write\n"
"'\\=' for '=' and '\\\\' for '\\'.\n"
"\n"
"Options:\n"
"  -f, --branches-from FILE  more branches, one per line, after the BRANCH\n"
"                            arguments; '-' is standard input; empty lines\n"
"                            and lines starting with '#' are skipped\n"
"  -m, --module FILE         if strata is not loaded, load this strata.ko\n"
"                            instead of the one in the module directory\n"
"  -w, --whiteout FORMAT     whiteouts to write: aufs (default) or overlay\n"
"  -u, --userxattr           read user.overlay.* instead of trusted.overlay.*\n"
"  -r, --readonly            mount read-only\n"
"  -i, --image               IMAGE TARGET: mount a container of IMAGE from\n"
"                            the store (also chosen when there are two\n"
"                            operands and the first is not a directory)\n"
"  -n, --name NAME           the container's name (default: random);\n"
"                            an existing stopped container is continued\n"
"  -h, --help                show this help\n"
"\n"
"Exit status: 0 mounted, 1 the mount failed, 2 usage error.\n", out);
}

void help_umount(FILE *out)
{
	fputs(
"Usage: strata umount [--rm] TARGET\n"
"\n"
"Unmount the filesystem mounted on TARGET.  A container mounted there\n"
"is kept in the store for a later mount or commit, or removed with --rm.\n"
"\n"
"Options:\n"
"      --rm     remove the container too\n"
"  -h, --help   show this help\n"
"\n"
"Exit status: 0 unmounted, 1 the unmount failed, 2 usage error.\n", out);
}

/* Append the branches listed in @name ("-" is stdin). */
static int read_branch_file(const char *name, struct branch_list *list)
{
	bool is_stdin = !strcmp(name, "-");
	FILE *f = is_stdin ? stdin : fopen(name, "re");
	char *msg;
	int ret;

	if (!f) {
		err_errno(name, errno);
		return EXIT_FAILED;
	}
	ret = branchspec_read(f, is_stdin ? "<stdin>" : name, list, &msg);
	/* A read error is a failure; bad content is a usage error. */
	if (ret)
		ret = ferror(f) ? EXIT_FAILED : EXIT_USAGE;
	if (!is_stdin)
		fclose(f);
	if (ret) {
		err_msg(NULL, "%s", msg);
		free(msg);
	}
	return ret;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "branches-from", required_argument, NULL, 'f' },
		{ "module",        required_argument, NULL, 'm' },
		{ "whiteout",      required_argument, NULL, 'w' },
		{ "userxattr",     no_argument,       NULL, 'u' },
		{ "readonly",      no_argument,       NULL, 'r' },
		{ "image",         no_argument,       NULL, 'i' },
		{ "name",          required_argument, NULL, 'n' },
		{ "help",          no_argument,       NULL, 'h' },
		{}
	};
	struct mount_request req = { .fstype = "strata" };
	struct branch_list branches = {};
	const char **files = NULL;
	const char *module = NULL, *name = NULL;
	bool image = false;
	struct stat sb;
	size_t nfiles = 0, i;
	int c, ret = EXIT_USAGE;
	struct branch br;
	char *msg;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:m:w:urin:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files = xrealloc(files, (nfiles + 1) * sizeof(*files));
			files[nfiles++] = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		case 'w':
			if (strcmp(optarg, "aufs") && strcmp(optarg, "overlay")) {
				usage_error("mount", "unknown whiteout format '%s' (aufs or overlay)",
					    optarg);
				goto out;
			}
			req.whiteout = optarg;
			break;
		case 'u':
			req.userxattr = true;
			break;
		case 'r':
			req.readonly = true;
			break;
		case 'i':
			image = true;
			break;
		case 'n':
			name = optarg;
			break;
		case 'h':
			help_mount(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			option_error("mount", c, argv);
			goto out;
		}
	}
	if (optind >= argc) {
		usage_error("mount", "missing TARGET");
		goto out;
	}
	/*
	 * "IMAGE TARGET" rather than "TARGET BRANCH": the first operand is
	 * not a path (an image reference never starts with '/' or '.', and
	 * nothing of that name exists here) and the second is a directory.
	 */
	if (!image && !nfiles && optind + 2 == argc && !name &&
	    argv[optind][0] != '/' && argv[optind][0] != '.' &&
	    lstat(argv[optind], &sb) && errno == ENOENT &&
	    !stat(argv[optind + 1], &sb) && S_ISDIR(sb.st_mode))
		image = true;
	if (image || name) {
		if (optind + 2 != argc || nfiles || req.whiteout || req.userxattr) {
			usage_error("mount", "an image mount takes IMAGE and TARGET only");
			goto out;
		}
		ret = mount_image(argv[optind], argv[optind + 1], name,
				  req.readonly, module);
		goto out;
	}
	req.target = argv[optind++];
	for (; optind < argc; optind++) {
		if (branchspec_parse(argv[optind], &br, &msg)) {
			usage_error("mount", "%s", msg);
			free(msg);
			goto out;
		}
		branch_list_add(&branches, br.path, br.mode);
	}
	for (i = 0; i < nfiles; i++) {
		ret = read_branch_file(files[i], &branches);
		if (ret != EXIT_OK)
			goto out;
	}
	ret = EXIT_USAGE;
	if (!branches.n) {
		usage_error("mount", "no branches given");
		goto out;
	}
	req.branches = &branches;

	ret = EXIT_FAILED;
	if (fs_make_available(req.fstype, module))
		goto out;
	if (union_mount(&req))
		goto out;
	ret = EXIT_OK;
out:
	branch_list_free(&branches);
	free(files);
	return ret;
}

int cmd_umount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "rm", no_argument, NULL, 'R' },
		{}
	};
	int c, remove = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			help_umount(stdout);
			return EXIT_OK;
		}
		if (c == 'R') {
			remove = 1;
			continue;
		}
		return option_error("umount", c, argv);
	}
	if (optind >= argc)
		return usage_error("umount", "missing TARGET");
	if (optind + 1 < argc)
		return usage_error("umount", "unexpected argument '%s'",
				   argv[optind + 1]);
	/*
	 * Only a store that exists and that we may change: umount of a plain
	 * union must work without one, and for users who cannot lock it.
	 */
	if (!access(store_root_path(), W_OK)) {
		c = umount_container(argv[optind], remove);
		if (c <= 0)
			return c ? EXIT_FAILED : EXIT_OK;
	}
	if (remove)
		return usage_error("umount", "--rm: no container is mounted on %s",
				   argv[optind]);
	return union_umount(argv[optind]) ? EXIT_FAILED : EXIT_OK;
}
