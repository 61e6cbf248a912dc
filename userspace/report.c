// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - text and JSON renderings of unions and monitor events.
 *
 * Paths come from the kernel as bytes: in text, control characters are
 * printed as "\ooo" (as mountinfo does) so one union stays one block and
 * one event one line; in JSON, bytes that are not UTF-8 become U+FFFD,
 * since JSON strings must be Unicode.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "report.h"
#include "util.h"

static void put_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
}

static const char *dev_text(uint32_t dev, char *buf, size_t len)
{
	snprintf(buf, len, "%u:%u", major(dev), minor(dev));
	return buf;
}

static int digits(size_t n)
{
	int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

static void mount_text(FILE *out, const struct strata_mount_info *m)
{
	const struct strata_counters *c = &m->counters;
	int iw = 6, fw = 6;	/* widths of "branch" and "fstype" */
	char dev[32];
	size_t i;

	fprintf(out, "union %u on ", m->id);
	if (m->mountpoint)
		put_text(out, m->mountpoint);
	else
		fputs("?", out);
	fprintf(out, ": %s, whiteout %s, dev %s, %zu branch%s\n",
		m->readonly ? "ro" : "rw", strata_whiteout_name(m->whiteout),
		dev_text(m->dev, dev, sizeof(dev)), m->nbr, m->nbr == 1 ? "" : "es");
	if (m->nbr && digits(m->nbr - 1) > iw)
		iw = digits(m->nbr - 1);
	for (i = 0; i < m->nbr; i++)
		if (m->br[i].fstype && (int)strlen(m->br[i].fstype) > fw)
			fw = strlen(m->br[i].fstype);
	fprintf(out, "  %-*s  mode  %-*s  path\n", iw, "branch", fw, "fstype");
	for (i = 0; i < m->nbr; i++) {
		const struct strata_branch_info *b = &m->br[i];

		fprintf(out, "  %-*u  %-4s  %-*s  ", iw, b->index,
			strata_mode_name(b->mode), fw, b->fstype ? b->fstype : "?");
		put_text(out, b->path);
		fputc('\n', out);
	}
	if (m->has_counters)
		fprintf(out, "  counters: lookups %llu, copy-ups %llu, copy-bytes %llu, "
			"whiteouts %llu, branch-changes %llu\n",
			(unsigned long long)c->lookups, (unsigned long long)c->copy_ups,
			(unsigned long long)c->copy_bytes, (unsigned long long)c->whiteouts,
			(unsigned long long)c->branch_changes);
}

void report_mounts_text(FILE *out, const struct strata_mount_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i)
			fputc('\n', out);
		mount_text(out, &l->v[i]);
	}
}

/* Length of the valid UTF-8 sequence at @s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

json_t *report_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *buf, *d;
	json_t *j;
	size_t n;

	j = json_string(s);
	if (j)
		return j;
	/* Not UTF-8: at most 3 output bytes per input byte. */
	d = buf = xmalloc(3 * strlen(s) + 1);
	while (*p) {
		n = utf8_len(p);
		if (n) {
			memcpy(d, p, n);
			d += n;
			p += n;
		} else {
			memcpy(d, "\xef\xbf\xbd", 3);
			d += 3;
			p++;
		}
	}
	*d = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *json_u64(uint64_t v)
{
	/* json_int_t is signed; no counter will get there, but be exact. */
	return json_integer(v > LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

json_t *report_mount_json(const struct strata_mount_info *m)
{
	const struct strata_counters *c = &m->counters;
	json_t *o = json_object(), *brs = json_array(), *b, *cnt;
	char dev[32];
	size_t i;

	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "mountpoint", m->mountpoint ?
			    report_json_string(m->mountpoint) : json_null());
	json_object_set_new(o, "dev", json_string(dev_text(m->dev, dev, sizeof(dev))));
	json_object_set_new(o, "readonly", json_boolean(m->readonly));
	json_object_set_new(o, "whiteout", json_string(strata_whiteout_name(m->whiteout)));
	json_object_set_new(o, "options", m->options ?
			    report_json_string(m->options) : json_null());
	for (i = 0; i < m->nbr; i++) {
		b = json_object();
		json_object_set_new(b, "index", json_integer(m->br[i].index));
		json_object_set_new(b, "path", report_json_string(m->br[i].path));
		json_object_set_new(b, "mode", json_string(strata_mode_name(m->br[i].mode)));
		json_object_set_new(b, "fstype", m->br[i].fstype ?
				    report_json_string(m->br[i].fstype) : json_null());
		json_array_append_new(brs, b);
	}
	json_object_set_new(o, "branches", brs);
	if (m->has_counters) {
		cnt = json_object();
		json_object_set_new(cnt, "lookups", json_u64(c->lookups));
		json_object_set_new(cnt, "copy_ups", json_u64(c->copy_ups));
		json_object_set_new(cnt, "copy_bytes", json_u64(c->copy_bytes));
		json_object_set_new(cnt, "whiteouts", json_u64(c->whiteouts));
		json_object_set_new(cnt, "branch_changes", json_u64(c->branch_changes));
		json_object_set_new(o, "counters", cnt);
	} else {
		json_object_set_new(o, "counters", json_null());
	}
	return o;
}

json_t *report_mounts_json(const struct strata_mount_list *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, report_mount_json(&l->v[i]));
	return a;
}

int report_json_print(FILE *out, json_t *j, bool compact)
{
	size_t flags = compact ? JSON_COMPACT : JSON_INDENT(2);
	int ret;

	ret = json_dumpf(j, out, flags);
	json_decref(j);
	if (ret || fputc('\n', out) == EOF)
		return -1;
	return 0;
}

/* ---- monitor events ---- */

void report_event_mount_text(FILE *out, const struct strata_mount_info *m)
{
	char dev[32];
	size_t i;

	fprintf(out, "mount %u: dev %s, %s, whiteout %s, ", m->id,
		dev_text(m->dev, dev, sizeof(dev)), m->readonly ? "ro" : "rw",
		strata_whiteout_name(m->whiteout));
	if (m->options) {
		put_text(out, m->options);
	} else {
		/* Options left out for size: the branches may be cut short too. */
		fprintf(out, "first %zu branch%s:", m->nbr, m->nbr == 1 ? "" : "es");
		for (i = 0; i < m->nbr; i++) {
			fputc(' ', out);
			put_text(out, m->br[i].path);
			fprintf(out, "=%s", strata_mode_name(m->br[i].mode));
		}
	}
	fputc('\n', out);
}

void report_event_umount_text(FILE *out, uint32_t id)
{
	fprintf(out, "umount %u\n", id);
}

void report_event_copy_up_text(FILE *out, const struct strata_copy_up_info *ev)
{
	fprintf(out, "copy-up %u: ", ev->mount_id);
	put_text(out, ev->path);
	fprintf(out, ", %llu bytes, %.3f ms\n", (unsigned long long)ev->size,
		ev->duration_ns / 1e6);
}

void report_event_module_text(FILE *out, bool loaded)
{
	fprintf(out, "module %s\n", loaded ? "loaded" : "unloaded");
}

/* "branch-add 3: index 1, ro, /l/new": the path last, it may hold commas. */
void report_event_branch_text(FILE *out, const struct strata_branch_change_info *ev)
{
	fprintf(out, "branch-%s %u: index %u, %s, ", strata_change_name(ev->change),
		ev->mount_id, ev->index,
		ev->has_mode ? strata_mode_name(ev->mode) : "?");
	put_text(out, ev->path);
	fputc('\n', out);
}

static json_t *event(const char *name)
{
	json_t *o = json_object();

	json_object_set_new(o, "event", json_string(name));
	return o;
}

json_t *report_event_mount_json(const struct strata_mount_info *m)
{
	json_t *o = event("mount"), *mj = report_mount_json(m);

	json_object_update(o, mj);
	json_decref(mj);
	return o;
}

json_t *report_event_umount_json(uint32_t id)
{
	json_t *o = event("umount");

	json_object_set_new(o, "id", json_integer(id));
	return o;
}

json_t *report_event_copy_up_json(const struct strata_copy_up_info *ev)
{
	json_t *o = event("copy-up");

	json_object_set_new(o, "id", json_integer(ev->mount_id));
	json_object_set_new(o, "path", report_json_string(ev->path));
	json_object_set_new(o, "size", json_u64(ev->size));
	json_object_set_new(o, "duration_ns", json_u64(ev->duration_ns));
	return o;
}

json_t *report_event_module_json(bool loaded)
{
	return event(loaded ? "module-loaded" : "module-unloaded");
}

json_t *report_event_branch_json(const struct strata_branch_change_info *ev)
{
	char name[32];
	json_t *o;

	snprintf(name, sizeof(name), "branch-%s", strata_change_name(ev->change));
	o = event(name);
	json_object_set_new(o, "id", json_integer(ev->mount_id));
	json_object_set_new(o, "index", json_integer(ev->index));
	json_object_set_new(o, "path", report_json_string(ev->path));
	json_object_set_new(o, "mode", ev->has_mode ?
			    json_string(strata_mode_name(ev->mode)) : json_null());
	return o;
}
