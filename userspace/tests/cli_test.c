// SPDX-License-Identifier: GPL-2.0
/*
 * cli_test.c - the helper's command line: usage, exit codes, messages.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "../kmod.h"
#include "../util.h"

#define RUN(out, err, ...)						\
	test_run_helper((char *const[]){ "strata", __VA_ARGS__, NULL }, out, err)

TEST(cli_no_arguments)
{
	char *out, *err;

	CHECK_INT(test_run_helper((char *const[]){ "strata", NULL }, &out, &err), 2);
	CHECK_CONTAINS(err, "Usage: strata");
	CHECK_STR(out, "");
}

TEST(cli_help)
{
	char *out, *err;

	CHECK_INT(RUN(&out, &err, "--help"), 0);
	CHECK_CONTAINS(out, "Usage: strata");
	CHECK_CONTAINS(out, "mount");
	CHECK_CONTAINS(out, "Exit status: 0 success, 1 the operation failed, 2 usage error.");
	CHECK_INT(RUN(&out, &err, "-h"), 0);
	CHECK_INT(RUN(&out, &err, "help"), 0);
	CHECK_CONTAINS(out, "Commands:");
	CHECK_INT(RUN(&out, &err, "help", "mount"), 0);
	CHECK_CONTAINS(out, "Usage: strata mount");
	CHECK_INT(RUN(&out, &err, "mount", "--help"), 0);
	CHECK_CONTAINS(out, "--branches-from FILE");
	CHECK_INT(RUN(&out, &err, "umount", "-h"), 0);
	CHECK_CONTAINS(out, "Usage: strata umount [--rm] TARGET");
	CHECK_INT(RUN(&out, &err, "version", "--help"), 0);
	CHECK_CONTAINS(out, "Usage: strata version");
	CHECK_INT(RUN(&out, &err, "help", "frob"), 2);
	CHECK_CONTAINS(err, "strata: unknown command 'frob'");
}

TEST(cli_unknown_command_and_option)
{
	char *out, *err;

	CHECK_INT(RUN(&out, &err, "frob"), 2);
	CHECK_STR(err, "strata: unknown command 'frob'\nTry 'strata --help'.\n");
	CHECK_INT(RUN(&out, &err, "--frob"), 2);
	CHECK_CONTAINS(err, "strata: unknown option '--frob'");
	CHECK_INT(RUN(&out, &err, "mount", "--frob", "/t", "/b"), 2);
	CHECK_STR(err, "strata: mount: unknown option '--frob'\nTry 'strata mount --help'.\n");
	CHECK_INT(RUN(&out, &err, "mount", "-x", "/t", "/b"), 2);
	CHECK_CONTAINS(err, "strata: mount: unknown option '-x'");
	CHECK_INT(RUN(&out, &err, "mount", "/t", "/b", "--module"), 2);
	CHECK_CONTAINS(err, "strata: mount: option '--module' needs an argument");
}

TEST(cli_mount_usage_errors)
{
	char *out, *err;

	CHECK_INT(RUN(&out, &err, "mount"), 2);
	CHECK_CONTAINS(err, "strata: mount: missing TARGET");
	CHECK_INT(RUN(&out, &err, "mount", "/t"), 2);
	CHECK_CONTAINS(err, "strata: mount: no branches given");
	CHECK_INT(RUN(&out, &err, "mount", "/t", "/a=ro", "/b=zz"), 2);
	CHECK_CONTAINS(err, "strata: mount: branch /b: unknown mode 'zz'");
	CHECK_INT(RUN(&out, &err, "mount", "/t", "=ro"), 2);
	CHECK_CONTAINS(err, "strata: mount: empty branch path");
	CHECK_INT(RUN(&out, &err, "mount", "--whiteout", "xfs", "/t", "/a"), 2);
	CHECK_CONTAINS(err, "strata: mount: unknown whiteout format 'xfs'");
	CHECK_INT(RUN(&out, &err, "umount"), 2);
	CHECK_CONTAINS(err, "strata: umount: missing TARGET");
	CHECK_INT(RUN(&out, &err, "umount", "/a", "/b"), 2);
	CHECK_CONTAINS(err, "strata: umount: unexpected argument '/b'");
	CHECK_INT(RUN(&out, &err, "version", "extra"), 2);
}

TEST(cli_branches_from)
{
	char *out, *err, *list;

	CHECK_INT(RUN(&out, &err, "mount", "-f", "/nonexistent/list", "/t"), 1);
	CHECK_STR(err, "strata: /nonexistent/list: No such file or directory\n");
	list = test_write_file("layers", "# top first\n/l/1=rr\n/l/2=oops\n");
	CHECK_INT(RUN(&out, &err, "mount", "--branches-from", list, "/t"), 2);
	CHECK_CONTAINS(err, ":3: branch /l/2: unknown mode 'oops'");
	list = test_write_file("empty", "# nothing\n\n");
	CHECK_INT(RUN(&out, &err, "mount", "--branches-from", list, "/t"), 2);
	CHECK_CONTAINS(err, "strata: mount: no branches given");
}

TEST(cli_umount_not_mounted)
{
	char *out, *err, *want;

	CHECK_INT(RUN(&out, &err, "umount", (char *)test_tmpdir()), 1);
	if (geteuid() == 0)
		want = xasprintf("strata: umount %s: not a mount point\n", test_tmpdir());
	else
		want = xasprintf("strata: umount %s: ", test_tmpdir());
	CHECK_CONTAINS(err, want);
}

TEST(cli_version)
{
	char *out, *err;

	CHECK_INT(RUN(&out, &err, "version"), 0);
	CHECK(!strncmp(out, "strata helper ", 14));
	CHECK_CONTAINS(out, "\nstrata module ");
	CHECK_INT(RUN(&out, &err, "--version"), 0);
	CHECK(!strncmp(out, "strata helper ", 14));
}

TEST(cli_module_load_failure)
{
	char *out, *err;

	if (fs_is_registered("strata") != 0)
		SKIP("strata is registered on this host");
	CHECK_INT(RUN(&out, &err, "mount", "--module", "/nonexistent/strata.ko",
		      (char *)test_tmpdir(), "/b=ro"), 1);
	CHECK_STR(err, "strata: module /nonexistent/strata.ko: No such file or directory\n");
	/* not a module at all */
	CHECK_INT(RUN(&out, &err, "mount", "--module", "/etc/hostname",
		      (char *)test_tmpdir(), "/b=ro"), 1);
	CHECK_CONTAINS(err, "strata: module /etc/hostname: ");
}

TEST(cli_module_by_name)
{
	char *out, *err;

	if (fs_is_registered("strata") != 0)
		SKIP("strata is registered on this host");
	/* On a build host strata.ko is normally not installed for the
	 * running kernel; either way the failure names the module. */
	if (RUN(&out, &err, "mount", (char *)test_tmpdir(), "/b=ro") == 1)
		CHECK(!strncmp(err, "strata: module strata: ", 23) ||
		      !strncmp(err, "strata: mount ", 14));
}

TEST(cli_status_monitor_usage)
{
	char *out, *err;

	CHECK_INT(RUN(&out, &err, "--help"), 0);
	CHECK_CONTAINS(out, "  status    show unions, their branches and counters\n");
	CHECK_CONTAINS(out, "  monitor   follow mounts, unmounts, copy-ups and branch changes\n");
	CHECK_INT(RUN(&out, &err, "status", "--help"), 0);
	CHECK_CONTAINS(out, "Usage: strata status [OPTIONS] [PATH]");
	CHECK_CONTAINS(out, "--json");
	CHECK_INT(RUN(&out, &err, "help", "monitor"), 0);
	CHECK_CONTAINS(out, "Usage: strata monitor [OPTIONS]");
	CHECK_CONTAINS(out, "copy-up ID: PATH, SIZE bytes, MS ms");
	CHECK_INT(RUN(&out, &err, "status", "/a", "/b"), 2);
	CHECK_STR(err, "strata: status: unexpected argument '/b'\nTry 'strata status --help'.\n");
	CHECK_INT(RUN(&out, &err, "status", "--frob"), 2);
	CHECK_CONTAINS(err, "strata: status: unknown option '--frob'");
	CHECK_INT(RUN(&out, &err, "status", "--module"), 2);
	CHECK_CONTAINS(err, "strata: status: option '--module' needs an argument");
	CHECK_INT(RUN(&out, &err, "monitor", "now"), 2);
	CHECK_STR(err, "strata: monitor: unexpected argument 'now'\nTry 'strata monitor --help'.\n");
	CHECK_INT(RUN(&out, &err, "monitor", "-x"), 2);
	CHECK_CONTAINS(err, "strata: monitor: unknown option '-x'");
	CHECK_STR(out, "");
}

TEST(cli_status_bad_path)
{
	char *out, *err, *fifo;

	/* The path is checked before the kernel is asked anything. */
	CHECK_INT(RUN(&out, &err, "status", "/nonexistent/u"), 1);
	CHECK_STR(err, "strata: /nonexistent/u: No such file or directory\n");
	CHECK_STR(out, "");
	fifo = xasprintf("%s/fifo", test_tmpdir());
	CHECK_INT(mkfifo(fifo, 0600), 0);
	CHECK_INT(RUN(&out, &err, "status", fifo), 1);
	CHECK_CONTAINS(err, ": not a directory or regular file\n");
}

TEST(cli_status_without_module)
{
	char *out, *err;

	if (fs_is_registered("strata") != 0)
		SKIP("strata is registered on this host");
	/* The module cannot be loaded from a file that does not exist. */
	CHECK_INT(RUN(&out, &err, "status", "--module", "/nonexistent/strata.ko"), 1);
	CHECK_STR(err, "strata: module /nonexistent/strata.ko: No such file or directory\n");
	CHECK_INT(RUN(&out, &err, "monitor", "-m", "/nonexistent/strata.ko"), 1);
	CHECK_STR(err, "strata: module /nonexistent/strata.ko: No such file or directory\n");
	CHECK_STR(out, "");
	/* version never loads anything, and does not complain either. */
	CHECK_INT(RUN(&out, &err, "version"), 0);
	CHECK(!strstr(out, "netlink family"));
	CHECK_STR(err, "");
}

TEST(cli_branch_help)
{
	char *out, *err;

	CHECK_INT(RUN(&out, &err, "--help"), 0);
	CHECK_CONTAINS(out, "  branch    add, remove or change branches of a mounted union\n");
	CHECK_INT(RUN(&out, &err, "branch", "--help"), 0);
	CHECK_CONTAINS(out, "Usage: strata branch add [OPTIONS] [--mode rw|ro|rr] [--index N | --top]");
	CHECK_CONTAINS(out, "strata branch rm [OPTIONS] MOUNTPOINT BRANCH");
	CHECK_CONTAINS(out, "strata branch mode [OPTIONS] MOUNTPOINT BRANCH rw|ro|rr");
	CHECK_CONTAINS(out, "Exit status: 0 done, 1 the change failed");
	CHECK_INT(RUN(&out, &err, "help", "branch"), 0);
	CHECK_CONTAINS(out, "Usage: strata branch");
	CHECK_INT(RUN(&out, &err, "branch", "rm", "-h"), 0);
	CHECK_CONTAINS(out, "Usage: strata branch");
	CHECK_INT(RUN(&out, &err, "help", "monitor"), 0);
	CHECK_CONTAINS(out, "branch-add|branch-del|branch-set ID: index N, MODE, DIR");
}

TEST(cli_branch_usage_errors)
{
	char *out, *err;

#define USAGE(msg, ...) do {						\
	CHECK_INT(RUN(&out, &err, "branch", __VA_ARGS__), 2);		\
	CHECK_STR(err, "strata: branch: " msg "\nTry 'strata branch --help'.\n"); \
	CHECK_STR(out, "");						\
} while (0)
	CHECK_INT(test_run_helper((char *const[]){ "strata", "branch", NULL }, &out, &err), 2);
	CHECK_STR(err, "strata: branch: missing subcommand (add, rm or mode)\n"
		  "Try 'strata branch --help'.\n");
	USAGE("unknown subcommand 'del'", "del", "/u", "1");
	USAGE("add: missing MOUNTPOINT", "add");
	USAGE("add: missing DIR", "add", "/u");
	USAGE("rm: missing BRANCH", "rm", "/u");
	USAGE("mode: missing BRANCH", "mode", "/u");
	USAGE("mode: missing MODE", "mode", "/u", "1");
	USAGE("unexpected argument '/c'", "add", "/u", "/b", "/c");
	USAGE("unexpected argument '2'", "rm", "/u", "1", "2");
	USAGE("unknown mode 'xx' (rw, ro or rr)", "add", "--mode", "xx", "/u", "/b");
	USAGE("unknown mode 'RW' (rw, ro or rr)", "mode", "/u", "0", "RW");
	USAGE("bad index '-1'", "add", "--index", "-1", "/u", "/b");
	USAGE("bad index '1x'", "add", "-i", "1x", "/u", "/b");
	USAGE("bad index '4294967296'", "add", "--index", "4294967296", "/u", "/b");
	USAGE("--index and --top exclude each other", "add", "--top", "-i", "1", "/u", "/b");
	USAGE("rm takes no --mode, --index or --top", "rm", "--top", "/u", "1");
	USAGE("mode takes no --mode, --index or --top", "mode", "-M", "ro", "/u", "1", "rr");
	USAGE("unknown option '--frob'", "add", "--frob", "/u", "/b");
	USAGE("option '--module' needs an argument", "rm", "/u", "1", "--module");
	USAGE("empty branch", "rm", "/u", "");
#undef USAGE
}

TEST(cli_branch_bad_paths)
{
	char *out, *err, *want;

	/* Paths are checked before the kernel is asked anything. */
	CHECK_INT(RUN(&out, &err, "branch", "rm", "/nonexistent/u", "1"), 1);
	CHECK_STR(err, "strata: /nonexistent/u: No such file or directory\n");
	CHECK_INT(RUN(&out, &err, "branch", "add", (char *)test_tmpdir(), "/nonexistent/b"), 1);
	want = xasprintf("strata: %s: branch /nonexistent/b: No such file or directory\n",
			 test_tmpdir());
	CHECK_STR(err, want);
	CHECK_INT(RUN(&out, &err, "branch", "mode", "/etc/hostname", "1", "ro"), 1);
	CHECK_STR(err, "strata: /etc/hostname: Not a directory\n");
	CHECK_STR(out, "");
}

TEST(cli_branch_without_module)
{
	char *out, *err;

	if (fs_is_registered("strata") != 0)
		SKIP("strata is registered on this host");
	CHECK_INT(RUN(&out, &err, "branch", "rm", "--module", "/nonexistent/strata.ko",
		      (char *)test_tmpdir(), "1"), 1);
	CHECK_STR(err, "strata: module /nonexistent/strata.ko: No such file or directory\n");
	CHECK_STR(out, "");
}
