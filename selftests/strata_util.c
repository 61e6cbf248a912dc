// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the strata selftests; see strata_test.h.  This file
 * must not include the kselftest harness (it defines non-static symbols).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "strata_test.h"

/* ---- environment ---- */

static const char *fs_env(void)
{
	const char *s = getenv("STRATA_TEST_FS");

	return s && *s ? s : NULL;
}

bool st_fs_listed(const char *fs)
{
	const char *s = fs_env() ?: "tmpfs";
	size_t n = strlen(fs);

	while (*s) {
		size_t w;

		s += strspn(s, " ,\t");
		w = strcspn(s, " ,\t");
		if (w == n && !strncmp(s, fs, n))
			return true;
		s += w;
	}
	return false;
}

const char *st_first_fs(void)
{
	static char first[32];
	const char *s = fs_env();
	size_t w;

	if (!s)
		return "tmpfs";
	s += strspn(s, " ,\t");
	w = strcspn(s, " ,\t");
	if (w >= sizeof(first))
		w = sizeof(first) - 1;
	memcpy(first, s, w);
	first[w] = 0;
	return first;
}

bool st_have_fstype(const char *type)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *name = strrchr(line, '\t');

		name = name ? name + 1 : line;
		name[strcspn(name, "\n")] = 0;
		found = !strcmp(name, type);
	}
	fclose(f);
	return found;
}

const char *st_union_type(void)
{
	const char *t = getenv("STRATA_TEST_FSTYPE");

	return t && *t ? t : "strata";
}

bool st_is_strata(void)
{
	return !strcmp(st_union_type(), "strata");
}

long st_fs_magic(const char *fs)
{
	if (!strcmp(fs, "tmpfs"))
		return 0x01021994;
	if (!strcmp(fs, "ext4"))
		return 0xEF53;
	if (!strcmp(fs, "xfs"))
		return 0x58465342;
	if (!strcmp(fs, "btrfs"))
		return 0x9123683E;
	return 0;
}

/* Without STRATA_TEST_FS, st_prepare mounts a tmpfs of its own here. */
#define OWN_BASE "/tmp/strata-tmpfs-"

int st_prepare(const char *fs, const char *tag, char *dir, size_t len,
	       char *why, size_t wlen)
{
	char base[PATH_MAX], tmpl[PATH_MAX + 64];
	struct statfs sfs;

	if (!fs)
		fs = st_first_fs();
	if (!st_fs_listed(fs)) {
		snprintf(why, wlen, "%s is not in STRATA_TEST_FS", fs);
		return 1;
	}
	if (!st_have_fstype(st_union_type())) {
		snprintf(why, wlen, "%s is not in /proc/filesystems (module not loaded?)",
			 st_union_type());
		return -1;
	}
	umask(022);
	/* Mounts made by the test die with its namespace, even after a crash. */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		snprintf(why, wlen, "private mount namespace: %m");
		return -1;
	}
	if (fs_env()) {
		const char *root = getenv("STRATA_TEST_ROOT");

		snprintf(base, sizeof(base), "%s/%s", root && *root ? root : "/mnt", fs);
	} else {
		strcpy(base, OWN_BASE "XXXXXX");
		if (!mkdtemp(base) || mount("tmpfs", base, "tmpfs", 0, "mode=0755")) {
			snprintf(why, wlen, "tmpfs on %s: %m", base);
			return -1;
		}
	}
	/* A variant that silently ran on the wrong filesystem would lie. */
	if (statfs(base, &sfs) || (long)sfs.f_type != st_fs_magic(fs)) {
		snprintf(why, wlen, "%s is not a %s scratch dir (f_type %#lx)",
			 base, fs, (long)sfs.f_type);
		return -1;
	}
	snprintf(tmpl, sizeof(tmpl), "%s/strata-%s-XXXXXX", base, tag);
	if (!mkdtemp(tmpl) || chmod(tmpl, 0755) || !realpath(tmpl, base)) {
		snprintf(why, wlen, "scratch dir in %s: %m", base);
		return -1;
	}
	if (strlen(base) >= len) {
		snprintf(why, wlen, "scratch path too long");
		return -1;
	}
	strcpy(dir, base);
	return 0;
}

struct mnt_line {
	char *point;
	char *fstype;
	char *opts;
};

/* Undo mountinfo's octal escapes (\040 etc.) in place. */
static void unoctal(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

/* Split one mountinfo line into mount point, fs type and super options. */
static int parse_mountinfo(char *line, struct mnt_line *m)
{
	char *f[6], *p = line, *dash;
	int i;

	line[strcspn(line, "\n")] = 0;
	for (i = 0; i < 6; i++) {
		f[i] = strsep(&p, " ");
		if (!f[i] || !p)
			return -1;
	}
	dash = strstr(p, "- ");
	if (dash != p && !(dash = strstr(p, " - ")))
		return -1;
	p = dash + (dash == p ? 2 : 3);
	m->point = f[4];
	m->fstype = strsep(&p, " ");
	if (!p)
		return -1;
	strsep(&p, " ");	/* source */
	m->opts = p ? p : "";
	unoctal(m->point);
	unoctal(m->opts);
	return 0;
}

char *st_mountinfo(const char *target, char *fstype, size_t flen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		struct mnt_line m;

		if (parse_mountinfo(line, &m) || strcmp(m.point, target))
			continue;
		free(found);
		found = strdup(m.opts);
		if (fstype)
			snprintf(fstype, flen, "%s", m.fstype);
	}
	free(line);
	fclose(f);
	if (!found)
		errno = ENOENT;
	return found;
}

/* The deepest mount point at or below @dir, or NULL. */
static char *deepest_mount(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *best = NULL;
	size_t cap = 0, n = strlen(dir);

	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		struct mnt_line m;

		if (parse_mountinfo(line, &m) || strncmp(m.point, dir, n) ||
		    (m.point[n] && m.point[n] != '/'))
			continue;
		if (!best || strlen(m.point) >= strlen(best)) {
			free(best);
			best = strdup(m.point);
		}
	}
	free(line);
	fclose(f);
	return best;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/*
 * Runs in the parent of the test process (FIXTURE_TEARDOWN_PARENT), whose
 * mount namespace is gone by then, or in the test process itself.
 */
void st_cleanup(const char *dir)
{
	char base[PATH_MAX], *m;
	int i;

	if (!dir || !*dir)
		return;
	/* Unions first, deepest first, so rm never walks into one. */
	for (i = 0; i < 256 && (m = deepest_mount(dir)); i++) {
		if (umount2(m, 0))
			umount2(m, MNT_DETACH);
		free(m);
	}
	nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	snprintf(base, sizeof(base), "%s", dir);
	if (!fs_env() && !strncmp(base, OWN_BASE, strlen(OWN_BASE)) &&
	    strrchr(base, '/') > base + strlen(OWN_BASE)) {
		*strrchr(base, '/') = 0;
		umount2(base, MNT_DETACH);
		rmdir(base);
	}
}

const char *st_fmt(const char *fmt, ...)
{
	static char bufs[32][ST_PATH];
	static int next;
	char *b = bufs[next++ % 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, ST_PATH, fmt, ap);
	va_end(ap);
	return b;
}

/* ---- building branch contents ---- */

int st_mkdirs(const char *path)
{
	char buf[ST_PATH], *p;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

static int mkparent(const char *path)
{
	char buf[ST_PATH], *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = 0;
	return st_mkdirs(buf);
}

int st_put_buf(const char *path, const void *buf, size_t len)
{
	const char *p = buf;
	int fd;

	if (mkparent(path))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			if (!n)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= n;
	}
	return close(fd);
}

int st_put(const char *path, const char *data)
{
	return st_put_buf(path, data, strlen(data));
}

int st_put_pattern(const char *path, size_t size, unsigned int seed)
{
	char *buf = malloc(size);
	size_t i;
	int ret;

	if (!buf)
		return -1;
	for (i = 0; i < size; i++)
		buf[i] = (char)(i * 31 + seed + (i >> 12));
	ret = st_put_buf(path, buf, size);
	free(buf);
	return ret;
}

int st_put_mode(const char *path, const char *data, mode_t mode)
{
	return st_put(path, data) ?: chmod(path, mode);
}

int st_symlink(const char *target, const char *path)
{
	return mkparent(path) ?: symlink(target, path);
}

int st_mknod(const char *path, mode_t mode, dev_t dev)
{
	return mkparent(path) ?: mknod(path, mode, dev);
}

int st_wh_aufs(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		errno = EINVAL;
		return -1;
	}
	return st_put(st_fmt("%.*s/.wh.%s", (int)(slash - path), path, slash + 1), "");
}

int st_wh_ovl(const char *path)
{
	return st_mknod(path, S_IFCHR | 0000, makedev(0, 0));
}

int st_opq_aufs(const char *dir)
{
	return st_put(st_fmt("%s/.wh..wh..opq", dir), "");
}

int st_opq_xattr(const char *dir, const char *ns)
{
	return st_mkdirs(dir) ?:
		setxattr(dir, st_fmt("%s.overlay.opaque", ns), "y", 1, 0);
}

bool st_user_xattr_ok(const char *dir)
{
	const char *probe = st_fmt("%s/xattr-probe", dir);
	bool ok;

	if (st_put(probe, ""))
		return false;
	ok = !setxattr(probe, "user.st_probe", "1", 1, 0);
	unlink(probe);
	return ok;
}

char **st_make_layers(const char *dir, int n)
{
	char **l = calloc(n + 1, sizeof(*l));
	int i;

	if (!l)
		return NULL;
	for (i = 0; i < n; i++) {
		l[i] = strdup(st_fmt("%s/l%d", dir, i));
		if (!l[i] || st_mkdirs(l[i]))
			return NULL;
	}
	return l;
}

static int build_one(const char *dir, const char *entry)
{
	char buf[ST_PATH], *path, *arg;
	const char *base;
	unsigned int ma, mi;
	int layer;
	char type;

	if (sscanf(entry, "%d:%c:", &layer, &type) != 2 || !(path = strchr(entry + 2, ':'))) {
		errno = EINVAL;
		return -1;
	}
	base = st_fmt("%s/l%d", dir, layer);
	snprintf(buf, sizeof(buf), "%s/%s", base, path + 1);
	path = buf;
	arg = strchr(path + strlen(base), '=');
	if (arg)
		*arg++ = 0;
	switch (type) {
	case 'f': return st_put(path, arg ? arg : "");
	case 'd': return st_mkdirs(path);
	case 'l': return st_symlink(arg ? arg : "", path);
	case 'p': return st_mknod(path, S_IFIFO | 0644, 0);
	case 's': return st_mknod(path, S_IFSOCK | 0755, 0);
	case 'c':
	case 'b':
		if (!arg || sscanf(arg, "%u,%u", &ma, &mi) != 2)
			break;
		return st_mknod(path, (type == 'c' ? S_IFCHR : S_IFBLK) | 0644,
				makedev(ma, mi));
	case 'w': return st_wh_aufs(path);
	case 'W': return st_wh_ovl(path);
	case 'o': return st_opq_aufs(path);
	case 'O': return st_opq_xattr(path, "trusted");
	case 'U': return st_opq_xattr(path, "user");
	case 'h':
		if (!arg)
			break;
		return mkparent(path) ?: link(st_fmt("%s/%s", base, arg), path);
	case 'm':
		if (!arg)
			break;
		return chmod(path, strtoul(arg, NULL, 8));
	}
	errno = EINVAL;
	return -1;
}

int st_build(const char *dir, const char *const *spec)
{
	for (; *spec; spec++) {
		if (build_one(dir, *spec)) {
			fprintf(stderr, "# st_build: %s: %m\n", *spec);
			return -1;
		}
	}
	return 0;
}

const char *st_cat(const char *path)
{
	char *s = st_slurp(path, NULL);

	return s ? s : st_fmt("<%s>", strerrorname_np(errno) ?: "E?");
}

const char *st_ltype(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return st_fmt("<%s>", strerrorname_np(errno) ?: "E?");
	return st_fmt("%c", st_type_char(st.st_mode));
}

/* ---- reading ---- */

char *st_slurp(const char *path, ssize_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = realloc(buf, 2 * cap + 1);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			int e = errno;

			close(fd);
			free(buf);
			errno = e;
			return NULL;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

char st_type_char(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return 'f';
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	case S_IFCHR: return 'c';
	case S_IFBLK: return 'b';
	}
	return '?';
}

char st_dtype_char(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_FIFO: return 'p';
	case DT_SOCK: return 's';
	case DT_CHR: return 'c';
	case DT_BLK: return 'b';
	}
	return '?';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *st_ls(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, *out;
	size_t n = 0, cap = 0, total = 1, i;

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = realloc(v, cap * sizeof(*v));
		}
		if (asprintf(&v[n], "%s:%c", e->d_name, st_dtype_char(e->d_type)) < 0)
			return NULL;
		total += strlen(v[n++]) + 1;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	out = malloc(total);
	out[0] = 0;
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, v[i]);
		free(v[i]);
	}
	free(v);
	return out;
}

uint64_t st_hash(const void *buf, size_t len, uint64_t h)
{
	const unsigned char *p = buf;

	/* FNV-1a over 64-bit words: cheap enough for 64 MiB under TCG. */
	if (!h)
		h = 0xcbf29ce484222325ULL;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	for (; len; p++, len--)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

uint64_t st_hash_file(const char *path, off_t *size)
{
	static char buf[1 << 20];
	uint64_t h = 0;
	off_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return 0;
	/* Hash whole buffers only: st_hash works in 8-byte words. */
	do {
		size_t fill = 0;

		while (fill < sizeof(buf) &&
		       (r = read(fd, buf + fill, sizeof(buf) - fill)) > 0)
			fill += r;
		h = st_hash(buf, fill, h);
		total += fill;
	} while (r > 0);
	close(fd);
	if (r < 0)
		return 0;
	if (size)
		*size = total;
	return h;
}

long st_resident_pages(const char *path, long *total)
{
	long psz = sysconf(_SC_PAGESIZE), pages, i, n = 0;
	unsigned char *vec;
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !st.st_size) {
		close(fd);
		return -1;
	}
	pages = (st.st_size + psz - 1) / psz;
	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	vec = malloc(pages);
	/* mincore of a file mapping reports the file's page cache. */
	if (!vec || mincore(map, st.st_size, vec)) {
		munmap(map, st.st_size);
		free(vec);
		return -1;
	}
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	munmap(map, st.st_size);
	free(vec);
	if (total)
		*total = pages;
	return n;
}

/* ---- mounting ---- */

static char *escape(const char *path, const char *special)
{
	char *out = malloc(2 * strlen(path) + 1), *d = out;

	if (!out)
		return NULL;
	for (; *path; path++) {
		if (strchr(special, *path))
			*d++ = '\\';
		*d++ = *path;
	}
	*d = 0;
	return out;
}

char *st_br_escape(const char *path)
{
	return escape(path, ":=,\\");
}

int st_mount_union(const char *target, char *const *layers, int n,
		   const char *mode, const char *extra)
{
	bool ovl = !st_is_strata();
	size_t cap = 64 + (extra ? strlen(extra) : 0);
	char *data, *p;
	int i, ret;

	for (i = 0; i < n; i++)
		cap += 2 * strlen(layers[i]) + 8;
	data = malloc(cap);
	if (!data)
		return -1;
	p = data + sprintf(data, ovl ? "lowerdir=" : "br=");
	for (i = 0; i < n; i++) {
		char *e = ovl ? escape(layers[i], ":,\\") : st_br_escape(layers[i]);

		if (!e)
			return -1;
		p += sprintf(p, "%s%s", i ? ":" : "", e);
		if (!ovl)
			p += sprintf(p, "=%s", mode);
		free(e);
	}
	/* overlayfs has no whiteout= (it only knows its own format). */
	if (extra && *extra && !(ovl && !strncmp(extra, "whiteout=", 9)))
		p += sprintf(p, ",%s", extra);
	if (strlen(data) >= 4096) {	/* mount(2) copies one page */
		free(data);
		errno = E2BIG;
		return -1;
	}
	ret = mount("none", target, st_union_type(), 0, data);
	free(data);
	return ret;
}

int st_umount(const char *target)
{
	return umount2(target, 0);
}

int st_fsopen(void)
{
	return fsopen(st_union_type(), FSOPEN_CLOEXEC);
}

int st_fsmount_at(int fsfd, const char *target)
{
	int mfd, ret, e;

	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return -1;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return -1;
	ret = move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	e = errno;
	close(mfd);
	errno = e;
	return ret;
}

char *st_fslog(int fsfd)
{
	size_t cap = 16384, n = 0;
	char *out = malloc(cap);
	char buf[16384];
	ssize_t r;

	if (!out)
		return NULL;
	out[0] = 0;
	/* Each read() returns one message; ENODATA when the log is empty. */
	while ((r = read(fsfd, buf, sizeof(buf) - 1)) > 0) {
		if (buf[r - 1] == '\n')	/* some kernels end messages with one */
			r--;
		if (n + r + 2 > cap) {
			cap = 2 * (n + r + 2);
			out = realloc(out, cap);
		}
		memcpy(out + n, buf, r);
		n += r;
		out[n++] = '\n';
		out[n] = 0;
	}
	return out;
}

/* ---- privileges ---- */

int st_run_as(uid_t id, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		/* Changing all three uids away from 0 clears the capabilities. */
		if (setgroups(0, NULL) || setresgid(id, id, id) ||
		    setresuid(id, id, id))
			_exit(255);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int st_drop_caches(void)
{
	int fd, ret;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, "3", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

/* ---- fuzzing ---- */

uint64_t st_fuzz_seed(uint64_t def)
{
	const char *s = getenv("STRATA_FUZZ_SEED");
	uint64_t v;

	v = s && *s ? strtoull(s, NULL, 0) : def;
	return v ?: 1;
}

long st_env_long(const char *name, long def)
{
	const char *s = getenv(name);
	long v = s && *s ? strtol(s, NULL, 0) : 0;

	return v > 0 ? v : def;
}

uint64_t st_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* ---- writable unions ---- */

int st_mount_rw(const char *mnt, const char *upper, char *const *lowers,
		int n, const char *extra)
{
	size_t cap = 64 + 2 * strlen(upper) + (extra ? strlen(extra) : 0);
	char *data, *p, *e;
	int i, ret;

	for (i = 0; i < n; i++)
		cap += 2 * strlen(lowers[i]) + 8;
	data = malloc(cap);
	if (!data)
		return -1;
	e = st_br_escape(upper);
	p = data + sprintf(data, "br=%s=rw", e);
	free(e);
	for (i = 0; i < n; i++) {
		e = st_br_escape(lowers[i]);
		p += sprintf(p, ":%s=ro", e);
		free(e);
	}
	if (extra && *extra)
		sprintf(p, ",%s", extra);
	ret = mount("none", mnt, "strata", 0, data);
	free(data);
	return ret;
}

const char *st_ls_nowork(const char *dir)
{
	static const char *const hidden[] = { ".wh..wh.work:d",
					      ".wh..wh.index:d" };
	char *s = st_ls(dir), *hit;
	unsigned int i;

	if (!s)
		return st_fmt("<%s>", strerrorname_np(errno));
	for (i = 0; i < 2; i++) {
		size_t n = strlen(hidden[i]);

		hit = strstr(s, hidden[i]);
		if (!hit || (hit != s && hit[-1] != ',') ||
		    (hit[n] && hit[n] != ','))
			continue;
		if (hit[n] == ',')
			memmove(hit, hit + n + 1, strlen(hit + n + 1) + 1);
		else if (hit != s)
			hit[-1] = 0;
		else
			*hit = 0;
	}
	return st_fmt("%s", s);
}

static void walk(FILE *out, const char *root, const char *rel,
		 st_line_fn line, void *arg)
{
	struct dirent **names;
	int n, i;

	n = scandir(st_fmt("%s%s", root, rel), &names, NULL, alphasort);
	if (n < 0) {
		fprintf(out, "%s <scandir %s>\n", rel, strerrorname_np(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		char *path, *r;
		struct stat st;

		if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
			free(names[i]);
			continue;
		}
		r = strdup(st_fmt("%s/%s", rel, nm));
		path = strdup(st_fmt("%s%s", root, r));
		free(names[i]);
		if (lstat(path, &st))
			fprintf(out, "%s <lstat %s>\n", r, strerrorname_np(errno));
		else if (line(out, r, path, &st, arg) && S_ISDIR(st.st_mode))
			walk(out, root, r, line, arg);
		free(path);
		free(r);
	}
	free(names);
}

char *st_walk(const char *root, st_line_fn line, void *arg)
{
	char *buf = NULL, *r = strdup(root);	/* @root may be an st_fmt() buffer */
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || !r) {
		free(r);
		return NULL;
	}
	walk(f, r, "", line, arg);
	fclose(f);
	free(r);
	return buf;
}

void st_print_object(FILE *out, const char *rel, const char *path,
		     const struct stat *st, const char *data)
{
	fprintf(out, "%s %c %o %u:%u", rel, st_type_char(st->st_mode),
		st->st_mode & 07777, st->st_uid, st->st_gid);
	if (S_ISREG(st->st_mode)) {
		fprintf(out, " nlink=%lu size=%lld data=%016llx",
			(unsigned long)st->st_nlink, (long long)st->st_size,
			(unsigned long long)st_hash_file(data, NULL));
	} else if (S_ISLNK(st->st_mode)) {
		char t[4096];
		ssize_t l = readlink(path, t, sizeof(t));

		fprintf(out, " -> %.*s", (int)(l < 0 ? 0 : l), t);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		fprintf(out, " dev=%u,%u", major(st->st_rdev), minor(st->st_rdev));
	}
}

/* Is @line (@len bytes, no newline) one of the lines of @text? */
static bool has_line(const char *text, const char *line, size_t len)
{
	const char *p = text;

	while ((p = strstr(p, st_fmt("%.*s\n", (int)len, line)))) {
		if (p == text || p[-1] == '\n')
			return true;
		p++;
	}
	return false;
}

char *st_lines_delta(const char *a, const char *b)
{
	const char *side[2] = { a, b };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int k;

	for (k = 0; f && k < 2; k++) {
		const char *p = side[k], *nl;

		for (; *p && (nl = strchr(p, '\n')); p = nl + 1)
			if (!has_line(side[!k], p, nl - p))
				fprintf(f, "%c%.*s\n", k ? '+' : '-', (int)(nl - p), p);
	}
	if (f)
		fclose(f);
	return buf ? buf : strdup("");
}

struct snapshot_args {
	unsigned int flags;
	const char *skip;
};

static bool snapshot_line(FILE *out, const char *rel, const char *path,
			  const struct stat *st, void *arg)
{
	const struct snapshot_args *a = arg;

	if (a->skip && !strcmp(rel + 1, a->skip))
		return false;
	fprintf(out, "%s %c %o %u:%u mt=%lld.%09ld", rel, st_type_char(st->st_mode),
		st->st_mode & 07777, st->st_uid, st->st_gid,
		(long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	/* A merged directory's count changes when it is copied up. */
	if ((a->flags & ST_SNAP_NLINK) && !S_ISDIR(st->st_mode))
		fprintf(out, " n%lu", (unsigned long)st->st_nlink);
	if (S_ISREG(st->st_mode)) {
		fprintf(out, " size=%lld h=%016llx", (long long)st->st_size,
			(unsigned long long)st_hash_file(path, NULL));
	} else if (S_ISLNK(st->st_mode)) {
		char t[4096];
		ssize_t l = readlink(path, t, sizeof(t) - 1);

		fprintf(out, " -> %.*s", (int)(l < 0 ? 0 : l), t);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		fprintf(out, " dev=%u,%u", major(st->st_rdev), minor(st->st_rdev));
	}
	if (a->flags & ST_SNAP_XATTRS) {
		char list[8192], val[8192], *x, *sorted[256];
		ssize_t ll = llistxattr(path, list, sizeof(list));
		int k = 0, j;

		for (x = list; ll > 0 && x < list + ll && k < 256; x += strlen(x) + 1)
			sorted[k++] = x;
		qsort(sorted, k, sizeof(*sorted), cmp_str);
		for (j = 0; j < k; j++) {
			ssize_t vl = lgetxattr(path, sorted[j], val, sizeof(val));

			fprintf(out, " x:%s=%016llx", sorted[j], vl < 0 ? 0ULL :
				(unsigned long long)st_hash(val, vl, 0));
		}
	}
	fputc('\n', out);
	return true;
}

char *st_snapshot(const char *root, unsigned int flags, const char *skip)
{
	struct snapshot_args a = { flags, skip };

	return st_walk(root, snapshot_line, &a);
}
