// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink fuzzer for the "strata" family, over raw sockets: random
 * and malformed requests for every command number the family has, the
 * ones it may gain next (branch add/del/set) and unknown ones, as root and
 * as nobody.  Every request must end in a clean error or a well-formed
 * reply; policy rejections must name the problem (extack); nothing may
 * splat (the guest's log check).
 *
 * STRATA_FUZZ_SEED replays a seed, STRATA_FUZZ_ITERS sets the number of
 * requests (default 4000; a quarter of them as nobody).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "strata_test.h"
#include "nl_client.h"
#include "../uapi/linux/strata.h"

#define DEF_SEED 0x5354524154410002ULL
#define DEF_ITERS 4000
/* Command numbers past the last the family has. */
#define CMD_FUTURE_LAST (STRATA_CMD_MAX + 3)

struct nl {
	int fd;
	uint16_t family;
	uint32_t seq;
	char buf[65536];
};

/* Per-run tallies, printed at the end. */
struct tally {
	long sent, ok, errors, silent, extack, dumps;
};

/* A socket with extended ACKs and a receive timeout, and the family id. */
static int nl_open(struct nl *s)
{
	struct timeval tv = { .tv_sec = 2 };
	struct family f;
	struct nlsk k;

	if (nlsk_open(&k, 0))
		return -1;
	if (resolve(&k, &f)) {
		nlsk_close(&k);
		return -1;
	}
	free(k.buf);
	s->fd = k.fd;
	s->family = f.id;
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

static char *attr_put(char *p, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)p;

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(p + NLA_HDRLEN, data, len);
	return p + NLA_ALIGN(a->nla_len);
}

/* Does the ACK @h carry an extack message or a bad-attribute offset? */
static bool has_extack(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const char *p = (const char *)e + sizeof(*e), *end = (const char *)h + h->nlmsg_len;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return false;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		p += e->msg.nlmsg_len - NLMSG_HDRLEN;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if (a->nla_type == NLMSGERR_ATTR_MSG || a->nla_type == NLMSGERR_ATTR_OFFS)
			return true;
		p += NLA_ALIGN(a->nla_len);
	}
	return false;
}

static bool clean_errno(int e)
{
	switch (e) {
	case EINVAL: case EPERM: case ENOENT: case EOPNOTSUPP: case ERANGE:
	case EBADF: case EMSGSIZE: case ENODEV: case EACCES:
		return true;
	}
	return false;
}

struct shot {
	uint8_t cmd;
	bool policy_only;	/* a known attribute with a bad length */
	bool bad_len;		/* nlmsg_len does not match: dropped silently */
	bool framing;		/* cut or overlong: refused before the command */
};

/* Build one request in @msg; returns its length. */
static size_t gen(uint64_t *r, struct nl *s, int mfd, char *msg, size_t cap,
		  struct shot *sh)
{
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	struct genlmsghdr *g = NLMSG_DATA(h);
	char *p = (char *)(g + 1), *end = msg + cap - 4200;
	int nattr = st_rand_below(r, 6), i;
	size_t len;

	memset(msg, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	memset(sh, 0, sizeof(*sh));
	switch (st_rand_below(r, 6)) {
	case 0:
		g->cmd = st_rand_below(r, 256);
		break;
	case 1:
		g->cmd = STRATA_CMD_MAX + 1 + st_rand_below(r, 3);
		break;
	default:
		g->cmd = st_rand_below(r, CMD_FUTURE_LAST + 1);
		break;
	}
	/* A quarter are well-formed mount-gets, to reach the replies. */
	if (!st_rand_below(r, 4))
		g->cmd = STRATA_CMD_MOUNT_GET;
	g->version = st_rand_below(r, 4) ? STRATA_FAMILY_VERSION : st_rand_below(r, 256);
	sh->cmd = g->cmd;
	if (g->cmd == STRATA_CMD_MOUNT_GET && !st_rand_below(r, 2)) {
		uint32_t v = st_rand_below(r, 2) ? (uint32_t)mfd : 1 + st_rand_below(r, 2);

		p = attr_put(p, v == (uint32_t)mfd ? STRATA_A_MOUNT_FD : STRATA_A_MOUNT_ID,
			     &v, 4);
		nattr = 0;
	}
	for (i = 0; i < nattr && p < end; i++) {
		uint16_t type = st_rand_below(r, 4) ? 1 + st_rand_below(r, STRATA_A_MOUNT_MAX)
						     : st_rand_below(r, 65536);
		uint32_t v32 = st_rand(r);
		char junk[4096];
		uint16_t alen;

		switch (st_rand_below(r, 6)) {
		case 0:	/* a real mount fd, a std fd, or no fd at all */
			v32 = (int32_t[]){ mfd, 0, -1, 9999, mfd }[st_rand_below(r, 5)];
			p = attr_put(p, STRATA_A_MOUNT_FD, &v32, 4);
			continue;
		case 1:	/* ids that may exist */
			v32 = st_rand_below(r, 4);
			p = attr_put(p, STRATA_A_MOUNT_ID, &v32, 4);
			continue;
		case 2:	/* a policy violation: wrong size of a u32/s32 */
			alen = (uint16_t[]){ 0, 1, 2, 3, 5, 8, 16 }[st_rand_below(r, 7)];
			type = st_rand_below(r, 2) ? STRATA_A_MOUNT_ID : STRATA_A_MOUNT_FD;
			sh->policy_only = true;
			break;
		case 3:	/* nesting and byte-order flags on anything */
			type |= st_rand_below(r, 2) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER;
			alen = st_rand_below(r, 64);
			break;
		default:
			alen = st_rand_below(r, 8) ? st_rand_below(r, 32) :
						     st_rand_below(r, sizeof(junk));
			break;
		}
		for (size_t j = 0; j < alen; j++)
			junk[j] = st_rand(r);
		p = attr_put(p, type, junk, alen);
	}
	len = p - msg;
	h->nlmsg_len = len;
	h->nlmsg_type = st_rand_below(r, 50) ? s->family : st_rand_below(r, 65536);
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (!st_rand_below(r, 4))
		h->nlmsg_flags |= NLM_F_DUMP;
	h->nlmsg_seq = ++s->seq;
	switch (st_rand_below(r, 12)) {
	case 0:	/* cut inside an attribute or the genl header */
		len = NLMSG_HDRLEN + st_rand_below(r, len - NLMSG_HDRLEN + 1);
		h->nlmsg_len = len;
		sh->framing = true;
		break;
	case 1:	/* the header claims more than was sent */
		h->nlmsg_len = len + 1 + st_rand_below(r, 64);
		sh->bad_len = true;
		break;
	case 2:	/* an attribute length running past the end */
		if (len > NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN) {
			((struct nlattr *)(g + 1))->nla_len = 0xffff;
			sh->framing = true;
		}
		break;
	}
	/* Not our family: other families' answers are not judged. */
	if (h->nlmsg_type != s->family)
		sh->bad_len = sh->framing = true;
	return len;
}

/*
 * Send one request and judge every answer to it.  A dump ends with DONE,
 * a doit with an ACK; malformed framing may get no answer at all.
 */
static void shoot(struct __test_metadata *_metadata, struct nl *s, const char *msg,
		  size_t len, const struct shot *sh, bool root, struct tally *t)
{
	uint32_t seq = ((const struct nlmsghdr *)msg)->nlmsg_seq;
	bool done = false;

	t->sent++;
	ASSERT_EQ((ssize_t)len, send(s->fd, msg, len, 0));
	/*
	 * Generic netlink handles a request inside send(), and a dump
	 * queues its next part inside recv(): whatever answer there is
	 * is already queued, no need to wait.
	 */
	while (!done) {
		ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (n < 0) {
			/* Only framing the kernel cannot parse is ignored. */
			EXPECT_EQ(EAGAIN, errno);
			if (!sh->bad_len)
				EXPECT_TRUE(sh->bad_len)
					TH_LOG("cmd %u: no answer", sh->cmd);
			t->silent++;
			return;
		}
		for (h = (void *)s->buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;	/* late answer to an earlier shot */
			if (h->nlmsg_type == NLMSG_DONE) {
				t->dumps++;
				done = true;
			} else if (h->nlmsg_type == NLMSG_ERROR) {
				int err = -((struct nlmsgerr *)NLMSG_DATA(h))->error;

				done = true;
				if (!err) {
					t->ok++;
					/* Changing commands are never for nobody. */
					if (!root && !sh->framing)
						EXPECT_GE(STRATA_CMD_MAX, sh->cmd);
					continue;
				}
				t->errors++;
				EXPECT_TRUE(clean_errno(err))
					TH_LOG("cmd %u: %s", sh->cmd, strerror(err));
				if (has_extack(h))
					t->extack++;
				else if (sh->policy_only && !sh->framing &&
					 sh->cmd == STRATA_CMD_MOUNT_GET && err == EINVAL)
					EXPECT_TRUE(has_extack(h))
						TH_LOG("mount-get: EINVAL without extack");
				/* Changing commands are never for nobody. */
				if (!root && !sh->framing && sh->cmd > STRATA_CMD_MAX)
					EXPECT_TRUE(err == EOPNOTSUPP || err == EPERM)
						TH_LOG("nobody, cmd %u: %s", sh->cmd,
						       strerror(err));
			} else if (h->nlmsg_type == s->family) {
				/* Only mount-get answers; never a new command for nobody. */
				EXPECT_EQ(STRATA_CMD_MOUNT_GET,
					  ((struct genlmsghdr *)NLMSG_DATA(h))->cmd);
				if (!root)
					EXPECT_GE(STRATA_CMD_MAX, sh->cmd);
			}
		}
	}
}

static void fuzz(struct __test_metadata *_metadata, uint64_t *rng, long iters,
		 int mfd, bool root, struct tally *t)
{
	static char msg[16384];
	struct nl s = { 0 };
	struct shot sh;
	long i;

	ASSERT_EQ(0, nl_open(&s)) TH_LOG("family %s not found", STRATA_FAMILY_NAME);
	for (i = 0; i < iters && !_metadata->exit_code; i++) {
		size_t len = gen(rng, &s, mfd, msg, sizeof(msg), &sh);

		shoot(_metadata, &s, msg, len, &sh, root, t);
	}
	close(s.fd);
}

FIXTURE(fzn) {
	char dir[ST_PATH];
	int mfd;
	uint64_t rng;
	long iters;
};

FIXTURE_SETUP(fzn)
{
	char **l;

	ST_PREPARE(NULL, "fuzz_netlink", self->dir);
	l = st_make_layers(self->dir, 2);
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, st_mkdirs(st_fmt("%s/mnt", self->dir)));
	ASSERT_EQ(0, st_mount_union(st_fmt("%s/mnt", self->dir), l, 2, "ro", NULL));
	self->mfd = open(st_fmt("%s/mnt", self->dir), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, self->mfd);
	self->rng = st_fuzz_seed(DEF_SEED);
	self->iters = st_env_long("STRATA_FUZZ_ITERS", DEF_ITERS);
	TH_LOG("seed %#llx, %ld requests (STRATA_FUZZ_SEED, STRATA_FUZZ_ITERS)",
	       (unsigned long long)self->rng, self->iters);
}

ST_TEARDOWN(fzn);

TEST_F(fzn, root)
{
	struct tally t = { 0 };

	fuzz(_metadata, &self->rng, self->iters, self->mfd, true, &t);
	TH_LOG("%ld sent: %ld ok, %ld errors (%ld with extack), %ld dumps, %ld unanswered",
	       t.sent, t.ok, t.errors, t.extack, t.dumps, t.silent);
	/* The generator reaches both the success and the error paths. */
	EXPECT_LT(0, t.ok + t.dumps);
	EXPECT_LT(0, t.extack);
}

/* The same as nobody, in a child: the tallies come back through a pipe. */
TEST_F(fzn, nobody)
{
	struct tally t = { 0 };
	int p[2], st;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		if (setgroups(0, NULL) || setresgid(ST_NOBODY, ST_NOBODY, ST_NOBODY) ||
		    setresuid(ST_NOBODY, ST_NOBODY, ST_NOBODY))
			_exit(99);
		fuzz(_metadata, &self->rng, self->iters / 4, self->mfd, false, &t);
		if (write(p[1], &t, sizeof(t)) != sizeof(t))
			_exit(98);
		_exit(_metadata->exit_code ? 1 : 0);
	}
	close(p[1]);
	EXPECT_EQ(sizeof(t), (size_t)read(p[0], &t, sizeof(t)));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st)) TH_LOG("child status %#x", st);
	TH_LOG("as nobody %ld sent: %ld ok, %ld errors (%ld with extack), %ld dumps",
	       t.sent, t.ok, t.errors, t.extack, t.dumps);
	EXPECT_LT(0, t.errors);
}

TEST_HARNESS_MAIN
