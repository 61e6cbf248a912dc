// SPDX-License-Identifier: GPL-2.0
/*
 * digest.c - sha256 through OpenSSL's EVP interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "digest.h"
#include "util.h"

struct digest_ctx {
	EVP_MD_CTX *md;
};

struct digest_ctx *digest_new(void)
{
	struct digest_ctx *c = xmalloc(sizeof(*c));

	c->md = EVP_MD_CTX_new();
	if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
		err_msg(NULL, "sha256: cannot initialise libcrypto");
		exit(EXIT_FAILED);
	}
	return c;
}

void digest_update(struct digest_ctx *c, const void *buf, size_t len)
{
	EVP_DigestUpdate(c->md, buf, len);
}

void digest_final(struct digest_ctx *c, char out[DIGEST_STR_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(c->md, md, &n);
	EVP_MD_CTX_free(c->md);
	free(c);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < n && i < DIGEST_HEX_LEN / 2; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void digest_buf(const void *buf, size_t len, char out[DIGEST_STR_LEN])
{
	struct digest_ctx *c = digest_new();

	digest_update(c, buf, len);
	digest_final(c, out);
}

int digest_file(const char *path, char out[DIGEST_STR_LEN])
{
	static char buf[1 << 16];
	struct digest_ctx *c;
	int fd, saved;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	c = digest_new();
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			digest_final(c, out);
			close(fd);
			errno = saved;
			return -1;
		}
		digest_update(c, buf, n);
	}
	close(fd);
	digest_final(c, out);
	return 0;
}

int digest_valid(const char *s)
{
	size_t i;

	if (strncmp(s, "sha256:", 7) || strlen(s) != 7 + DIGEST_HEX_LEN)
		return 0;
	for (i = 7; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
