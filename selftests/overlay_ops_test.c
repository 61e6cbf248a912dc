// SPDX-License-Identifier: GPL-2.0
/*
 * Side by side with overlayfs (design.md §2: switching the type is all a
 * user needs): the same layers are copied to two places, one mounted with
 * overlayfs, one with strata (whiteout=overlay, same branch order), the
 * same sequence of changes is run on both, and then the result of every
 * call, the union views (names, types, modes, owners, sizes, contents,
 * link counts of files, symlink targets, device numbers) and the upper
 * branches (the same plus whiteouts as 0/0 character devices and opaque
 * directories) must be identical.  overlayfs' own xattrs and work
 * directories are left out; so are inode numbers and times.  Operations
 * overlayfs refuses with EXDEV (directory renames without redirect_dir)
 * are not in the sequence.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define WORK ".wh..wh.work"

/* Layer 1 is above layer 2; layer 0 is the (empty) upper branch. */
static const char *const layers[] = {
	"2:f:a=a2", "2:f:b=b2", "2:f:c=c2", "2:f:d/x=x", "2:f:d/y=y",
	"2:f:d/z=z", "2:f:m/m1=m1", "2:f:m/m2=m2", "2:d:e", "2:f:f=f2 file",
	"2:f:h=h", "2:f:p=p", "2:f:t=truncate me", "2:f:own=own", "2:f:q1=q1",
	"2:f:q2=q2", "2:f:s/deep/file=deep", "2:d:wdir", "2:l:lnk=a",
	"2:f:o/hidden=hidden", "2:d:emptylow", "2:p:lowfifo",
	"1:f:a=a1", "1:f:d/w=w1", "1:f:m/m3=m3", "1:W:c", "1:O:o",
	"1:f:o/inner=in", "1:f:n=n1", "1:f:d/y=y1",
	NULL
};

enum op_kind {
	CREATE, APPEND, UNLINK, RMDIR, MKDIR, RENAME, NOREPLACE, EXCHANGE,
	CHMOD, CHOWN, SYMLINK, LINK, TRUNCATE, MKFIFO, WRITE_TRUNC,
};

struct op {
	enum op_kind kind;
	const char *a, *b;	/* paths (b: second path or data) */
	long n;			/* mode, size, uid */
};

static const struct op ops[] = {
	{ CREATE, "n1", "hello", 0 },
	{ APPEND, "a", "+appended", 0 },
	{ UNLINK, "b", NULL, 0 },
	{ UNLINK, "d/x", NULL, 0 },
	{ RMDIR, "e", NULL, 0 },
	{ UNLINK, "m/m1", NULL, 0 }, { UNLINK, "m/m2", NULL, 0 }, { UNLINK, "m/m3", NULL, 0 },
	{ RMDIR, "m", NULL, 0 },
	{ MKDIR, "e", NULL, 0755 },
	{ CREATE, "e/new", "in e", 0 },
	{ RENAME, "f", "f2", 0 },
	{ MKDIR, "nd", NULL, 0755 },
	{ RENAME, "d/y", "nd/y", 0 },
	{ RENAME, "n1", "d/z", 0 },
	{ CHMOD, "p", NULL, 0600 },
	{ CHMOD, "d", NULL, 0700 },
	{ SYMLINK, "a", "sl", 0 },
	{ SYMLINK, "../a", "d/sl2", 0 },
	{ LINK, "a", "a_link", 0 },
	{ LINK, "h", "h2", 0 },
	{ MKDIR, "newdir", NULL, 0755 },
	{ MKDIR, "newdir/sub", NULL, 0711 },
	{ CREATE, "newdir/sub/f", "deep new", 0 },
	{ RENAME, "newdir", "newdir2", 0 },
	{ UNLINK, "own", NULL, 0 },
	{ MKDIR, "own", NULL, 0750 },
	{ TRUNCATE, "t", NULL, 3 },
	{ CHOWN, "q1", NULL, 1000 },
	{ EXCHANGE, "q1", "q2", 0 },
	{ NOREPLACE, "a", "q2", 0 },			/* EEXIST */
	{ RMDIR, "d", NULL, 0 },					/* ENOTEMPTY */
	{ MKFIFO, "fifo", NULL, 0640 },
	{ RENAME, "nd/y", "b", 0 },			/* onto a whiteout */
	{ UNLINK, "a_link", NULL, 0 },
	{ CREATE, "o/new", "in opaque", 0 },
	{ UNLINK, "o/inner", NULL, 0 },
	{ UNLINK, "c", NULL, 0 },				/* ENOENT */
	{ CREATE, "c", "c new", 0 },
	{ RMDIR, "wdir", NULL, 0 },
	{ MKDIR, "wdir", NULL, 0755 },
	{ UNLINK, "s/deep/file", NULL, 0 },
	{ RMDIR, "s/deep", NULL, 0 },
	{ RENAME, "h2", "h3", 0 },
	{ APPEND, "h", "+h", 0 },
	{ WRITE_TRUNC, "a", "trunc", 0 },
	{ RENAME, "lnk", "lnk2", 0 },
	{ MKDIR, "nd2", NULL, 0755 },
	{ RENAME, "nd2", "e/nd2", 0 },
	{ RENAME, "d/w", "d/w2", 0 },
	{ MKDIR, "nd3", NULL, 0700 },
	{ CREATE, "nd3/f", "nd3", 0 },
	{ RENAME, "nd3", "emptylow", 0 },			/* over an empty lower dir */
	{ CHMOD, "lowfifo", NULL, 0600 },
	{ UNLINK, "q2", NULL, 0 },
	{ RMDIR, "nd", NULL, 0 },
	{ CREATE, "d/x", "x again", 0 },
	{ UNLINK, "n", NULL, 0 },
	{ SYMLINK, "nowhere", "n", 0 },
};

static int do_op(const char *root, const struct op *o)
{
	const char *a = st_fmt("%s/%s", root, o->a);
	const char *b = o->b ? st_fmt("%s/%s", root, o->b) : NULL;
	int fd, ret = 0;

	switch (o->kind) {
	case CREATE:
	case APPEND:
	case WRITE_TRUNC:
		fd = open(a, o->kind == CREATE ? O_WRONLY | O_CREAT | O_EXCL :
			  o->kind == APPEND ? O_WRONLY | O_APPEND : O_WRONLY | O_TRUNC,
			  0644);
		if (fd < 0)
			return -1;
		if (write(fd, o->b, strlen(o->b)) != (ssize_t)strlen(o->b))
			ret = -1;
		close(fd);
		return ret;
	case UNLINK: return unlink(a);
	case RMDIR: return rmdir(a);
	case MKDIR: return mkdir(a, o->n);
	case RENAME: return rename(a, b);
	case NOREPLACE: return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE);
	case EXCHANGE: return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
	case CHMOD: return chmod(a, o->n);
	case CHOWN: return lchown(a, o->n, o->n);
	case SYMLINK: return symlink(o->a, b);
	case LINK: return link(a, b);
	case TRUNCATE: return truncate(a, o->n);
	case MKFIFO: return mknod(a, S_IFIFO | o->n, 0);
	}
	errno = EINVAL;
	return -1;
}

/* Results of all operations, one line each: "N kind a b: 0" or ": ENAME". */
static char *run_ops(const char *root)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		int r;

		errno = 0;
		r = do_op(root, &ops[i]);
		fprintf(f, "%zu %d %s %s: %s\n", i, ops[i].kind, ops[i].a,
			ops[i].b ? ops[i].b : "", r ? strerrorname_np(errno) : "0");
	}
	fclose(f);
	return buf;
}

/* Does a lower layer beside the upper branch @root have directory @rel? */
static bool lower_dir(const char *root, const char *rel)
{
	size_t n = strlen(root);
	struct stat st;
	int i;

	if (n < 3 || strcmp(root + n - 3, "/l0"))
		return true;
	for (i = 1; i <= 2; i++)
		if (!lstat(st_fmt("%.*s/l%d%s", (int)(n - 3), root, i, rel), &st) &&
		    S_ISDIR(st.st_mode))
			return true;
	return false;
}

/*
 * strata copies only the metadata of a file whose attributes, name or
 * links change (a stub, see metacopy_test); overlayfs copies the data.
 * Compare what each stands for: a stub's data is the file its record
 * names in the first lower branch (siblings l1, l2, ... of the rw l0).
 */
static const char *stub_data(const char *root, const char *path)
{
	char rec[16 + 4096];
	ssize_t n = getxattr(path, "trusted.strata.metacopy", rec, sizeof(rec) - 1);
	size_t rl = strlen(root);
	int i;

	if (n < 18 || rl < 2 || strcmp(root + rl - 2, "l0"))
		return path;
	rec[n] = 0;
	for (i = 1; i < 10; i++) {
		const char *p = st_fmt("%.*sl%d%s", (int)rl - 2, root, i, rec + 16);

		if (!access(p, F_OK))
			return p;
	}
	return path;
}

/*
 * A tree as text.  @upper: a branch (show whiteouts and opaque markers,
 * skip strata's default work dir at the top), else a union view.
 */
struct tree_args {
	const char *root;
	bool upper;
};

static bool tree_line(FILE *out, const char *rel, const char *path,
		      const struct stat *st, void *arg)
{
	const struct tree_args *a = arg;

	if (a->upper && (!strcmp(rel + 1, WORK) ||
			 !strcmp(rel + 1, ".wh..wh.index")))
		return false;
	st_print_object(out, rel, path, st, a->upper && S_ISREG(st->st_mode) ?
			stub_data(a->root, path) : path);
	/*
	 * Opaque markers matter only where a lower layer has the
	 * directory; overlayfs also marks directories moved into a
	 * merged parent, which changes nothing in the view.
	 */
	if (S_ISDIR(st->st_mode) && a->upper && lower_dir(a->root, rel)) {
		char v[8] = "";

		if (lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v)) > 0)
			fprintf(out, " opaque=%.1s", v);
	}
	fputc('\n', out);
	return true;
}

/*
 * A tree as text.  @upper: a branch (show whiteouts and opaque markers,
 * skip strata's default work dir at the top), else a union view.
 */
static char *tree(const char *root, bool upper)
{
	char *r = strdup(root);	/* @root may be an st_fmt() buffer */
	struct tree_args a = { r, upper };
	char *buf = st_walk(r, tree_line, &a);

	free(r);
	return buf;
}

/* 0 when equal; else print the lines only one side has and return 1. */
static int diff(const char *what, const char *ovl, const char *str)
{
	char *d = st_lines_delta(ovl, str), *p = d, *nl;
	int shown = 0, ret = strcmp(ovl, str) != 0;

	for (; (nl = strchr(p, '\n')) && shown < 16; p = nl + 1, shown++)
		fprintf(stderr, "# %s: only %s: %.*s\n", what,
			*p == '-' ? "overlay" : "strata ", (int)(nl - p - 1), p + 1);
	free(d);
	return ret;
}

FIXTURE(ovops) {
	char dir[ST_PATH];
	char o[ST_PATH], s[ST_PATH];		/* the two layer sets */
	char omnt[ST_PATH], smnt[ST_PATH];
};

FIXTURE_VARIANT(ovops) {
	const char *fs;
	bool ovl_spelling;	/* strata with lowerdir=,upperdir=,workdir= */
};

FIXTURE_VARIANT_ADD(ovops, tmpfs_br) { .fs = "tmpfs" };
FIXTURE_VARIANT_ADD(ovops, tmpfs_lowerdir) { .fs = "tmpfs", .ovl_spelling = true };
FIXTURE_VARIANT_ADD(ovops, ext4_br) { .fs = "ext4" };
FIXTURE_VARIANT_ADD(ovops, ext4_lowerdir) { .fs = "ext4", .ovl_spelling = true };
FIXTURE_VARIANT_ADD(ovops, xfs_br) { .fs = "xfs" };
FIXTURE_VARIANT_ADD(ovops, xfs_lowerdir) { .fs = "xfs", .ovl_spelling = true };
FIXTURE_VARIANT_ADD(ovops, btrfs_br) { .fs = "btrfs" };
FIXTURE_VARIANT_ADD(ovops, btrfs_lowerdir) { .fs = "btrfs", .ovl_spelling = true };

FIXTURE_SETUP(ovops)
{
	char *opt;

	ST_PREPARE(variant->fs, "ovops", self->dir);
	if (!st_have_fstype("overlay")) {
		st_cleanup(self->dir);
		SKIP(return, "overlay is not in /proc/filesystems");
	}
	strcpy(self->o, st_fmt("%s/o", self->dir));
	strcpy(self->s, st_fmt("%s/s", self->dir));
	strcpy(self->omnt, st_fmt("%s/omnt", self->dir));
	strcpy(self->smnt, st_fmt("%s/smnt", self->dir));
	ASSERT_NE(NULL, st_make_layers(self->o, 3));
	ASSERT_NE(NULL, st_make_layers(self->s, 3));
	ST_OK(st_build(self->o, layers));
	ST_OK(st_build(self->s, layers));
	ST_OK(st_mkdirs(st_fmt("%s/w", self->o)));
	ST_OK(st_mkdirs(st_fmt("%s/w", self->s)));
	ST_OK(st_mkdirs(self->omnt));
	ST_OK(st_mkdirs(self->smnt));

	/* Both take lowerdir= top first. */
	ASSERT_LT(0, asprintf(&opt, "lowerdir=%s/l1:%s/l2,upperdir=%s/l0,workdir=%s/w",
			      self->o, self->o, self->o, self->o));
	ASSERT_EQ(0, mount("overlay", self->omnt, "overlay", 0, opt))
		TH_LOG("overlay %s: %s", opt, strerror(errno));
	free(opt);
	if (variant->ovl_spelling) {
		ASSERT_LT(0, asprintf(&opt, "lowerdir=%s/l1:%s/l2,upperdir=%s/l0,"
				      "workdir=%s/w,whiteout=overlay",
				      self->s, self->s, self->s, self->s));
	} else {
		ASSERT_LT(0, asprintf(&opt, "br=%s/l0=rw:%s/l1=ro:%s/l2=ro,whiteout=overlay",
				      self->s, self->s, self->s));
	}
	ASSERT_EQ(0, mount("none", self->smnt, "strata", 0, opt))
		TH_LOG("strata %s: %s", opt, strerror(errno));
	free(opt);
}

ST_TEARDOWN(ovops)

/* Before any change the two views agree (the test's own baseline). */
TEST_F(ovops, same_view_before)
{
	EXPECT_EQ(0, diff("union view", tree(self->omnt, false), tree(self->smnt, false)));
}

TEST_F(ovops, same_results_after_sequence)
{
	char *ores, *sres, *ov, *sv, *ou, *su;

	ores = run_ops(self->omnt);
	sres = run_ops(self->smnt);
	EXPECT_EQ(0, diff("call results", ores, sres));
	/* The sequence does what it is meant to (on overlayfs). */
	EXPECT_NE(NULL, strstr(ores, " a q2: EEXIST\n"));
	EXPECT_NE(NULL, strstr(ores, " d : ENOTEMPTY\n"));
	EXPECT_EQ(NULL, strstr(ores, "EXDEV"));

	ov = tree(self->omnt, false);
	sv = tree(self->smnt, false);
	EXPECT_EQ(0, diff("union view", ov, sv));

	/* Unmounted, the upper branches themselves. */
	ST_OK(umount(self->omnt));
	ST_OK(umount(self->smnt));
	ou = tree(st_fmt("%s/l0", self->o), true);
	su = tree(st_fmt("%s/l0", self->s), true);
	EXPECT_EQ(0, diff("upper branch", ou, su));
	/* Whiteouts were written, as overlayfs writes them. */
	EXPECT_NE(NULL, strstr(su, "/b f 644 0:0 nlink=1 size=2 "));
	EXPECT_NE(NULL, strstr(su, "/own d 750 0:0\n"));
	EXPECT_NE(NULL, strstr(su, "/m c 0 0:0 dev=0,0\n"));
	EXPECT_NE(NULL, strstr(su, "/wdir d 755 0:0 opaque=y\n"));
	EXPECT_STREQ("", st_ls(st_fmt("%s/%s", self->s, variant->ovl_spelling ?
					"w/work" : "l0/" WORK)));

	/* Mounted again, strata still shows what overlayfs shows. */
	ASSERT_EQ(0, mount("none", self->smnt, "strata", 0,
			   st_fmt("br=%s/l0=rw:%s/l1=ro:%s/l2=ro,whiteout=overlay",
				  self->s, self->s, self->s)));
	sv = tree(self->smnt, false);
	EXPECT_EQ(0, diff("union view after remount", ov, sv));
	/* And strata reads overlayfs' upper branch as overlayfs does. */
	ST_OK(umount(self->smnt));
	ASSERT_EQ(0, mount("none", self->smnt, "strata", 0,
			   st_fmt("br=%s/l0=ro:%s/l1=ro:%s/l2=ro",
				  self->o, self->o, self->o)));
	sv = tree(self->smnt, false);
	EXPECT_EQ(0, diff("strata over overlayfs' layers", ov, sv));
	free(ores);
	free(sres);
}

TEST_HARNESS_MAIN
