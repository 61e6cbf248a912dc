// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_status.c - "strata status": unions, their branches and counters,
 * from the kernel's mount-get (one union by descriptor, or a dump).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cmds.h"
#include "mountinfo.h"
#include "report.h"
#include "strata_nl.h"
#include "util.h"

/* A union of thousands of branches is one reply of several MiB. */
#define STATUS_RCVBUF (8 << 20)

void help_status(FILE *out)
{
	fputs(
"Usage: strata status [OPTIONS] [PATH]\n"
"\n"
"Show the strata unions mounted in this mount namespace: id, mount point,\n"
"access, whiteout format, the branches top first (index, mode, filesystem\n"
"type, path) and the counters.  With PATH, only the union that PATH (any\n"
"file or directory inside it) belongs to.\n"
"\n"
"Options:\n"
"  -j, --json         a JSON array of union objects\n"
"  -m, --module FILE  if strata is not loaded, load this strata.ko\n"
"                     instead of the one in the module directory\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 shown, 1 PATH is not in a union or the kernel could not\n"
"be asked, 2 usage error.\n", out);
}

/* Open @path for mount-get: anything inside the union, without side effects. */
static int open_inside(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st)) {
		err_errno(path, errno);
		return -1;
	}
	/* Opening a device or a FIFO could block or act; the kernel needs a file. */
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		err_msg(path, "not a directory or regular file");
		return -1;
	}
	/* O_PATH descriptors are refused by the kernel's fget(): open for reading. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		err_errno(path, errno);
	return fd;
}

/*
 * Unions from a dump have no mount point: look it up by device number,
 * in one reading of mountinfo (it is generated anew on every read).
 */
static void fill_mountpoints(struct strata_mount_list *l)
{
	char *text = NULL;
	size_t i;
	FILE *f;

	for (i = 0; i < l->n; i++) {
		struct strata_mount_info *m = &l->v[i];

		if (m->mountpoint)
			continue;
		if (!text)
			text = read_small_file("/proc/self/mountinfo");
		if (!text)
			return;
		f = fmemopen(text, strlen(text), "r");
		if (!f)
			break;
		m->mountpoint = mountinfo_find_dev(f, major(m->dev), minor(m->dev));
		fclose(f);
	}
	free(text);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",   no_argument,       NULL, 'j' },
		{ "module", required_argument, NULL, 'm' },
		{ "help",   no_argument,       NULL, 'h' },
		{}
	};
	struct strata_nl_opts o = { .load = true, .rcvbuf = STATUS_RCVBUF };
	struct strata_mount_list l = {};
	const char *path = NULL;
	struct strata_nl *c = NULL;
	bool json = false;
	int ret = EXIT_FAILED, fd = -1, r, c_opt;
	char why[512];

	optind = 0;
	opterr = 0;
	while ((c_opt = getopt_long(argc, argv, ":jm:h", opts, NULL)) != -1) {
		switch (c_opt) {
		case 'j':
			json = true;
			break;
		case 'm':
			o.module = optarg;
			break;
		case 'h':
			help_status(stdout);
			return EXIT_OK;
		default:
			return option_error("status", c_opt, argv);
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);

	if (path) {
		fd = open_inside(path);
		if (fd < 0)
			return EXIT_FAILED;
	}
	c = strata_nl_open(&o);
	if (!c)
		goto out;
	r = path ? strata_get_by_fd(c, fd, &l) : strata_dump(c, &l);
	if (r) {
		strata_nl_strerror(c, errno, why, sizeof(why));
		if (path)
			err_msg(path, "%s", why);
		else
			err_msg("status", "%s", why);
		goto out;
	}
	fill_mountpoints(&l);
	if (json) {
		if (report_json_print(stdout, report_mounts_json(&l), false))
			goto out;
	} else {
		report_mounts_text(stdout, &l);
	}
	ret = EXIT_OK;
out:
	strata_mount_list_free(&l);
	strata_nl_close(c);
	if (fd >= 0)
		close(fd);
	return ret;
}
