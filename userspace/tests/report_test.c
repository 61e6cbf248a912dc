// SPDX-License-Identifier: GPL-2.0
/*
 * report_test.c - what "strata status" and "strata monitor" print for
 * canned kernel messages: the table, the JSON, the event lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "canned.h"
#include "../report.h"
#include "../strata_nl.h"

#define NLH(buf) ((const struct nlmsghdr *)(buf))

static void load(struct strata_mount_list *l, const uint8_t *msg)
{
	char *why = NULL;

	CHECK_INT(strata_mount_parse(NLH(msg), l, &why), 0);
	CHECK_INT(strata_mount_list_finish(l, &why), 0);
}

/* Run @fn on a memory stream and return what it wrote. */
#define CAPTURE(out, stmt) do {						\
	size_t _len;							\
	FILE *f = open_memstream(&(out), &_len);			\
	CHECK(f);							\
	stmt;								\
	fclose(f);							\
} while (0)

TEST(report_status_text)
{
	struct strata_mount_list l = {};
	char *out;

	load(&l, reply_one);
	CAPTURE(out, report_mounts_text(f, &l));
	CHECK_STR(out,
		  "union 3 on /mnt/u: rw, whiteout aufs, dev 0:45, 2 branches\n"
		  "  branch  mode  fstype  path\n"
		  "  0       rw    tmpfs   /c/up\n"
		  "  1       ro    ext4    /l/1\n"
		  "  counters: lookups 12, copy-ups 2, copy-bytes 4096, whiteouts 1, branch-changes 0\n");
	free(out);
	strata_mount_list_free(&l);
}

TEST(report_status_json)
{
	struct strata_mount_list l = {};
	json_t *j, *m, *b;
	json_error_t err;
	char *out;

	load(&l, reply_one);
	CAPTURE(out, CHECK_INT(report_json_print(f, report_mounts_json(&l), false), 0));
	CHECK_STR(out,
		  "[\n"
		  "  {\n"
		  "    \"id\": 3,\n"
		  "    \"mountpoint\": \"/mnt/u\",\n"
		  "    \"dev\": \"0:45\",\n"
		  "    \"readonly\": false,\n"
		  "    \"whiteout\": \"aufs\",\n"
		  "    \"options\": \"br=/c/up=rw:/l/1=ro\",\n"
		  "    \"branches\": [\n"
		  "      {\n"
		  "        \"index\": 0,\n"
		  "        \"path\": \"/c/up\",\n"
		  "        \"mode\": \"rw\",\n"
		  "        \"fstype\": \"tmpfs\"\n"
		  "      },\n"
		  "      {\n"
		  "        \"index\": 1,\n"
		  "        \"path\": \"/l/1\",\n"
		  "        \"mode\": \"ro\",\n"
		  "        \"fstype\": \"ext4\"\n"
		  "      }\n"
		  "    ],\n"
		  "    \"counters\": {\n"
		  "      \"lookups\": 12,\n"
		  "      \"copy_ups\": 2,\n"
		  "      \"copy_bytes\": 4096,\n"
		  "      \"whiteouts\": 1,\n"
		  "      \"branch_changes\": 0\n"
		  "    }\n"
		  "  }\n"
		  "]\n");
	/* And it reads back as what it says. */
	j = json_loads(out, 0, &err);
	CHECK(j && json_is_array(j) && json_array_size(j) == 1);
	m = json_array_get(j, 0);
	CHECK_INT(json_integer_value(json_object_get(m, "id")), 3);
	b = json_array_get(json_object_get(m, "branches"), 1);
	CHECK_STR(json_string_value(json_object_get(b, "fstype")), "ext4");
	json_decref(j);
	free(out);
	strata_mount_list_free(&l);
}

TEST(report_status_empty_and_unknown)
{
	struct strata_mount_list l = {};
	char *out;

	CAPTURE(out, report_mounts_text(f, &l));
	CHECK_STR(out, "");
	free(out);
	CAPTURE(out, report_json_print(f, report_mounts_json(&l), false));
	CHECK_STR(out, "[]\n");
	free(out);

	/* From a dump: no mount point known, no options, a read-only union. */
	load(&l, reply_one);
	free(l.v[0].mountpoint);
	l.v[0].mountpoint = NULL;
	free(l.v[0].options);
	l.v[0].options = NULL;
	l.v[0].readonly = true;
	l.v[0].whiteout = STRATA_WHITEOUT_FORMAT_OVERLAY;
	CAPTURE(out, report_mounts_text(f, &l));
	CHECK_CONTAINS(out, "union 3 on ?: ro, whiteout overlay, dev 0:45, 2 branches\n");
	free(out);
	CAPTURE(out, report_json_print(f, report_mounts_json(&l), true));
	CHECK_CONTAINS(out, "{\"id\":3,\"mountpoint\":null,\"dev\":\"0:45\",\"readonly\":true,"
		       "\"whiteout\":\"overlay\",\"options\":null,");
	free(out);
	strata_mount_list_free(&l);
}

TEST(report_odd_paths)
{
	struct strata_mount_list l = {};
	char *out;
	json_t *j;

	load(&l, reply_one);
	free(l.v[0].br[1].path);
	l.v[0].br[1].path = strdup("/l/new\nline/\xff\xfe/\xc3\xa9t\xc3\xa9");
	CAPTURE(out, report_mounts_text(f, &l));
	CHECK_CONTAINS(out, "  1       ro    ext4    /l/new\\012line/\xff\xfe/\xc3\xa9t\xc3\xa9\n");
	free(out);
	/* JSON needs Unicode: invalid bytes become U+FFFD, valid ones stay. */
	j = report_mount_json(&l.v[0]);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
			json_object_get(j, "branches"), 1), "path")),
		  "/l/new\nline/\xef\xbf\xbd\xef\xbf\xbd/\xc3\xa9t\xc3\xa9");
	json_decref(j);
	strata_mount_list_free(&l);
}

TEST(report_events_text)
{
	struct strata_mount_list l = {};
	struct strata_copy_up_info ev = { 3, (char *)"/dir/file", 1234, 2500000 };
	char *out;

	load(&l, reply_one);
	CAPTURE(out, report_event_mount_text(f, &l.v[0]));
	CHECK_STR(out, "mount 3: dev 0:45, rw, whiteout aufs, br=/c/up=rw:/l/1=ro\n");
	free(out);
	free(l.v[0].options);
	l.v[0].options = NULL;
	CAPTURE(out, report_event_mount_text(f, &l.v[0]));
	CHECK_STR(out, "mount 3: dev 0:45, rw, whiteout aufs, first 2 branches: /c/up=rw /l/1=ro\n");
	free(out);
	CAPTURE(out, report_event_umount_text(f, 3));
	CHECK_STR(out, "umount 3\n");
	free(out);
	CAPTURE(out, report_event_copy_up_text(f, &ev));
	CHECK_STR(out, "copy-up 3: /dir/file, 1234 bytes, 2.500 ms\n");
	free(out);
	CAPTURE(out, report_event_module_text(f, false));
	CHECK_STR(out, "module unloaded\n");
	free(out);
	strata_mount_list_free(&l);
}

TEST(report_events_json)
{
	struct strata_copy_up_info ev;
	struct strata_mount_list l = {};
	char *why = NULL, *out;

	CHECK_INT(strata_copy_up_parse(NLH(copy_up_ntf), &ev, &why), 0);
	CAPTURE(out, report_json_print(f, report_event_copy_up_json(&ev), true));
	CHECK_STR(out, "{\"event\":\"copy-up\",\"id\":3,\"path\":\"/dir/file\","
		  "\"size\":1234,\"duration_ns\":2500000}\n");
	free(out);
	strata_copy_up_free(&ev);
	CAPTURE(out, report_json_print(f, report_event_umount_json(7), true));
	CHECK_STR(out, "{\"event\":\"umount\",\"id\":7}\n");
	free(out);
	load(&l, reply_one);
	CAPTURE(out, report_json_print(f, report_event_mount_json(&l.v[0]), true));
	CHECK(!strncmp(out, "{\"event\":\"mount\",\"id\":3,\"mountpoint\":\"/mnt/u\",", 46));
	CHECK_CONTAINS(out, "\"branches\":[{\"index\":0,\"path\":\"/c/up\",\"mode\":\"rw\",\"fstype\":\"tmpfs\"}");
	free(out);
	CAPTURE(out, report_json_print(f, report_event_module_json(true), true));
	CHECK_STR(out, "{\"event\":\"module-loaded\"}\n");
	free(out);
	strata_mount_list_free(&l);
}

TEST(report_branch_events)
{
	struct strata_branch_change_info ev;
	char *why = NULL, *out;

	CHECK_INT(strata_branch_change_parse(NLH(branch_change_ntf), &ev, &why), 0);
	CAPTURE(out, report_event_branch_text(f, &ev));
	CHECK_STR(out, "branch-add 3: index 1, ro, /l/new\n");
	free(out);
	CAPTURE(out, report_json_print(f, report_event_branch_json(&ev), true));
	CHECK_STR(out, "{\"event\":\"branch-add\",\"id\":3,\"index\":1,"
		  "\"path\":\"/l/new\",\"mode\":\"ro\"}\n");
	free(out);
	strata_branch_change_free(&ev);

	/* A newer change, no mode, a path with a newline. */
	ev = (struct strata_branch_change_info){
		.mount_id = 4, .change = 9, .index = 0, .path = (char *)"/a\nb",
	};
	CAPTURE(out, report_event_branch_text(f, &ev));
	CHECK_STR(out, "branch-? 4: index 0, ?, /a\\012b\n");
	free(out);
	CAPTURE(out, report_json_print(f, report_event_branch_json(&ev), true));
	CHECK_STR(out, "{\"event\":\"branch-?\",\"id\":4,\"index\":0,"
		  "\"path\":\"/a\\nb\",\"mode\":null}\n");
	free(out);
}
