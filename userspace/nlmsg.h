/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nlmsg.h - build generic netlink requests in a growable buffer.
 *
 * The put helpers use libmnl's *_check variants; when the buffer is full
 * they grow it and try again.  Like ethtool's, they return true when they
 * failed (which only happens for absurd sizes), so a request is built as
 *
 *	if (nlmsg_put_u32(&m, ATTR_A, a) || nlmsg_put_strz(&m, ATTR_B, b))
 *		goto fail;
 *
 * Growing moves the buffer: re-read m->nlh after a put.
 */
#ifndef STRATA_NLMSG_H
#define STRATA_NLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

struct nlmsg_buf {
	char *data;
	size_t size;
	struct nlmsghdr *nlh;		/* == (void *)data once started */
};

/*
 * Start a request to generic netlink family @family: nlmsghdr (type
 * @family, NLM_F_REQUEST | @flags) and genlmsghdr (@cmd, @version).  The
 * sequence number is set when the request is sent.  Returns the header;
 * the buffer is (re)allocated as needed and freed by nlmsg_free().
 */
struct nlmsghdr *genlmsg_start(struct nlmsg_buf *m, uint16_t family,
			       uint8_t cmd, uint8_t version, uint16_t flags);
void nlmsg_free(struct nlmsg_buf *m);

bool nlmsg_put(struct nlmsg_buf *m, uint16_t type, size_t len, const void *data);
bool nlmsg_put_u32(struct nlmsg_buf *m, uint16_t type, uint32_t value);
bool nlmsg_put_s32(struct nlmsg_buf *m, uint16_t type, int32_t value);
bool nlmsg_put_u64(struct nlmsg_buf *m, uint16_t type, uint64_t value);
bool nlmsg_put_strz(struct nlmsg_buf *m, uint16_t type, const char *value);
bool nlmsg_put_flag(struct nlmsg_buf *m, uint16_t type);

#endif /* STRATA_NLMSG_H */
