// SPDX-License-Identifier: GPL-2.0
/*
 * nlmsg.c - growable request buffer and checked attribute puts.
 */
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>

#include "nlmsg.h"
#include "util.h"

#define NLMSG_MIN_BUF 1024
#define NLMSG_MAX_BUF (1u << 20)	/* no request of ours comes near this */

static bool grow(struct nlmsg_buf *m)
{
	size_t size = m->size * 2;

	if (size > NLMSG_MAX_BUF)
		return false;
	m->data = xrealloc(m->data, size);
	memset(m->data + m->size, 0, size - m->size);
	m->size = size;
	m->nlh = (struct nlmsghdr *)m->data;
	return true;
}

struct nlmsghdr *genlmsg_start(struct nlmsg_buf *m, uint16_t family,
			       uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct genlmsghdr *g;

	if (!m->data) {
		m->size = NLMSG_MIN_BUF;
		m->data = xmalloc(m->size);
	}
	memset(m->data, 0, m->size);
	m->nlh = mnl_nlmsg_put_header(m->data);
	m->nlh->nlmsg_type = family;
	m->nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(m->nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return m->nlh;
}

void nlmsg_free(struct nlmsg_buf *m)
{
	free(m->data);
	m->data = NULL;
	m->nlh = NULL;
	m->size = 0;
}

bool nlmsg_put(struct nlmsg_buf *m, uint16_t type, size_t len, const void *data)
{
	if (len > UINT16_MAX - MNL_ATTR_HDRLEN)
		return true;
	while (!mnl_attr_put_check(m->nlh, m->size, type, len, data))
		if (!grow(m))
			return true;
	return false;
}

bool nlmsg_put_u32(struct nlmsg_buf *m, uint16_t type, uint32_t value)
{
	return nlmsg_put(m, type, sizeof(value), &value);
}

bool nlmsg_put_s32(struct nlmsg_buf *m, uint16_t type, int32_t value)
{
	return nlmsg_put(m, type, sizeof(value), &value);
}

bool nlmsg_put_u64(struct nlmsg_buf *m, uint16_t type, uint64_t value)
{
	return nlmsg_put(m, type, sizeof(value), &value);
}

bool nlmsg_put_strz(struct nlmsg_buf *m, uint16_t type, const char *value)
{
	return nlmsg_put(m, type, strlen(value) + 1, value);
}

bool nlmsg_put_flag(struct nlmsg_buf *m, uint16_t type)
{
	return nlmsg_put(m, type, 0, NULL);
}
