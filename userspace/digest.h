/* SPDX-License-Identifier: GPL-2.0 */
/*
 * digest.h - sha256 content digests in the OCI spelling "sha256:<64 hex>".
 */
#ifndef STRATA_DIGEST_H
#define STRATA_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN	64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_LEN	(7 + DIGEST_HEX_LEN + 1)

struct digest_ctx;

struct digest_ctx *digest_new(void);
void digest_update(struct digest_ctx *c, const void *buf, size_t len);
/* Finish into "sha256:<hex>" and free the context. */
void digest_final(struct digest_ctx *c, char out[DIGEST_STR_LEN]);

void digest_buf(const void *buf, size_t len, char out[DIGEST_STR_LEN]);
/* Digest of a file's bytes; -1 with errno set on a read error. */
int digest_file(const char *path, char out[DIGEST_STR_LEN]);

/* Is @s a well-formed "sha256:<64 lowercase hex>"?  1 or 0. */
int digest_valid(const char *s);
/* The hex part of a valid digest (s + 7). */
static inline const char *digest_hex(const char *s)
{
	return s + 7;
}

#endif /* STRATA_DIGEST_H */
