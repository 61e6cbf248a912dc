// SPDX-License-Identifier: GPL-2.0
/*
 * benchtool: the timed inner loops of `make bench`, run in the guest by
 * selftests/guest/bench.sh.  Static, because the guest has only busybox.
 *
 * Every timing subcommand prints one line of numbers on stdout and nothing
 * else there; errors go to stderr with a non-zero exit.  Times are read
 * with clock_gettime(CLOCK_MONOTONIC) around the loop only (no process
 * start-up, no argument parsing).  Under QEMU -icount shift=0 that clock
 * advances one nanosecond per guest instruction, so the same numbers are
 * then instruction counts.
 *
 *   mkfiles DIR PREFIX FIRST COUNT [link]
 *                                       empty files DIR/PREFIX<i>; with "link"
 *                                       hard links of the first one (names
 *                                       without inodes: ext4 images have few),
 *                                       a new one where the link count is
 *                                       full (ext4: 65000)
 *   mkdata PATH BYTES                   a file of non-zero bytes
 *   mount-strata TARGET [-o KEY=VAL]... MODE:DIR...
 *                                       fsopen/fsconfig, one branch a call
 *   mount-overlay TARGET CWD OPTIONS    mount(2) after chdir(CWD), so that
 *                                       lowerdir= may use short relative paths
 *   stat DIR PREFIX FIRST COUNT WANT    WANT=1 names exist, 0 they do not;
 *                                       prints ns per stat()
 *   readdir DIR [WANT]                  open, getdents64 to the end, close;
 *                                       prints ns and the entry count (without
 *                                       . and ..)
 *   readseq FILE                        read() 1 MiB at a time; prints ns
 *   readrand FILE COUNT                 COUNT 4 KiB pread()s at pseudo-random
 *                                       aligned offsets; prints ns per read
 *   writeseq FILE                       overwrite FILE (its size) 1 MiB at a time,
 *                                       no fsync; prints ns
 *   firstwrite FILE                     open O_WRONLY, pwrite 1 byte at 0,
 *                                       close (the first write: a copy-up)
 *   copyraw SRC DST                     what a copy-up costs on the raw fs:
 *                                       create DST, copy_file_range SRC to
 *                                       it, pwrite 1 byte, close
 *   chmod FILE                          one chmod(FILE, 0640); prints ns
 *   churn DIR PREFIX COUNT              create COUNT files, then unlink them;
 *                                       prints ns per create, ns per unlink
 *   unlink DIR PREFIX FIRST COUNT       unlink existing names; ns per unlink
 *   run CMD [ARG]...                    run a program, wait; prints ns
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static const char *prog = "benchtool";

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < 0) {
		errno = 0;
		die("bad number '%s'", s);
	}
	return v;
}

static void name_at(char *buf, size_t len, const char *dir,
		    const char *prefix, long i)
{
	if ((size_t)snprintf(buf, len, "%s/%s%ld", dir, prefix, i) >= len) {
		errno = ENAMETOOLONG;
		die("%s/%s%ld", dir, prefix, i);
	}
}

static int cmd_mkfiles(int argc, char **argv)
{
	char path[4096];
	char path0[4096];
	long first, count, i;
	bool link_them;
	int fd;

	if (argc != 5 && !(argc == 6 && !strcmp(argv[5], "link")))
		return 2;
	link_them = argc == 6;
	first = num(argv[3]);
	count = num(argv[4]);
	name_at(path0, sizeof(path0), argv[1], argv[2], first);
	for (i = first; i < first + count; i++) {
		name_at(path, sizeof(path), argv[1], argv[2], i);
		if (link_them && i > first) {
			if (!link(path0, path))
				continue;
			if (errno != EMLINK)
				die("link %s", path);
		}
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create %s", path);
		close(fd);
		strcpy(path0, path);
	}
	return 0;
}

static int cmd_mkdata(int argc, char **argv)
{
	static char buf[MIB];
	long size, done, n;
	size_t i;
	int fd;

	if (argc != 3)
		return 2;
	size = num(argv[2]);
	/* Non-zero and varying, so no filesystem can keep it as a hole. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(1 + (i * 131 + i / 4096) % 251);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s", argv[1]);
	for (done = 0; done < size; done += n) {
		n = size - done < (long)sizeof(buf) ? size - done : (long)sizeof(buf);
		if (write(fd, buf, n) != n)
			die("write %s", argv[1]);
	}
	if (fsync(fd) || close(fd))
		die("fsync %s", argv[1]);
	return 0;
}

/* The messages the filesystem left in the fs context, on failure. */
static void dump_fs_log(int fsfd)
{
	char msg[1024];
	ssize_t n;

	while ((n = read(fsfd, msg, sizeof(msg) - 1)) > 0) {
		msg[n] = 0;
		fprintf(stderr, "%s:   %s\n", prog, msg);
	}
}

static int cmd_mount_strata(int argc, char **argv)
{
	const char *target;
	int fsfd, mfd, i;

	if (argc < 3)
		return 2;
	target = argv[1];
	fsfd = fsopen("strata", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		die("fsopen strata");
	for (i = 2; i < argc; i++) {
		char key[32], *val, *sep;

		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			i++;
			sep = strchr(argv[i], '=');
			if (!sep) {
				if (fsconfig(fsfd, FSCONFIG_SET_FLAG, argv[i], NULL, 0))
					goto fail;
				continue;
			}
			snprintf(key, sizeof(key), "%.*s", (int)(sep - argv[i]), argv[i]);
			val = sep + 1;
		} else {
			sep = strchr(argv[i], ':');
			if (!sep)
				return 2;
			snprintf(key, sizeof(key), "branch_%.*s", (int)(sep - argv[i]), argv[i]);
			val = sep + 1;
		}
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, val, 0)) {
			fprintf(stderr, "%s: fsconfig %s=%s: %s\n", prog, key, val,
				strerror(errno));
			goto fail;
		}
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		goto fail;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		goto fail;
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH))
		die("move_mount to %s", target);
	close(mfd);
	close(fsfd);
	return 0;
fail:
	fprintf(stderr, "%s: mounting strata on %s: %s\n", prog, target, strerror(errno));
	dump_fs_log(fsfd);
	return 1;
}

static int cmd_mount_overlay(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	if (chdir(argv[2]))
		die("chdir %s", argv[2]);
	if (mount("overlay", argv[1], "overlay", 0, argv[3]))
		die("mount overlay on %s (%zu bytes of options)", argv[1], strlen(argv[3]));
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	long first, count, i, bad = 0;
	char **names;
	struct stat st;
	uint64_t t0, t1;
	int want, r;

	if (argc != 6)
		return 2;
	first = num(argv[3]);
	count = num(argv[4]);
	want = (int)num(argv[5]);
	if (count < 1)
		return 2;
	names = calloc(count, sizeof(*names));
	for (i = 0; i < count; i++) {
		names[i] = malloc(4096);
		name_at(names[i], 4096, argv[1], argv[2], first + i);
	}
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		r = stat(names[i], &st);
		if ((r == 0) != (want != 0))
			bad++;
	}
	t1 = now_ns();
	if (bad) {
		errno = 0;
		die("%ld of %ld stat()s in %s gave the wrong answer (want %s)",
		    bad, count, argv[1], want ? "found" : "ENOENT");
	}
	printf("%.1f\n", (double)(t1 - t0) / count);
	return 0;
}

static int cmd_readdir(int argc, char **argv)
{
	static char buf[64 * 1024];
	long entries = 0, n, off;
	uint64_t t0, t1;
	int fd;

	if (argc != 2 && argc != 3)
		return 2;
	t0 = now_ns();
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", argv[1]);
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				entries++;
			off += d->d_reclen;
		}
	}
	if (n < 0)
		die("getdents64 %s", argv[1]);
	close(fd);
	t1 = now_ns();
	if (argc == 3 && entries != num(argv[2])) {
		errno = 0;
		die("%s: %ld entries, expected %s", argv[1], entries, argv[2]);
	}
	printf("%llu %ld\n", (unsigned long long)(t1 - t0), entries);
	return 0;
}

static int cmd_readseq(int argc, char **argv)
{
	static char buf[MIB];
	long long total = 0;
	uint64_t t0, t1;
	ssize_t n;
	int fd;

	if (argc != 2)
		return 2;
	t0 = now_ns();
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", argv[1]);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		die("read %s", argv[1]);
	close(fd);
	t1 = now_ns();
	printf("%llu %lld\n", (unsigned long long)(t1 - t0), total);
	return 0;
}

static int cmd_readrand(int argc, char **argv)
{
	static char buf[4096];
	uint64_t t0, t1, x = 0x9e3779b97f4a7c15ull;
	long count, i, blocks;
	off_t *offs;
	struct stat st;
	int fd;

	if (argc != 3)
		return 2;
	count = num(argv[2]);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		die("open %s", argv[1]);
	blocks = st.st_size / 4096;
	if (blocks < 1 || count < 1)
		return 2;
	/* xorshift64: the same offsets every run and on every mount. */
	offs = calloc(count, sizeof(*offs));
	for (i = 0; i < count; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		offs[i] = (off_t)(x % (uint64_t)blocks) * 4096;
	}
	t0 = now_ns();
	for (i = 0; i < count; i++)
		if (pread(fd, buf, sizeof(buf), offs[i]) != (ssize_t)sizeof(buf))
			die("pread %s", argv[1]);
	t1 = now_ns();
	close(fd);
	printf("%.1f\n", (double)(t1 - t0) / count);
	return 0;
}

static int cmd_writeseq(int argc, char **argv)
{
	static char buf[MIB];
	uint64_t t0, t1;
	struct stat st;
	off_t done;
	ssize_t n;
	int fd;

	if (argc != 2)
		return 2;
	memset(buf, 0x5a, sizeof(buf));
	t0 = now_ns();
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		die("open %s for writing", argv[1]);
	for (done = 0; done < st.st_size; done += n) {
		n = st.st_size - done < (off_t)sizeof(buf) ? st.st_size - done : (off_t)sizeof(buf);
		if (write(fd, buf, n) != n)
			die("write %s", argv[1]);
	}
	if (close(fd))
		die("close %s", argv[1]);
	t1 = now_ns();
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static int cmd_firstwrite(int argc, char **argv)
{
	uint64_t t0, t1;
	int fd;

	if (argc != 2)
		return 2;
	t0 = now_ns();
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s for writing", argv[1]);
	if (pwrite(fd, "x", 1, 0) != 1)
		die("pwrite %s", argv[1]);
	if (close(fd))
		die("close %s", argv[1]);
	t1 = now_ns();
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static int cmd_copyraw(int argc, char **argv)
{
	uint64_t t0, t1;
	struct stat st;
	ssize_t n;
	off_t left;
	int in, out;

	if (argc != 3)
		return 2;
	t0 = now_ns();
	in = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st))
		die("open %s", argv[1]);
	out = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0)
		die("create %s", argv[2]);
	for (left = st.st_size; left > 0; left -= n) {
		n = copy_file_range(in, NULL, out, NULL, left, 0);
		if (n <= 0)
			die("copy_file_range %s -> %s", argv[1], argv[2]);
	}
	if (pwrite(out, "x", 1, 0) != 1)
		die("pwrite %s", argv[2]);
	if (close(out))
		die("close %s", argv[2]);
	close(in);
	t1 = now_ns();
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static int cmd_chmod(int argc, char **argv)
{
	uint64_t t0, t1;

	if (argc != 2)
		return 2;
	t0 = now_ns();
	if (chmod(argv[1], 0640))
		die("chmod %s", argv[1]);
	t1 = now_ns();
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static int cmd_churn(int argc, char **argv)
{
	uint64_t t0, t1, t2;
	long count, i;
	char **names;
	int fd;

	if (argc != 4)
		return 2;
	count = num(argv[3]);
	if (count < 1)
		return 2;
	names = calloc(count, sizeof(*names));
	for (i = 0; i < count; i++) {
		names[i] = malloc(4096);
		name_at(names[i], 4096, argv[1], argv[2], i);
	}
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		fd = open(names[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create %s", names[i]);
		close(fd);
	}
	t1 = now_ns();
	for (i = 0; i < count; i++)
		if (unlink(names[i]))
			die("unlink %s", names[i]);
	t2 = now_ns();
	printf("%.1f %.1f\n", (double)(t1 - t0) / count, (double)(t2 - t1) / count);
	return 0;
}

static int cmd_unlink(int argc, char **argv)
{
	long first, count, i;
	uint64_t t0, t1;
	char **names;

	if (argc != 5)
		return 2;
	first = num(argv[3]);
	count = num(argv[4]);
	if (count < 1)
		return 2;
	names = calloc(count, sizeof(*names));
	for (i = 0; i < count; i++) {
		names[i] = malloc(4096);
		name_at(names[i], 4096, argv[1], argv[2], first + i);
	}
	t0 = now_ns();
	for (i = 0; i < count; i++)
		if (unlink(names[i]))
			die("unlink %s", names[i]);
	t1 = now_ns();
	printf("%.1f\n", (double)(t1 - t0) / count);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	uint64_t t0, t1;
	int status;
	pid_t pid;

	if (argc < 2)
		return 2;
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		die("exec %s", argv[1]);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		die("%s failed (status 0x%x)", argv[1], status);
	}
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
} cmds[] = {
	{ "mkfiles", cmd_mkfiles, "DIR PREFIX FIRST COUNT [link]" },
	{ "mkdata", cmd_mkdata, "PATH BYTES" },
	{ "mount-strata", cmd_mount_strata, "TARGET [-o KEY=VAL]... MODE:DIR..." },
	{ "mount-overlay", cmd_mount_overlay, "TARGET CWD OPTIONS" },
	{ "stat", cmd_stat, "DIR PREFIX FIRST COUNT WANT" },
	{ "readdir", cmd_readdir, "DIR [ENTRIES]" },
	{ "readseq", cmd_readseq, "FILE" },
	{ "readrand", cmd_readrand, "FILE COUNT" },
	{ "writeseq", cmd_writeseq, "FILE" },
	{ "firstwrite", cmd_firstwrite, "FILE" },
	{ "copyraw", cmd_copyraw, "SRC DST" },
	{ "chmod", cmd_chmod, "FILE" },
	{ "churn", cmd_churn, "DIR PREFIX COUNT" },
	{ "unlink", cmd_unlink, "DIR PREFIX FIRST COUNT" },
	{ "run", cmd_run, "CMD [ARG]..." },
};

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc >= 2) {
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			if (strcmp(argv[1], cmds[i].name))
				continue;
			rc = cmds[i].fn(argc - 1, argv + 1);
			if (rc == 2)
				fprintf(stderr, "usage: %s %s %s\n", prog,
					cmds[i].name, cmds[i].usage);
			return rc;
		}
	}
	fprintf(stderr, "usage:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %s %s %s\n", prog, cmds[i].name, cmds[i].usage);
	return 2;
}
