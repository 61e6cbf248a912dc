// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_test.c - /proc/filesystems parsing.
 */
#include "test.h"
#include "../kmod.h"

TEST(fs_list_has)
{
	const char *text = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\tstrata\n";

	CHECK_INT(fs_list_has(text, "strata"), 1);
	CHECK_INT(fs_list_has(text, "ext4"), 1);
	CHECK_INT(fs_list_has(text, "tmpfs"), 1);
	CHECK_INT(fs_list_has(text, "strat"), 0);
	CHECK_INT(fs_list_has(text, "nodev"), 0);
	CHECK_INT(fs_list_has("nodev\tstratafs\n", "strata"), 0);
	CHECK_INT(fs_list_has("", "strata"), 0);
	CHECK_INT(fs_list_has("nodev\tstrata", "strata"), 1);
}

TEST(fs_is_registered_proc)
{
	/* every Linux system running these tests has proc itself listed */
	CHECK_INT(fs_is_registered("proc"), 1);
	CHECK_INT(fs_is_registered("no-such-filesystem"), 0);
}
