// SPDX-License-Identifier: GPL-2.0
/*
 * mountinfo_test.c - finding a union's mount point by device number in a
 * canned /proc/self/mountinfo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "../mountinfo.h"

static const char canned_mountinfo[] =
	"22 1 0:21 / / rw,relatime shared:1 - tmpfs rootfs rw\n"
	"30 22 8:1 / /mnt/ext4 rw,relatime shared:2 - ext4 /dev/vda rw\n"
	/* a bind mount of a subdirectory of union 0:45, listed first */
	"41 22 0:45 /sub /srv/bind rw,relatime shared:9 - strata none rw,br=/a=ro\n"
	/* the union itself, on a path with a space and a tab */
	"40 22 0:45 / /mnt/my\\040union\\011x rw,relatime shared:8 - strata none rw,br=/a=ro\n"
	/* same minor, other major; and a longer minor with the same prefix */
	"42 22 1:45 / /mnt/other rw - strata none rw,br=/b=ro\n"
	"43 22 0:456 / /mnt/longer rw - strata none rw,br=/c=ro\n"
	/* optional fields and a backslash in the path */
	"44 22 0:46 / /mnt/back\\134slash rw master:3 shared:4 - strata none rw,br=/d=ro\n"
	/* only a bind mount of 0:47 exists */
	"45 22 0:47 /deep/dir /mnt/partial rw - strata none rw,br=/e=ro\n"
	/* a garbled line is skipped */
	"46 22 zz / /mnt/bad rw - strata none rw\n";

static char *find(unsigned int ma, unsigned int mi)
{
	FILE *f = fmemopen((void *)canned_mountinfo, sizeof(canned_mountinfo) - 1, "r");
	char *p;

	CHECK(f);
	p = mountinfo_find_dev(f, ma, mi);
	fclose(f);
	return p;
}

TEST(mountinfo_by_dev)
{
	CHECK_STR(find(0, 45), "/mnt/my union\tx");
	CHECK_STR(find(1, 45), "/mnt/other");
	CHECK_STR(find(0, 456), "/mnt/longer");
	CHECK_STR(find(0, 46), "/mnt/back\\slash");
	CHECK_STR(find(8, 1), "/mnt/ext4");
}

TEST(mountinfo_bind_mount_only)
{
	/* No line mounts the whole filesystem: the first part mounted will do. */
	CHECK_STR(find(0, 47), "/mnt/partial");
}

TEST(mountinfo_not_found)
{
	errno = 0;
	CHECK(!find(0, 99));
	CHECK_INT(errno, ENOENT);
	CHECK(!find(0, 4));
}

TEST(mountinfo_unescape)
{
	char s[] = "a\\040b\\134c\\012d\\999e\\04";

	mountinfo_unescape(s);
	CHECK_STR(s, "a b\\c\nd\\999e\\04");
}

TEST(mountinfo_self)
{
	char *p = mountinfo_lookup(0, 0xfffff);

	/* No such device here; the real file must at least be readable. */
	CHECK(!p);
	CHECK_INT(errno, ENOENT);
}
