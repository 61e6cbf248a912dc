/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - what status and monitor print: unions and events as text
 * for people and as JSON for programs.  The formats are documented in
 * Documentation/helper.rst.
 */
#ifndef STRATA_REPORT_H
#define STRATA_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "strata_nl.h"

/* One block per union: head line, branch table, counters. */
void report_mounts_text(FILE *out, const struct strata_mount_list *l);
/* A JSON array of union objects (new reference). */
json_t *report_mounts_json(const struct strata_mount_list *l);
json_t *report_mount_json(const struct strata_mount_info *m);

/* Monitor events: one line of text, or one JSON object (new reference). */
void report_event_mount_text(FILE *out, const struct strata_mount_info *m);
void report_event_umount_text(FILE *out, uint32_t id);
void report_event_copy_up_text(FILE *out, const struct strata_copy_up_info *ev);
void report_event_module_text(FILE *out, bool loaded);
void report_event_branch_text(FILE *out, const struct strata_branch_change_info *ev);
json_t *report_event_mount_json(const struct strata_mount_info *m);
json_t *report_event_umount_json(uint32_t id);
json_t *report_event_copy_up_json(const struct strata_copy_up_info *ev);
json_t *report_event_module_json(bool loaded);
json_t *report_event_branch_json(const struct strata_branch_change_info *ev);

/*
 * Print @j (and drop the reference): indented over several lines, or
 * compact on one line; a newline follows.  Returns 0 or -1.
 */
int report_json_print(FILE *out, json_t *j, bool compact);

/* A JSON string of @s; bytes that are not UTF-8 become U+FFFD. */
json_t *report_json_string(const char *s);

#endif /* STRATA_REPORT_H */
