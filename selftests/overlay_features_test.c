// SPDX-License-Identifier: GPL-2.0
/*
 * strata by default against overlayfs with redirect_dir=on,index=on,
 * metacopy=on (issue 5): two copies of the same lower layers (overlay
 * whiteout format), one mounted by each, run the same scenario: renames
 * of a lower-only, a merged and nested directories; chmod/chown of a
 * 16 MiB lower file, then a write to it; chmod of one name of a lower
 * hard link, then a write through the other; st_ino across copy-up; a
 * remount.  The call results and the union views (names, types, modes,
 * owners, sizes, contents, file link counts) must be identical, and each
 * union must keep st_ino and hard links.  What each writes into its upper
 * differs by design and is checked as such: overlay's trusted.overlay.*
 * records and workdir/index, strata's trusted.strata.* records and
 * .wh..wh.index.  Last, each upper is read as a plain layer (as an OCI
 * consumer would) and handed to the helper's "layer create".  The
 * numbers go to the log with ksft_print_msg(); the differences are
 * described in Documentation/overlay-comparison.rst.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"

#define MiB (1 << 20)
#define BIG (16 * MiB)
#define OVL_OPTS "redirect_dir=on,index=on,metacopy=on"

/* Layer 1 above layer 2; the upper branches (l0) start empty. */
static const char *const spec[] = {
	"2:f:lo/a=lo-a", "2:f:lo/sub/b=lo-b",			/* lower-only dir */
	"1:f:mg/x=x1", "2:f:mg/y=y2", "2:f:mg/deep/z=z2",	/* merged dir */
	"2:f:p/q/r/f=pqr", "1:f:p/q/g=g1", "2:f:p/top=ptop",	/* nesting */
	"1:f:h1=hard", "1:h:hd/h2=h1",				/* lower hard link */
	"2:f:inof=ino", "2:f:old=old", "1:W:old",
	NULL
};

FIXTURE(ovf) {
	char dir[ST_PATH];
	char o[ST_PATH], s[ST_PATH];		/* the two layer sets */
	char omnt[ST_PATH], smnt[ST_PATH];
};

FIXTURE_VARIANT(ovf) {
	const char *fs;
};

ST_FS_VARIANTS(ovf);

FIXTURE_SETUP(ovf)
{
	ST_PREPARE(variant->fs, "ovf", self->dir);
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
	ST_OK(st_mkdirs(st_fmt("%s/w", self->o)));
	ST_OK(st_mkdirs(self->omnt));
	ST_OK(st_mkdirs(self->smnt));
}

ST_TEARDOWN(ovf);

static int build(const char *set)
{
	return st_build(set, spec) ?:
	       st_put_pattern(st_fmt("%s/l2/big", set), BIG, 1) ?:
	       st_put_pattern(st_fmt("%s/l2/meta", set), MiB, 2);
}

static int mount_ovl(const char *o, const char *mnt, const char *lowerset)
{
	return mount("overlay", mnt, "overlay", 0,
		     st_fmt("lowerdir=%s/l1:%s/l2,upperdir=%s/l0,workdir=%s/w,"
			    OVL_OPTS, lowerset, lowerset, o, o));
}

static int mount_strata(const char *s, const char *mnt, const char *lowerset)
{
	char *low[2];
	int ret;

	low[0] = strdup(st_fmt("%s/l1", lowerset));
	low[1] = strdup(st_fmt("%s/l2", lowerset));
	ret = st_mount_rw(mnt, st_fmt("%s/l0", s), low, 2, NULL);
	free(low[0]);
	free(low[1]);
	return ret;
}

/* Bytes allocated to a real file (shared extents count too). */
static long long blocks_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long long)st.st_blocks * 512;
}

/* Bytes in use on the filesystem of @path, after flushing it. */
static long long fs_used(const char *path)
{
	struct statvfs sv;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	syncfs(fd);
	close(fd);
	if (statvfs(path, &sv))
		return -1;
	return (long long)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static nlink_t nlink_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_nlink;
}

/* An xattr of a branch entry as text ("<ENODATA>" when absent). */
static const char *xattr_str(const char *path, const char *name)
{
	char v[512];
	ssize_t n = lgetxattr(path, name, v, sizeof(v) - 1);

	if (n < 0)
		return st_fmt("<%s>", strerrorname_np(errno));
	v[n] = 0;
	return st_fmt("%s", v);
}

static bool has_xattr(const char *path, const char *name)
{
	return lgetxattr(path, name, NULL, 0) >= 0;
}

static int entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* What one union did and showed; the same scenario runs on both. */
struct meas {
	char *calls;			/* "call: 0" or ": ENAME" lines */
	ino_t ino_before, ino_after;	/* inof, around its copy-up */
	ino_t h1_before, h1, h2;	/* the lower hard link */
	nlink_t n1, n2;
	long long up_chmod, used_chmod;	/* upper big: blocks, fs delta */
	long long up_write, used_write;
	long long union_blocks;		/* st_blocks of big in the union */
	char *h1_data;			/* h1 after the write through hd/h2 */
};

static void call(FILE *f, const char *what, int r)
{
	fprintf(f, "%s: %s\n", what, r ? strerrorname_np(errno) : "0");
}

static void scenario(const char *mnt, const char *upper, struct meas *m)
{
	size_t len = 0;
	FILE *f = open_memstream(&m->calls, &len);
	long long used;
	int fd;

#define U(rel) st_fmt("%s/%s", mnt, rel)
	m->ino_before = ino_of(U("inof"));
	m->h1_before = ino_of(U("h1"));

	/* 1. Directory renames: lower-only, merged, nested, out of one. */
	call(f, "rename lo lo2", rename(U("lo"), U("lo2")));
	call(f, "rename mg mg2", rename(U("mg"), U("mg2")));
	call(f, "rename p/q p/q2", rename(U("p/q"), U("p/q2")));
	call(f, "rename p p2", rename(U("p"), U("p2")));
	call(f, "rename p2/q2/r rr", rename(U("p2/q2/r"), U("rr")));
	call(f, "create mg2/new", st_put(U("mg2/new"), "new"));

	/* 2. Attribute changes of a 16 MiB lower file copy no data. */
	used = fs_used(upper);
	call(f, "chmod big", chmod(U("big"), 0600));
	call(f, "chown big", chown(U("big"), 1000, 1000));
	m->used_chmod = fs_used(upper) - used;
	m->up_chmod = blocks_of(st_fmt("%s/big", upper));
	/* meta stays metadata-only to the end, moved to another dir. */
	call(f, "chmod meta", chmod(U("meta"), 0640));
	call(f, "rename meta p2/meta", rename(U("meta"), U("p2/meta")));

	/* 4. st_ino across a copy-up. */
	call(f, "chmod inof", chmod(U("inof"), 0640));
	m->ino_after = ino_of(U("inof"));

	/* 3. One name of a lower hard link copied up, the other written. */
	call(f, "chmod h1", chmod(U("h1"), 0600));
	m->h1 = ino_of(U("h1"));
	m->h2 = ino_of(U("hd/h2"));
	m->n1 = nlink_of(U("h1"));
	m->n2 = nlink_of(U("hd/h2"));
	fd = open(U("hd/h2"), O_WRONLY | O_APPEND);
	call(f, "append hd/h2", fd < 0 ? -1 : write(fd, "+", 1) == 1 ? 0 : -1);
	if (fd >= 0)
		close(fd);
	m->h1_data = strdup(st_cat(U("h1")));

	/* 2. The first write copies the data. */
	used = fs_used(upper);
	fd = open(U("big"), O_WRONLY);
	call(f, "write big", fd < 0 ? -1 : pwrite(fd, "DATA", 4, MiB) == 4 ? 0 : -1);
	if (fd >= 0)
		close(fd);
	m->used_write = fs_used(upper) - used;
	m->up_write = blocks_of(st_fmt("%s/big", upper));
	m->union_blocks = blocks_of(U("big"));
#undef U
	fclose(f);
}

/*
 * A union view as text: names, types, modes, owners; files with link
 * count, size and a content hash; symlink targets.  Inode numbers and
 * directory link counts differ between any two unions and are checked
 * separately.
 */
static bool view_line(FILE *out, const char *rel, const char *path,
		      const struct stat *st, void *arg)
{
	(void)arg;
	st_print_object(out, rel, path, st, path);
	fputc('\n', out);
	return true;
}

static char *tree(const char *root)
{
	return st_walk(root, view_line, NULL);
}

/*
 * The lines only @a or only @b has, each prefixed with "-" (only a) or
 * "+" (only b), as text; "" when equal.  Printed with @what.
 */
static char *delta(const char *what, const char *a, const char *b)
{
	char *buf = st_lines_delta(a, b);

	if (*buf) {
		const char *p = buf, *nl;

		/* One "# " line each, so that TAP readers keep them. */
		ksft_print_msg("%s:\n", what);
		for (; (nl = strchr(p, '\n')); p = nl + 1)
			ksft_print_msg("  %.*s\n", (int)(nl - p), p);
	}
	return buf;
}

static void print_meas(const char *who, const struct meas *m)
{
	ksft_print_msg("%s: big (16 MiB) after chmod+chown: upper file %lld bytes, "
		       "upper fs +%lld bytes; after a 4-byte write: upper file "
		       "%lld bytes, upper fs +%lld bytes; union st_blocks %lld bytes\n",
		       who, m->up_chmod, m->used_chmod, m->up_write, m->used_write,
		       m->union_blocks);
	ksft_print_msg("%s: inof st_ino %lu before copy-up, %lu after; h1/hd/h2 "
		       "st_ino %lu/%lu (before %lu) nlink %lu/%lu\n", who,
		       (unsigned long)m->ino_before, (unsigned long)m->ino_after,
		       (unsigned long)m->h1, (unsigned long)m->h2,
		       (unsigned long)m->h1_before, (unsigned long)m->n1,
		       (unsigned long)m->n2);
}

/* What every union must get right by itself (item 1-4 of the issue). */
static void check_meas(struct __test_metadata *_metadata, const char *who,
		       const struct meas *m)
{
	EXPECT_EQ(NULL, strstr(m->calls, "EXDEV")) TH_LOG("%s:\n%s", who, m->calls);
	EXPECT_EQ(NULL, strstr(m->calls, ": E")) TH_LOG("%s:\n%s", who, m->calls);
	/* No data: at most metadata blocks (an xattr block, a btree node). */
	EXPECT_GE(64 * 1024, m->up_chmod) TH_LOG("%s", who);
	EXPECT_GE(1 * MiB, m->used_chmod) TH_LOG("%s", who);
	EXPECT_LE(BIG, m->up_write) TH_LOG("%s", who);
	EXPECT_LE(BIG, m->union_blocks) TH_LOG("%s", who);
	EXPECT_NE(0, m->ino_before);
	EXPECT_EQ(m->ino_before, m->ino_after) TH_LOG("%s", who);
	EXPECT_EQ(m->h1_before, m->h1) TH_LOG("%s", who);
	EXPECT_EQ(m->h1, m->h2) TH_LOG("%s", who);
	EXPECT_EQ(2, m->n1) TH_LOG("%s", who);
	EXPECT_EQ(2, m->n2) TH_LOG("%s", who);
	EXPECT_STREQ("hard+", m->h1_data) TH_LOG("%s", who);
}

/* st_ino and the hard link after a remount, in one union. */
static void check_after_remount(struct __test_metadata *_metadata,
				const char *who, const char *mnt,
				const struct meas *m)
{
	EXPECT_EQ(m->ino_before, ino_of(st_fmt("%s/inof", mnt))) TH_LOG("%s", who);
	EXPECT_EQ(m->h1, ino_of(st_fmt("%s/h1", mnt))) TH_LOG("%s", who);
	EXPECT_EQ(m->h1, ino_of(st_fmt("%s/hd/h2", mnt))) TH_LOG("%s", who);
	EXPECT_EQ(2, nlink_of(st_fmt("%s/hd/h2", mnt))) TH_LOG("%s", who);
	EXPECT_STREQ("hard+", st_cat(st_fmt("%s/hd/h2", mnt))) TH_LOG("%s", who);
}

/* Run the helper with @args; its exit status, its stderr in @err. */
static int helper(const char *store, const char *errfile, char *const *args,
		  char **err)
{
	int st;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || !freopen("/dev/null", "w", stdout))
			_exit(127);
		setenv("STRATA_ROOT", store, 1);
		execv(args[0], args);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	*err = st_slurp(errfile, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *helper_path(void)
{
	static const char *const cand[] = { "/strata/bin/strata",
					    "../build/userspace/strata" };
	const char *env = getenv("STRATA");
	unsigned int i;

	if (env && !access(env, X_OK))
		return env;
	for (i = 0; i < ARRAY_SIZE(cand); i++)
		if (!access(cand[i], X_OK))
			return cand[i];
	return NULL;
}

TEST_F_TIMEOUT(ovf, same_scenario, 600)
{
	char *ov, *sv, *d, *opts, *oplain, *splain, *err = NULL;
	struct meas om = {}, sm = {};
	const char *ou = strdup(st_fmt("%s/l0", self->o));
	const char *su = strdup(st_fmt("%s/l0", self->s));
	const char *hp;
	int r;

	ST_OK(build(self->o));
	ST_OK(build(self->s));

	if (mount_ovl(self->o, self->omnt, self->o))
		SKIP(return, "overlayfs refuses " OVL_OPTS " on %s: %s",
		     variant->fs, strerror(errno));
	/* overlayfs may fall back to index=off with only a kernel message. */
	opts = st_mountinfo(self->omnt, NULL, 0);
	ASSERT_NE(NULL, opts);
	if (!strstr(opts, "index=on") || !strstr(opts, "metacopy=on") ||
	    !strstr(opts, "redirect_dir=on"))
		SKIP(return, "overlayfs on %s mounted without its features: %s",
		     variant->fs, opts);
	ksft_print_msg("overlay options: %s\n", opts);
	free(opts);
	ASSERT_EQ(0, mount_strata(self->s, self->smnt, self->s))
		TH_LOG("strata: %s", strerror(errno));

	/* The two start equal (the comparison's own baseline). */
	EXPECT_STREQ("", delta("views before", tree(self->omnt), tree(self->smnt)));

	scenario(self->omnt, ou, &om);
	scenario(self->smnt, su, &sm);
	print_meas("overlay", &om);
	print_meas("strata", &sm);
	EXPECT_STREQ(om.calls, sm.calls);
	check_meas(_metadata, "overlay", &om);
	check_meas(_metadata, "strata", &sm);

	ov = tree(self->omnt);
	sv = tree(self->smnt);
	EXPECT_STREQ("", delta("views after the scenario (-overlay +strata)", ov, sv));
	/* The renamed directories took their lower contents along. */
	EXPECT_NE(NULL, strstr(sv, "\n/lo2/sub/b f 644 0:0 nlink=1 size=4 "));
	EXPECT_NE(NULL, strstr(sv, "\n/mg2/deep/z f "));
	EXPECT_NE(NULL, strstr(sv, "\n/rr/f f "));
	EXPECT_NE(NULL, strstr(sv, "\n/p2/q2/g f "));
	EXPECT_EQ(NULL, strstr(sv, "\n/p2/q2/r"));
	EXPECT_NE(NULL, strstr(sv, "/big f 600 1000:1000 nlink=1 size=16777216 "));

	/*
	 * By design, each records the same facts in its own format.
	 * Redirects: overlay's is relative for a rename within one
	 * directory and absolute across directories; strata's always
	 * absolute, and a moved directory keeps its first one.
	 */
	ksft_print_msg("redirects overlay: lo2=%s mg2=%s p2=%s p2/q2=%s rr=%s\n",
		       xattr_str(st_fmt("%s/lo2", ou), "trusted.overlay.redirect"),
		       xattr_str(st_fmt("%s/mg2", ou), "trusted.overlay.redirect"),
		       xattr_str(st_fmt("%s/p2", ou), "trusted.overlay.redirect"),
		       xattr_str(st_fmt("%s/p2/q2", ou), "trusted.overlay.redirect"),
		       xattr_str(st_fmt("%s/rr", ou), "trusted.overlay.redirect"));
	ksft_print_msg("redirects strata: lo2=%s mg2=%s p2=%s p2/q2=%s rr=%s\n",
		       xattr_str(st_fmt("%s/lo2", su), "trusted.strata.redirect"),
		       xattr_str(st_fmt("%s/mg2", su), "trusted.strata.redirect"),
		       xattr_str(st_fmt("%s/p2", su), "trusted.strata.redirect"),
		       xattr_str(st_fmt("%s/p2/q2", su), "trusted.strata.redirect"),
		       xattr_str(st_fmt("%s/rr", su), "trusted.strata.redirect"));
	EXPECT_STREQ("lo", xattr_str(st_fmt("%s/lo2", ou), "trusted.overlay.redirect"));
	EXPECT_STREQ("/p/q/r", xattr_str(st_fmt("%s/rr", ou), "trusted.overlay.redirect"));
	EXPECT_STREQ("/lo", xattr_str(st_fmt("%s/lo2", su), "trusted.strata.redirect"));
	EXPECT_STREQ("/mg", xattr_str(st_fmt("%s/mg2", su), "trusted.strata.redirect"));
	EXPECT_STREQ("/p/q", xattr_str(st_fmt("%s/p2/q2", su), "trusted.strata.redirect"));
	EXPECT_STREQ("/p/q/r", xattr_str(st_fmt("%s/rr", su), "trusted.strata.redirect"));
	/* Metadata-only copies, and neither writes the other's records. */
	EXPECT_TRUE(has_xattr(st_fmt("%s/p2/meta", ou), "trusted.overlay.metacopy"));
	EXPECT_TRUE(has_xattr(st_fmt("%s/p2/meta", su), "trusted.strata.metacopy"));
	EXPECT_FALSE(has_xattr(st_fmt("%s/big", ou), "trusted.overlay.metacopy"));
	EXPECT_FALSE(has_xattr(st_fmt("%s/big", su), "trusted.strata.metacopy"));
	EXPECT_FALSE(has_xattr(st_fmt("%s/lo2", su), "trusted.overlay.redirect"));
	EXPECT_FALSE(has_xattr(st_fmt("%s/lo2", ou), "trusted.strata.redirect"));
	ksft_print_msg("meta (1 MiB, chmod then moved to p2/): overlay upper %lld "
		       "bytes, redirect %s; strata upper %lld bytes\n",
		       blocks_of(st_fmt("%s/p2/meta", ou)),
		       xattr_str(st_fmt("%s/p2/meta", ou), "trusted.overlay.redirect"),
		       blocks_of(st_fmt("%s/p2/meta", su)));
	/* Inode numbers: overlay keeps a file handle, strata the number. */
	EXPECT_TRUE(has_xattr(st_fmt("%s/inof", ou), "trusted.overlay.origin"));
	{
		unsigned char v[8] = {};
		unsigned long long n = 0;
		int i;

		EXPECT_EQ(8, lgetxattr(st_fmt("%s/inof", su), "trusted.strata.ino",
				       v, sizeof(v)));
		for (i = 7; i >= 0; i--)
			n = n << 8 | v[i];
		EXPECT_EQ((unsigned long long)sm.ino_after, n);
	}
	/* One index entry each for the one lower hard link. */
	EXPECT_EQ(1, entries(st_fmt("%s/w/index", self->o)));
	EXPECT_EQ(1, entries(st_fmt("%s/.wh..wh.index", su)));
	EXPECT_EQ(-1, entries(st_fmt("%s/.wh..wh.index", ou)));

	/* Remounted, both still show the same and keep st_ino and links. */
	ST_OK(umount(self->omnt));
	ST_OK(umount(self->smnt));
	ASSERT_EQ(0, mount_ovl(self->o, self->omnt, self->o))
		TH_LOG("overlay remount: %s", strerror(errno));
	ASSERT_EQ(0, mount_strata(self->s, self->smnt, self->s))
		TH_LOG("strata remount: %s", strerror(errno));
	check_after_remount(_metadata, "overlay", self->omnt, &om);
	check_after_remount(_metadata, "strata", self->smnt, &sm);
	EXPECT_STREQ("", delta("overlay across remount", ov, tree(self->omnt)));
	EXPECT_STREQ("", delta("strata across remount", sv, tree(self->smnt)));
	ST_OK(umount(self->omnt));
	ST_OK(umount(self->smnt));

	/*
	 * By design: overlay's index ties its upper to the lower layers'
	 * file handles, so the upper over copies of its layers is refused;
	 * strata's records name paths, so its upper works over copies.
	 */
	errno = 0;
	r = mount_ovl(self->o, self->omnt, self->s);
	ksft_print_msg("overlay upper over copies of its lower layers: %s\n",
		       r ? strerrorname_np(errno) : "mounted");
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ESTALE, errno);
	if (!r)
		umount(self->omnt);

	/*
	 * Each upper read as a plain layer, as an OCI consumer would: strata
	 * mounts it ro, where overlay's records mean nothing and its own
	 * are honoured only in rw branches.  Both lose the same: renamed
	 * directories' lower contents, and the data of metadata-only copies.
	 */
	{
		char *low[3] = { strdup(ou), strdup(st_fmt("%s/l1", self->o)),
				 strdup(st_fmt("%s/l2", self->o)) };

		ASSERT_EQ(0, st_mount_union(self->omnt, low, 3, "ro", NULL));
		oplain = delta("overlay's upper as a plain layer (-view +plain)",
			       ov, tree(self->omnt));
		ST_OK(umount(self->omnt));
		free(low[0]);
		low[0] = strdup(su);
		free(low[1]);
		low[1] = strdup(st_fmt("%s/l1", self->s));
		free(low[2]);
		low[2] = strdup(st_fmt("%s/l2", self->s));
		ASSERT_EQ(0, st_mount_union(self->smnt, low, 3, "ro", NULL));
		splain = delta("strata's upper as a plain layer (-view +plain)",
			       sv, tree(self->smnt));
		ST_OK(umount(self->smnt));
	}
	EXPECT_STREQ(oplain, splain);
	EXPECT_NE(NULL, strstr(oplain, "-/lo2/sub/b f "));
	EXPECT_NE(NULL, strstr(oplain, "-/p2/meta f 640 0:0 nlink=1 size=1048576 "));

	/* strata's upper over copies of its lower layers. */
	ASSERT_EQ(0, mount_strata(self->s, self->smnt, self->o))
		TH_LOG("strata over copies: %s", strerror(errno));
	d = delta("strata's upper over copies of its layers", sv, tree(self->smnt));
	EXPECT_STREQ("", d);
	ST_OK(umount(self->smnt));

	/*
	 * The helper's exporter: an upper with strata's records cannot be
	 * exported unmounted (it says so); overlay's upper converts without
	 * a word, losing what the plain reading above lost.
	 */
	hp = helper_path();
	if (!hp) {
		ksft_print_msg("strata helper not found: layer create not checked\n");
		return;
	}
	{
		const char *store = strdup(st_fmt("%s/store", self->dir));
		const char *errf = strdup(st_fmt("%s/helper.err", self->dir));
		char *a1[] = { (char *)hp, "layer", "create", (char *)su, NULL };
		char *a2[] = { (char *)hp, "layer", "create", (char *)ou, NULL };

		r = helper(store, errf, a1, &err);
		ksft_print_msg("strata layer create <strata upper>: exit %d: %s",
			       r, err ? err : "\n");
		EXPECT_NE(0, r);
		EXPECT_NE(NULL, err ? strstr(err, "mount the container to export it") : NULL);
		free(err);
		r = helper(store, errf, a2, &err);
		ksft_print_msg("strata layer create <overlay upper>: exit %d: %s",
			       r, err && *err ? err : "\n");
		EXPECT_EQ(0, r);
		free(err);
	}
}

/*
 * Option rules, by design: overlayfs refuses metacopy with userxattr and
 * without redirect_dir; strata has no options and, with userxattr, keeps
 * its records in user.strata.* where the branch allows user xattrs.
 */
TEST_F(ovf, option_rules)
{
	static const char *const bad[] = {
		"userxattr,metacopy=on", "redirect_dir=off,metacopy=on",
		"userxattr,redirect_dir=on", "userxattr,index=on",
	};
	const char *base = st_fmt("lowerdir=%s/l1,upperdir=%s/l0,workdir=%s/w",
				  self->o, self->o, self->o);
	char *low[1] = { strdup(st_fmt("%s/l1", self->s)) };
	unsigned int i;
	long long up;
	bool userx;
	int r;

	base = strdup(base);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		r = mount("overlay", self->omnt, "overlay", 0,
			  st_fmt("%s,%s", base, bad[i]));
		ksft_print_msg("overlay %s: %s\n", bad[i],
			       r ? strerrorname_np(errno) : "mounted");
		if (!r)
			umount(self->omnt);
		/* The two the brief and overlayfs.rst name must be refused. */
		if (i < 2) {
			EXPECT_EQ(-1, r) TH_LOG("%s", bad[i]);
		}
	}

	ST_OK(st_put_pattern(st_fmt("%s/l1/f", self->s), MiB, 3));
	userx = st_user_xattr_ok(st_fmt("%s/l0", self->s));
	ASSERT_EQ(0, st_mount_rw(self->smnt, st_fmt("%s/l0", self->s), low, 1,
				 "userxattr"));
	ST_OK(chmod(st_fmt("%s/f", self->smnt), 0600));
	up = blocks_of(st_fmt("%s/l0/f", self->s));
	ksft_print_msg("strata userxattr, chmod of 1 MiB on %s: upper %lld bytes, "
		       "user xattrs %s, record %s\n", variant->fs, up,
		       userx ? "supported" : "not supported",
		       has_xattr(st_fmt("%s/l0/f", self->s), "user.strata.metacopy") ?
		       "user.strata.metacopy" : "none");
	if (userx) {
		EXPECT_GE(64 * 1024, up);
	} else {
		EXPECT_LE(MiB, up);	/* falls back to full copies */
	}
	ST_OK(umount(self->smnt));
}

TEST_HARNESS_MAIN
