/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nlattr.h - parse netlink attributes into tables, checking what we know.
 *
 * One attribute set is described by a table of struct nla_spec indexed by
 * attribute type.  Parsing fills a table of attribute pointers: known
 * attributes are validated (type and exact length), unknown ones (above
 * the table or without a spec) are skipped, so an old helper keeps working
 * with a newer module.  A malformed stream of attributes (a length that
 * runs past its container) is an error, not a silent stop.
 */
#ifndef STRATA_NLATTR_H
#define STRATA_NLATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

struct nla_spec {
	const char *name;		/* NULL: not known, skipped */
	enum mnl_attr_data_type type;
	bool multi;			/* may repeat (multi-attr) */
};

struct nla_table {
	const char *set;		/* attribute set name, for messages */
	const struct nla_spec *spec;	/* indexed by type, [0] unused */
	unsigned int max;		/* highest type in spec */
	const struct nlattr **tb;	/* [max + 1], filled by parsing */
	char *why;			/* on error: what was wrong (malloc'ed) */
};

/*
 * Declare the parse table @tbl (and its pointer array) for the attribute
 * set @name described by the array @specarr (indexed by type, max + 1).
 */
#define NLA_TABLE(tbl, name, specarr)					\
	const struct nlattr *tbl##_tb[sizeof(specarr) / sizeof((specarr)[0])] = {}; \
	struct nla_table tbl = {					\
		.set = (name), .spec = (specarr),			\
		.max = sizeof(specarr) / sizeof((specarr)[0]) - 1,	\
		.tb = tbl##_tb,						\
	}

/*
 * Check that @len bytes at @start are a well-formed sequence of attributes:
 * every header fits, every length covers at least the header and stays
 * inside.  Returns 0, or -1 with errno EBADMSG.
 */
int nla_check_stream(const void *start, size_t len);

/*
 * Parse the attributes of @nlh after @offset bytes of payload (the family
 * header) into @t.  Returns 0, or -1 with errno set (EBADMSG or EINVAL)
 * and t->why describing the problem.
 */
int nla_parse_msg(const struct nlmsghdr *nlh, size_t offset, struct nla_table *t);
/* The same for the contents of the nested attribute @nest. */
int nla_parse_nested(const struct nlattr *nest, struct nla_table *t);
/* The same for a bare buffer of attributes. */
int nla_parse_buf(const void *buf, size_t len, struct nla_table *t);

/* Release t->why. */
void nla_table_done(struct nla_table *t);

/* Name of attribute @type in @t's set, or "attribute N". */
const char *nla_name(const struct nla_table *t, unsigned int type, char *buf,
		     size_t len);

#endif /* STRATA_NLATTR_H */
