// SPDX-License-Identifier: GPL-2.0
/*
 * nlattr.c - attribute tables on top of mnl_attr_parse().
 *
 * libmnl's attribute iterator stops quietly at the first attribute whose
 * length does not fit; a reply cut or garbled that way would look like a
 * shorter, valid one.  nla_check_stream() walks the same bytes first and
 * turns that case into an error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlattr.h"
#include "util.h"

int nla_check_stream(const void *start, size_t len)
{
	const char *p = start;
	size_t off = 0;

	while (len - off >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const void *)(p + off);

		if (a->nla_len < sizeof(struct nlattr) || a->nla_len > len - off) {
			errno = EBADMSG;
			return -1;
		}
		off += MNL_ALIGN(a->nla_len);
		if (off > len)		/* the last one may omit its padding */
			off = len;
	}
	if (off != len) {		/* trailing bytes too short for a header */
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

const char *nla_name(const struct nla_table *t, unsigned int type, char *buf,
		     size_t len)
{
	if (type <= t->max && t->spec[type].name)
		snprintf(buf, len, "%s.%s", t->set, t->spec[type].name);
	else
		snprintf(buf, len, "%s attribute %u", t->set, type);
	return buf;
}

static void set_why(struct nla_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_why(struct nla_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t->why)
		return;		/* the first problem is the interesting one */
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t->why = s;
}

static const char *type_text(enum mnl_attr_data_type type)
{
	switch (type) {
	case MNL_TYPE_U8: return "u8";
	case MNL_TYPE_U16: return "u16";
	case MNL_TYPE_U32: return "u32";
	case MNL_TYPE_U64: return "u64";
	case MNL_TYPE_FLAG: return "flag";
	case MNL_TYPE_NUL_STRING: return "string";
	case MNL_TYPE_NESTED: return "nest";
	default: return "value";
	}
}

static int table_cb(const struct nlattr *attr, void *data)
{
	struct nla_table *t = data;
	unsigned int type = mnl_attr_get_type(attr);
	const struct nla_spec *s;
	char name[64];

	/* Unknown (newer module) or padding (type 0): not ours to judge. */
	if (type == 0 || type > t->max || !t->spec[type].name)
		return MNL_CB_OK;
	s = &t->spec[type];
	if (mnl_attr_validate(attr, s->type) < 0) {
		set_why(t, "%s: not a valid %s (%u bytes)",
			nla_name(t, type, name, sizeof(name)), type_text(s->type),
			(unsigned int)mnl_attr_get_payload_len(attr));
		errno = EINVAL;
		return MNL_CB_ERROR;
	}
	if (s->type == MNL_TYPE_NESTED &&
	    nla_check_stream(mnl_attr_get_payload(attr),
			     mnl_attr_get_payload_len(attr))) {
		set_why(t, "%s: malformed nested attributes",
			nla_name(t, type, name, sizeof(name)));
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (t->tb[type] && !s->multi) {
		set_why(t, "%s: given twice", nla_name(t, type, name, sizeof(name)));
		errno = EINVAL;
		return MNL_CB_ERROR;
	}
	if (!t->tb[type])
		t->tb[type] = attr;
	return MNL_CB_OK;
}

int nla_parse_buf(const void *buf, size_t len, struct nla_table *t)
{
	memset(t->tb, 0, (t->max + 1) * sizeof(*t->tb));
	if (nla_check_stream(buf, len)) {
		set_why(t, "malformed %s attributes", t->set);
		return -1;
	}
	if (mnl_attr_parse_payload(buf, len, table_cb, t) < MNL_CB_OK) {
		if (!t->why)
			set_why(t, "cannot parse %s attributes", t->set);
		if (!errno)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

int nla_parse_msg(const struct nlmsghdr *nlh, size_t offset, struct nla_table *t)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	size_t aligned = MNL_ALIGN(offset);

	if (len < offset) {
		memset(t->tb, 0, (t->max + 1) * sizeof(*t->tb));
		set_why(t, "message too short for its header");
		errno = EBADMSG;
		return -1;
	}
	return nla_parse_buf(mnl_nlmsg_get_payload_offset(nlh, offset),
			     len > aligned ? len - aligned : 0, t);
}

int nla_parse_nested(const struct nlattr *nest, struct nla_table *t)
{
	return nla_parse_buf(mnl_attr_get_payload(nest),
			     mnl_attr_get_payload_len(nest), t);
}

void nla_table_done(struct nla_table *t)
{
	free(t->why);
	t->why = NULL;
}
