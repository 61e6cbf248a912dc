// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes through a read-only union (design.md §3): user.* and
 * POSIX ACLs pass through, trusted.* only for CAP_SYS_ADMIN, strata's and
 * overlayfs' bookkeeping names never show, and changes fail with EROFS.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "kselftest_harness.h"
#include "strata_test.h"

FIXTURE(xa) {
	char dir[ST_PATH];
	char mnt[ST_PATH];
	char **l;
	bool user_ok;
};

FIXTURE_VARIANT(xa) {
	const char *fs;
};

ST_FS_VARIANTS(xa);

static int setx(const char *path, const char *name, const char *val)
{
	return setxattr(path, name, val, strlen(val), 0);
}

FIXTURE_SETUP(xa)
{
	const char *f;

	ST_PREPARE(variant->fs, "xattr", self->dir);
	self->l = st_make_layers(self->dir, 2);
	ASSERT_NE(NULL, self->l);
	strcpy(self->mnt, st_fmt("%s/mnt", self->dir));
	ST_OK(st_mkdirs(self->mnt));
	/* tmpfs before 6.6 has no user.* xattrs */
	self->user_ok = st_user_xattr_ok(self->dir);
	f = strdup(st_fmt("%s/f", self->l[1]));
	ST_OK(st_put(f, "data"));
	ST_OK(setx(f, "trusted.t", "T"));
	ST_OK(setx(f, "trusted.overlay.foo", "x"));
	ST_OK(setx(f, "trusted.strata.foo", "x"));
	ST_OK(st_mkdirs(st_fmt("%s/d", self->l[0])));
	ST_OK(st_mkdirs(st_fmt("%s/d", self->l[1])));
	if (self->user_ok) {
		ST_OK(setx(f, "user.a", "1"));
		ST_OK(setx(f, "user.b", "two"));
		ST_OK(setx(f, "user.overlay.foo", "x"));
		ST_OK(setx(st_fmt("%s/d", self->l[0]), "user.top", "0"));
		ST_OK(setx(st_fmt("%s/d", self->l[1]), "user.low", "1"));
	}
}

ST_TEARDOWN(xa)

#define U(rel) st_fmt("%s/%s", self->mnt, rel)

#define MOUNT()								\
	ASSERT_EQ(0, st_mount_union(self->mnt, self->l, 2, "ro", NULL))	\
		TH_LOG("mount: %s", strerror(errno))

static bool listed(const char *list, ssize_t len, const char *name)
{
	ssize_t i;

	for (i = 0; i < len; i += strlen(list + i) + 1)
		if (!strcmp(list + i, name))
			return true;
	return false;
}

TEST_F(xa, user_get)
{
	char buf[64];

	if (!self->user_ok)
		SKIP(return, "%s has no user xattrs", variant->fs);
	MOUNT();
	ASSERT_EQ(1, getxattr(U("f"), "user.a", buf, sizeof(buf)));
	EXPECT_EQ('1', buf[0]);
	EXPECT_EQ(3, getxattr(U("f"), "user.b", NULL, 0));
	EXPECT_EQ(-1, getxattr(U("f"), "user.b", buf, 2));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, getxattr(U("f"), "user.nope", buf, sizeof(buf)));
	EXPECT_EQ(ENODATA, errno);
	/* A merged directory shows its topmost directory's xattrs. */
	ASSERT_EQ(1, getxattr(U("d"), "user.top", buf, sizeof(buf)));
	EXPECT_EQ('0', buf[0]);
}

TEST_F(xa, list_hides_bookkeeping)
{
	char list[4096];
	ssize_t len, need;

	MOUNT();
	need = listxattr(U("f"), NULL, 0);
	len = listxattr(U("f"), list, sizeof(list));
	ASSERT_LT(0, len) TH_LOG("listxattr: %s", strerror(errno));
	EXPECT_LE(len, need);
	EXPECT_TRUE(listed(list, len, "trusted.t"));
	EXPECT_FALSE(listed(list, len, "trusted.overlay.foo"));
	EXPECT_FALSE(listed(list, len, "trusted.strata.foo"));
	if (self->user_ok) {
		EXPECT_TRUE(listed(list, len, "user.a"));
		EXPECT_TRUE(listed(list, len, "user.b"));
		EXPECT_FALSE(listed(list, len, "user.overlay.foo"));
	}
	/* Not readable by name either. */
	EXPECT_GT(0, getxattr(U("f"), "trusted.overlay.foo", list, sizeof(list)));
	EXPECT_GT(0, getxattr(U("f"), "trusted.strata.foo", list, sizeof(list)));
	EXPECT_EQ(1, getxattr(U("f"), "trusted.t", list, sizeof(list)));
}

/* The opaque marker of a directory is bookkeeping too. */
TEST_F(xa, opaque_xattr_hidden)
{
	char list[4096];
	ssize_t len;

	ASSERT_EQ(0, st_opq_xattr(st_fmt("%s/d", self->l[0]), "trusted"));
	MOUNT();
	len = listxattr(U("d"), list, sizeof(list));
	ASSERT_LE(0, len);
	EXPECT_FALSE(listed(list, len, "trusted.overlay.opaque"));
}

/* Bit 0: trusted.t listed; 1: user.a listed; 2: trusted.t readable. */
static int unpriv_view(void *arg)
{
	const char *path = arg;
	char list[4096];
	ssize_t len = listxattr(path, list, sizeof(list));
	int r = 0;

	if (len < 0)
		return 128;
	if (listed(list, len, "trusted.t"))
		r |= 1;
	if (listed(list, len, "user.a"))
		r |= 2;
	if (getxattr(path, "trusted.t", list, sizeof(list)) >= 0)
		r |= 4;
	else if (errno != ENODATA)
		r |= 8;
	return r;
}

TEST_F(xa, trusted_needs_cap_sys_admin)
{
	char *real = strdup(st_fmt("%s/f", self->l[1]));
	char *uni;
	int want;

	MOUNT();
	uni = strdup(U("f"));
	want = self->user_ok ? 2 : 0;
	/* btrfs lists trusted.* to anybody; the union must not. */
	EXPECT_EQ(want, st_run_as(ST_NOBODY, unpriv_view, uni))
		TH_LOG("the branch shows %d", st_run_as(ST_NOBODY, unpriv_view, real));
	EXPECT_EQ(5, unpriv_view(uni) & 5);
}

TEST_F(xa, changes_fail_erofs)
{
	MOUNT();
	EXPECT_EQ(-1, setx(U("f"), "user.new", "1"));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, setx(U("f"), "trusted.new", "1"));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, removexattr(U("f"), "trusted.t"));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, setx(U("d"), "user.new", "1"));
	EXPECT_EQ(EROFS, errno);
	if (self->user_ok) {
		EXPECT_EQ(-1, removexattr(U("f"), "user.a"));
		EXPECT_EQ(EROFS, errno);
	}
}

/* POSIX ACL xattr: version 2 header, then { tag, perm, id } entries. */
struct acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};

static int set_acl_read_for(const char *path, uint32_t uid)
{
	struct {
		uint32_t version;
		struct acl_entry e[5];
	} acl = { 2, {
		{ 0x01, 6, (uint32_t)-1 },	/* user:: rw */
		{ 0x02, 4, uid },		/* user:uid: r */
		{ 0x04, 0, (uint32_t)-1 },	/* group:: - */
		{ 0x10, 4, (uint32_t)-1 },	/* mask:: r */
		{ 0x20, 0, (uint32_t)-1 },	/* other:: - */
	} };

	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0);
}

static int unpriv_read(void *arg)
{
	int fd = open(arg, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

TEST_F(xa, posix_acl)
{
	char *real = strdup(st_fmt("%s/acl", self->l[1]));
	char a[256], b[256];
	ssize_t la, lb;
	char *uni;

	ASSERT_EQ(0, st_put_mode(real, "secret", 0600));
	ASSERT_EQ(0, st_put_mode(st_fmt("%s/noacl", self->l[1]), "secret", 0600));
	if (set_acl_read_for(real, ST_NOBODY))
		SKIP(return, "no POSIX ACLs on %s: %s", variant->fs, strerror(errno));
	ASSERT_EQ(0, st_run_as(ST_NOBODY, unpriv_read, real));
	MOUNT();
	uni = strdup(U("acl"));
	la = getxattr(real, "system.posix_acl_access", a, sizeof(a));
	lb = getxattr(uni, "system.posix_acl_access", b, sizeof(b));
	ASSERT_LT(0, la);
	ASSERT_EQ(la, lb) TH_LOG("union: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(a, b, la));
	/* The ACL, not only the mode, decides access through the union. */
	EXPECT_EQ(0, st_run_as(ST_NOBODY, unpriv_read, uni));
	EXPECT_EQ(EACCES, st_run_as(ST_NOBODY, unpriv_read, strdup(U("noacl"))));
}

TEST_HARNESS_MAIN
