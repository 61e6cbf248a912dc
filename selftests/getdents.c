// SPDX-License-Identifier: GPL-2.0
/*
 * getdents DIR: print the names in DIR, one a line, as getdents64 returns
 * them.  Unlike busybox ls, which takes a failing readdir for the end of
 * the directory, it fails with the error ("getdents: DIR: strerror").
 * A helper of the shell tests; not a test itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[8192];
	long n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: getdents DIR\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		goto fail;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			puts(d->d_name);
			off += d->d_reclen;
		}
	}
	if (n < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "getdents: %s: %s\n", argv[1], strerror(errno));
	return 1;
}
