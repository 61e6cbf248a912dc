/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the strata selftests.
 *
 * Every test runs in its own mount namespace (st_prepare), so a union left
 * mounted by a failed assertion dies with the test process instead of
 * breaking the tests after it.  Helpers follow the syscall convention:
 * 0 (or a pointer) on success, -1 (or NULL) with errno set on failure.
 *
 * Environment (set by the guest):
 *   STRATA_TEST_FS    branch filesystems available, e.g. "tmpfs ext4 xfs btrfs";
 *                     unset means "tmpfs", on a tmpfs the test mounts itself
 *   STRATA_TEST_ROOT  $STRATA_TEST_ROOT/<fs> is a scratch dir on <fs> (default /mnt)
 *   STRATA_TEST_FSTYPE  developer aid: "overlay" mounts the read-only unions
 *                     of the semantic tests with overlayfs (lowerdir=) instead,
 *                     to check the tests themselves on a kernel without strata
 */
#ifndef STRATA_TEST_H
#define STRATA_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define ST_PATH 8192		/* paths of ~3000 characters plus room to spare */
#define ST_NOBODY 65534

/* ---- environment ---- */
bool st_fs_listed(const char *fs);
const char *st_first_fs(void);
bool st_have_fstype(const char *type);
const char *st_union_type(void);
bool st_is_strata(void);
long st_fs_magic(const char *fs);

/*
 * Enter a private mount namespace and make a fresh scratch directory (mode
 * 0755, canonical path) on branch filesystem @fs (NULL: the first one
 * available).  Returns 0, 1 when the test must be skipped, -1 on failure;
 * @why says why.
 */
int st_prepare(const char *fs, const char *tag, char *dir, size_t len,
	       char *why, size_t wlen);
/*
 * Unmount everything below @dir, then remove it (staying on its fs).
 * Call it from FIXTURE_TEARDOWN_PARENT (ST_TEARDOWN): with -O2 the 6.12
 * harness skips a plain FIXTURE_TEARDOWN after a failed ASSERT, because its
 * "child" variable does not survive the longjmp.
 */
void st_cleanup(const char *dir);

/* printf into one of 32 rotating static buffers, for building paths on the
 * fly; strdup() what must outlive a few more calls. */
const char *st_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- building branch contents (directly on the branch directories) ---- */
int st_mkdirs(const char *path);
int st_put(const char *path, const char *data);
int st_put_mode(const char *path, const char *data, mode_t mode);
int st_put_buf(const char *path, const void *buf, size_t len);
/* @size bytes whose content depends on @seed (never all zeros). */
int st_put_pattern(const char *path, size_t size, unsigned int seed);
int st_symlink(const char *target, const char *path);
int st_mknod(const char *path, mode_t mode, dev_t dev);
int st_wh_aufs(const char *path);	/* dirname(path)/.wh.basename(path) */
int st_wh_ovl(const char *path);	/* 0/0 character device at path */
int st_opq_aufs(const char *dir);	/* dir/.wh..wh..opq */
int st_opq_xattr(const char *dir, const char *ns);	/* "trusted" or "user" */
bool st_user_xattr_ok(const char *dir);
char **st_make_layers(const char *dir, int n);	/* dir/l0 .. dir/l<n-1> */
/*
 * Build branch contents from a NULL-terminated list of "N:T:PATH[=ARG]",
 * PATH relative to DIR/lN (parents made as needed).  T is one of
 *   f file (ARG = content)   d dir          l symlink (ARG = target)
 *   p fifo    s socket       c / b char / block device (ARG = "maj,min")
 *   w aufs whiteout .wh.PATH                W overlay whiteout (0/0 chrdev)
 *   o aufs opaque marker in dir PATH        O trusted.overlay.opaque=y
 *   U user.overlay.opaque=y                 h hard link to ARG (same layer)
 *   m chmod PATH to octal ARG
 * Prints the failing entry and returns -1 on error.
 */
int st_build(const char *dir, const char *const *spec);
/* Content of a file, or "<ENAME>" (e.g. "<ENOENT>") when it cannot be read. */
const char *st_cat(const char *path);
/* "<ENAME>" of lstat(), or the type letter (as st_type_char) on success. */
const char *st_ltype(const char *path);

/* ---- reading ---- */
char *st_slurp(const char *path, ssize_t *len);	/* NUL-terminated copy */
/* Sorted "name:t,name:t" of a directory (d_type letter t), no . and .. */
char *st_ls(const char *dir);
char st_type_char(mode_t mode);
char st_dtype_char(unsigned char d_type);
uint64_t st_hash(const void *buf, size_t len, uint64_t h);
uint64_t st_hash_file(const char *path, off_t *size);
long st_resident_pages(const char *path, long *total);

/* ---- mounting ---- */
/*
 * Mount a read-only union of @layers (top first) on @target with mount(2):
 * strata "br=L0=mode:L1=mode..." (paths escaped) plus ",extra".
 */
int st_mount_union(const char *target, char *const *layers, int n,
		   const char *mode, const char *extra);
int st_umount(const char *target);
int st_fsopen(void);
int st_fsmount_at(int fsfd, const char *target);
/* All pending fs_context log lines, '\n'-terminated ("" when none). */
char *st_fslog(int fsfd);
/* Super options (mountinfo escapes undone) of the last mount on @target. */
char *st_mountinfo(const char *target, char *fstype, size_t flen);
/* Escape a path for br=: '\' before ':' '=' ',' '\'. */
char *st_br_escape(const char *path);

/* ---- writable unions ---- */
/* Mount @upper (rw) over @lowers (ro, top first) with br=, plus ",extra". */
int st_mount_rw(const char *mnt, const char *upper, char *const *lowers,
		int n, const char *extra);
/*
 * st_ls() of @dir without the default work and index directories
 * ".wh..wh.work" and ".wh..wh.index".
 */
const char *st_ls_nowork(const char *dir);
/*
 * Every object below @root as text, sorted by path (a malloc()ed string):
 * @line writes the line of each, starting with @rel ("/a/b"), and says
 * whether it is taken (a directory not taken is not entered either).  An
 * object that cannot be read gives "REL <lstat ENAME>".
 */
typedef bool (*st_line_fn)(FILE *out, const char *rel, const char *path,
			   const struct stat *st, void *arg);
char *st_walk(const char *root, st_line_fn line, void *arg);
/*
 * The common part of a tree-as-text line, no newline: "REL T MODE
 * UID:GID", for a file " nlink=N size=S data=HASH" (of the file @data,
 * which is @path unless the data lives elsewhere), a symlink's target,
 * a device's numbers.
 */
void st_print_object(FILE *out, const char *rel, const char *path,
		     const struct stat *st, const char *data);
/*
 * The lines only @a or only @b has, each prefixed with "-" (only @a) or
 * "+" (only @b), in their order; "" when both have the same lines.
 * malloc()ed.
 */
char *st_lines_delta(const char *a, const char *b);
/*
 * st_walk() with one line per object below @root (the top-level entry
 * @skip left out),
 * sorted by path: type, mode, owner, mtime with ns, size and content
 * hash, link target, device; with ST_SNAP_NLINK the link count of
 * non-directories, with ST_SNAP_XATTRS every readable xattr.  Atimes are
 * left out: reading is allowed to change them.  malloc()ed.
 */
#define ST_SNAP_XATTRS	1u
#define ST_SNAP_NLINK	2u
char *st_snapshot(const char *root, unsigned int flags, const char *skip);

/* ---- privileges ---- */
/* Run @fn in a child with uid/gid @id and no capabilities; its return value
 * (0..255) is returned, or -1 if the child died. */
int st_run_as(uid_t id, int (*fn)(void *), void *arg);
int st_drop_caches(void);

/* ---- fuzzing ---- */
/*
 * The seed of a fuzz test: $STRATA_FUZZ_SEED (decimal or 0x hex) when set,
 * else @def, so a run is repeatable and a failing seed can be replayed.
 * st_env_long() reads a positive count such as $STRATA_FUZZ_ITERS.
 */
uint64_t st_fuzz_seed(uint64_t def);
long st_env_long(const char *name, long def);
/* xorshift64*: a small, fast, deterministic generator (never seed 0). */
uint64_t st_rand(uint64_t *state);
/* Uniform in [0, n); n > 0. */
static inline unsigned int st_rand_below(uint64_t *state, unsigned int n)
{
	return st_rand(state) % n;
}

#ifdef __KSELFTEST_HARNESS_H
/*
 * The harness default of 30 s per test is tight for a guest under TCG;
 * a hang is still caught.  TEST_F expands this name at the use site.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

/* One variant per branch filesystem; the fixture's variant has .fs. */
#define ST_FS_VARIANTS(fx)					\
	FIXTURE_VARIANT_ADD(fx, tmpfs) { .fs = "tmpfs" };	\
	FIXTURE_VARIANT_ADD(fx, ext4) { .fs = "ext4" };		\
	FIXTURE_VARIANT_ADD(fx, xfs) { .fs = "xfs" };		\
	FIXTURE_VARIANT_ADD(fx, btrfs) { .fs = "btrfs" }

/* st_prepare for a FIXTURE_SETUP: skip or fail with the reason. */
#define ST_PREPARE(fs, tag, dir) do {					\
	char __why[512] = "";						\
	int __r = st_prepare(fs, tag, dir, sizeof(dir), __why,		\
			     sizeof(__why));				\
	if (__r > 0)							\
		SKIP(return, "%s", __why);				\
	ASSERT_EQ(0, __r) TH_LOG("%s", __why);				\
} while (0)

/* Assert that a 0-or-(-1, errno) call succeeded, logging errno. */
/* Teardown for fixtures whose scratch dir is self->dir (see st_cleanup). */
#define ST_TEARDOWN(fx) FIXTURE_TEARDOWN_PARENT(fx) { st_cleanup(self->dir); }

/*
 * Run BODY in a child with all ids set to UID (and no capabilities);
 * needs <grp.h> and <sys/wait.h>.
 * EXPECT_* inside it report to the shared test metadata; the child must
 * get to its end.
 */
#define AS_USER(uid, ...) do {						\
	pid_t __pid;							\
	int __st;							\
	fflush(stdout);							\
	fflush(stderr);							\
	__pid = fork();							\
	ASSERT_LE(0, __pid);						\
	if (!__pid) {							\
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||	\
		    setresuid(uid, uid, uid))				\
			_exit(99);					\
		__VA_ARGS__;						\
		_exit(42);						\
	}								\
	ASSERT_EQ(__pid, waitpid(__pid, &__st, 0));			\
	ASSERT_TRUE(WIFEXITED(__st) && WEXITSTATUS(__st) == 42)		\
		TH_LOG("child as uid %d stopped early (status %#x)", uid, __st); \
} while (0)

/* An errno check that names the call. */
#define FAILS(err, call) do {						\
	errno = 0;							\
	EXPECT_EQ(-1, (long)(call)) TH_LOG("%s succeeded", #call);	\
	EXPECT_EQ(err, errno) TH_LOG("%s: %s", #call, strerror(errno));	\
} while (0)

#define ST_OK(expr) do {						\
	int __rv = (expr), __e = errno;					\
	ASSERT_EQ(0, __rv) TH_LOG("%s: %s", #expr, strerror(__e));	\
} while (0)
#endif

#endif
