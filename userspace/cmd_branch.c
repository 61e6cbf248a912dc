// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_branch.c - "strata branch add|rm|mode": change the branches of a
 * mounted union through the kernel's branch-add, branch-del and
 * branch-set commands.
 *
 * The union is addressed by a descriptor of its mount point, so the
 * request names exactly the union the user sees there, whatever its id.
 * A branch is given by index or by directory; a directory is matched
 * against the union's branch list (mount-get) by path and by inode, since
 * the kernel records a branch by the path it was added with.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "strata_nl.h"
#include "util.h"

struct branch_cmd {
	const char *name;		/* "add", "rm", "mode" */
	const char *mnt;
	const char *branch;		/* as the user gave it */
	struct strata_nl_opts o;
	bool verbose;
	struct strata_branch_req r;
};

void help_branch(FILE *out)
{
	fputs(
"Usage: strata branch add [OPTIONS] [--mode rw|ro|rr] [--index N | --top]\n"
"                         MOUNTPOINT DIR\n"
"       strata branch rm [OPTIONS] MOUNTPOINT BRANCH\n"
"       strata branch mode [OPTIONS] MOUNTPOINT BRANCH rw|ro|rr\n"
"\n"
"Change the branches of the union mounted on MOUNTPOINT while it is in use.\n"
"\n"
"  add   stack DIR into the union at position N (0 is the top; default 1,\n"
"        just under the top), read-only (ro) unless --mode says otherwise.\n"
"        Only the top branch may be rw, and a new top only goes on a union\n"
"        whose top is not rw.\n"
"  rm    remove a branch; fails while any file of it is open, mapped or a\n"
"        working directory, and the rw branch must be set ro first.\n"
"  mode  set a branch to ro or rr (either way), or the rw top to ro or rr\n"
"        (fails while union files are open for writing).  No branch can\n"
"        become rw: add a new rw branch on top instead.\n"
"\n"
"BRANCH is an index (as 'strata status' shows them, 0 the top) or a branch\n"
"directory; write ./3 for a directory named 3.  Needs CAP_SYS_ADMIN.\n"
"\n"
"Options:\n"
"  -M, --mode MODE    add: the new branch's mode, rw, ro or rr\n"
"  -i, --index N      add: the new branch's position\n"
"  -t, --top          add: put the new branch on top (--index 0)\n"
"  -m, --module FILE  if strata is not loaded, load this strata.ko\n"
"                     instead of the one in the module directory\n"
"  -v, --verbose      say what was done\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 done, 1 the change failed (for example the kernel refused\n"
"it because the branch is in use), 2 usage error.\n", out);
}

/* A decimal index without sign, spaces or overflow; -1 if @s is not one. */
static int parse_index(const char *s, uint32_t *index)
{
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno || v > UINT32_MAX)
		return -1;
	*index = v;
	return 0;
}

/*
 * The mount point as the union to change: O_PATH, which opens nothing in
 * the union, so the descriptor itself keeps no branch busy.
 */
static int open_mount(const char *mnt)
{
	int fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		err_errno(mnt, errno);
	return fd;
}

static bool same_dir(const char *a, const struct stat *sa, const char *real,
		     const char *b)
{
	struct stat sb;
	char *rb;
	bool same;

	if (!strcmp(a, b))
		return true;
	rb = realpath(b, NULL);
	same = rb && real && !strcmp(rb, real);
	free(rb);
	if (same)
		return true;
	return !stat(b, &sb) && sb.st_dev == sa->st_dev && sb.st_ino == sa->st_ino;
}

/* The index of the branch directory b->branch; -1 after saying why. */
static int find_branch(struct strata_nl *c, struct branch_cmd *b, uint32_t *index)
{
	struct strata_mount_list l = {};
	struct strata_mount_info *m;
	char why[512], *real;
	int ret = -1, fd;
	struct stat st;
	size_t i;

	if (stat(b->branch, &st)) {
		err_msg(b->mnt, "branch %s: %s", b->branch, strerror(errno));
		return -1;
	}
	/* mount-get takes no O_PATH descriptor; this one is closed again. */
	fd = open(b->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err_errno(b->mnt, errno);
		return -1;
	}
	if (strata_get_by_fd(c, fd, &l)) {
		err_msg(b->mnt, "%s", strata_nl_strerror(c, errno, why, sizeof(why)));
		close(fd);
		return -1;
	}
	close(fd);
	real = realpath(b->branch, NULL);
	m = l.n ? &l.v[0] : NULL;
	for (i = 0; m && i < m->nbr; i++) {
		if (same_dir(b->branch, &st, real, m->br[i].path)) {
			*index = m->br[i].index;
			ret = 0;
			break;
		}
	}
	if (ret)
		err_msg(b->mnt, "branch %s: not a branch of this union", b->branch);
	free(real);
	strata_mount_list_free(&l);
	return ret;
}

static int run(struct branch_cmd *b)
{
	struct strata_nl *c = NULL;
	int ret = EXIT_FAILED;
	char why[512];
	int fd, dfd = -1;

	fd = open_mount(b->mnt);
	if (fd < 0)
		return EXIT_FAILED;
	b->r.mount_fd = fd;
	if (b->r.cmd == STRATA_CMD_BRANCH_ADD) {
		/* A descriptor: no question which directory the kernel finds. */
		dfd = open(b->branch, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			err_msg(b->mnt, "branch %s: %s", b->branch, strerror(errno));
			goto out;
		}
		b->r.dir_fd = dfd;
	}
	c = strata_nl_open(&b->o);
	if (!c)
		goto out;
	if (!b->r.has_index && b->r.cmd != STRATA_CMD_BRANCH_ADD &&
	    find_branch(c, b, &b->r.index))
		goto out;
	b->r.has_index |= b->r.cmd != STRATA_CMD_BRANCH_ADD;
	if (strata_branch_op(c, &b->r)) {
		if (errno == EOPNOTSUPP && !c->s->ack.error)
			err_msg(b->mnt,
				"the loaded strata module cannot change branches (too old?)");
		else
			err_msg(b->mnt, "branch %s: %s", b->branch,
				strata_nl_strerror(c, errno, why, sizeof(why)));
		goto out;
	}
	if (b->verbose) {
		if (b->r.cmd == STRATA_CMD_BRANCH_ADD)
			printf("%s: added branch %s\n", b->mnt, b->branch);
		else if (b->r.cmd == STRATA_CMD_BRANCH_DEL)
			printf("%s: removed branch %s (index %u)\n", b->mnt,
			       b->branch, b->r.index);
		else
			printf("%s: branch %s (index %u) is now %s\n", b->mnt,
			       b->branch, b->r.index, strata_mode_name(b->r.mode));
	}
	ret = EXIT_OK;
out:
	strata_nl_close(c);
	if (dfd >= 0)
		close(dfd);
	close(fd);
	return ret;
}

int cmd_branch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode",    required_argument, NULL, 'M' },
		{ "index",   required_argument, NULL, 'i' },
		{ "top",     no_argument,       NULL, 't' },
		{ "module",  required_argument, NULL, 'm' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "help",    no_argument,       NULL, 'h' },
		{}
	};
	struct branch_cmd b = { .o.load = true };
	const char *mode = NULL, *index = NULL;
	bool top = false;
	int c, nargs;

	if (argc < 2)
		return usage_error("branch", "missing subcommand (add, rm or mode)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		help_branch(stdout);
		return EXIT_OK;
	}
	b.name = argv[1];
	if (!strcmp(b.name, "add")) {
		b.r.cmd = STRATA_CMD_BRANCH_ADD;
		nargs = 2;
	} else if (!strcmp(b.name, "rm")) {
		b.r.cmd = STRATA_CMD_BRANCH_DEL;
		nargs = 2;
	} else if (!strcmp(b.name, "mode")) {
		b.r.cmd = STRATA_CMD_BRANCH_SET;
		nargs = 3;
	} else {
		return usage_error("branch", "unknown subcommand '%s'", b.name);
	}
	argc--;
	argv++;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":M:i:tm:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			mode = optarg;
			break;
		case 'i':
			index = optarg;
			break;
		case 't':
			top = true;
			break;
		case 'm':
			b.o.module = optarg;
			break;
		case 'v':
			b.verbose = true;
			break;
		case 'h':
			help_branch(stdout);
			return EXIT_OK;
		default:
			return option_error("branch", c, argv);
		}
	}
	if (b.r.cmd != STRATA_CMD_BRANCH_ADD && (mode || index || top))
		return usage_error("branch", "%s takes no --mode, --index or --top",
				   b.name);
	if (index && top)
		return usage_error("branch", "--index and --top exclude each other");
	if (argc - optind < nargs)
		return usage_error("branch", "%s: missing %s", b.name,
				   argc == optind ? "MOUNTPOINT" :
				   b.r.cmd == STRATA_CMD_BRANCH_ADD ? "DIR" :
				   argc - optind == 1 ? "BRANCH" : "MODE");
	if (argc - optind > nargs)
		return usage_error("branch", "unexpected argument '%s'",
				   argv[optind + nargs]);
	b.mnt = argv[optind];
	b.branch = argv[optind + 1];
	if (b.r.cmd == STRATA_CMD_BRANCH_SET)
		mode = argv[optind + 2];
	if (mode) {
		if (strata_mode_parse(mode, &b.r.mode))
			return usage_error("branch", "unknown mode '%s' (rw, ro or rr)",
					   mode);
		b.r.has_mode = true;
	}
	if (index && parse_index(index, &b.r.index))
		return usage_error("branch", "bad index '%s'", index);
	b.r.has_index = index || top;
	if (!*b.branch)
		return usage_error("branch", "empty branch");
	/* For rm and mode: an index, unless it names a directory by path. */
	if (b.r.cmd != STRATA_CMD_BRANCH_ADD && !strchr(b.branch, '/') &&
	    !parse_index(b.branch, &b.r.index))
		b.r.has_index = true;
	b.r.dir_fd = -1;
	return run(&b);
}
