// SPDX-License-Identifier: GPL-2.0
/*
 * nl_test.c - the netlink layer without a kernel: requests compared byte
 * for byte, replies, errors and family descriptions parsed from canned
 * buffers (canned.h), and replies that are malformed in the ways a buggy
 * kernel or a truncated receive could make them.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "canned.h"
#include "../genl.h"
#include "../nlattr.h"
#include "../nlmsg.h"
#include "../nlsock.h"
#include "../strata_nl.h"
#include "../util.h"

#define NLH(buf) ((const struct nlmsghdr *)(buf))

/* ---- a writer for message variants, independent of nlmsg.c ---- */

struct tmsg {
	uint8_t b[65536] __attribute__((aligned(4)));
	size_t len;
	size_t nest[8];
	int depth;
};

static void t_start(struct tmsg *m, uint16_t type, uint8_t cmd)
{
	memset(m, 0, sizeof(*m));
	m->b[4] = type & 0xff;
	m->b[5] = type >> 8;
	m->b[16] = cmd;
	m->b[17] = 1;
	m->len = 20;
}

static void t_attr(struct tmsg *m, uint16_t type, const void *data, size_t len)
{
	uint16_t hdr[2] = { (uint16_t)(4 + len), type };

	memcpy(m->b + m->len, hdr, 4);
	if (len)
		memcpy(m->b + m->len + 4, data, len);
	m->len += (4 + len + 3) & ~3u;
}

static void t_u32(struct tmsg *m, uint16_t type, uint32_t v)
{
	t_attr(m, type, &v, 4);
}

static void t_str(struct tmsg *m, uint16_t type, const char *s)
{
	t_attr(m, type, s, strlen(s) + 1);
}

static void t_nest(struct tmsg *m, uint16_t type)
{
	m->nest[m->depth++] = m->len;
	t_attr(m, type, NULL, 0);
}

static void t_end_nest(struct tmsg *m)
{
	size_t at = m->nest[--m->depth];
	uint16_t len = m->len - at;

	memcpy(m->b + at, &len, 2);
}

static const struct nlmsghdr *t_done(struct tmsg *m)
{
	uint32_t len = m->len;

	memcpy(m->b, &len, 4);
	return NLH(m->b);
}

/* A mount message: id, dev, and branches [from, to) of modes i % 3. */
static const struct nlmsghdr *mount_msg(struct tmsg *m, uint32_t id, int from, int to)
{
	int i;

	t_start(m, 0x1c, STRATA_CMD_MOUNT_GET);
	t_u32(m, STRATA_A_MOUNT_ID, id);
	t_u32(m, STRATA_A_MOUNT_DEV, 40 + id);
	for (i = from; i < to; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/b%d", i);
		t_nest(m, STRATA_A_MOUNT_BRANCH);
		t_u32(m, STRATA_A_BRANCH_INDEX, i);
		t_str(m, STRATA_A_BRANCH_PATH, path);
		t_u32(m, STRATA_A_BRANCH_MODE, i % 3);
		t_str(m, STRATA_A_BRANCH_FSTYPE, "tmpfs");
		t_end_nest(m);
	}
	return t_done(m);
}

/* ---- requests ---- */

TEST(nl_request_get_by_fd)
{
	static const uint8_t want[] = {
		28, 0, 0, 0,		/* nlmsg_len */
		0x1c, 0x00,		/* nlmsg_type: the family id */
		0x05, 0x00,		/* NLM_F_REQUEST | NLM_F_ACK */
		0, 0, 0, 0, 0, 0, 0, 0,	/* seq and pid: set when sent */
		1, 1, 0, 0,		/* STRATA_CMD_MOUNT_GET, version 1 */
		8, 0, 2, 0,		/* STRATA_A_MOUNT_FD */
		7, 0, 0, 0,
	};
	struct nlmsg_buf m = {};
	struct nlmsghdr *nlh = strata_req_get_fd(&m, 0x1c, 7);

	CHECK(nlh);
	CHECK_INT(nlh->nlmsg_len, sizeof(want));
	CHECK(!memcmp(nlh, want, sizeof(want)));
	CHECK_STR(strata_req_attr_name(nlh, 20), "fd");
	CHECK(!strata_req_attr_name(nlh, 24));
	nlmsg_free(&m);
}

TEST(nl_request_get_by_id_and_dump)
{
	static const uint8_t want_id[] = {
		28, 0, 0, 0, 0x1c, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 0, 0,
		8, 0, 1, 0, 0x2a, 0, 0, 0,	/* STRATA_A_MOUNT_ID = 42 */
	};
	static const uint8_t want_dump[] = {
		20, 0, 0, 0, 0x1c, 0,
		0x05, 0x03,			/* REQUEST | ACK | ROOT | MATCH */
		0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 0, 0,
	};
	struct nlmsg_buf m = {};
	struct nlmsghdr *nlh;

	nlh = strata_req_get_id(&m, 0x1c, 42);
	CHECK(!memcmp(nlh, want_id, sizeof(want_id)));
	CHECK_STR(strata_req_attr_name(nlh, 20), "id");
	nlh = strata_req_dump(&m, 0x1c);
	CHECK_INT(nlh->nlmsg_len, sizeof(want_dump));
	CHECK(!memcmp(nlh, want_dump, sizeof(want_dump)));
	nlmsg_free(&m);
}

static const struct nla_spec grow_spec[] = {
	[1] = { "s", MNL_TYPE_NUL_STRING, true },
};

TEST(nl_request_buffer_grows)
{
	struct nlmsg_buf m = {};
	const struct nlattr *a;
	char big[3000];
	int i, n = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	genlmsg_start(&m, 0x1c, 1, 1, 0);
	for (i = 0; i < 20; i++)
		CHECK(!nlmsg_put_strz(&m, 1, big));
	CHECK(m.size >= 20 * 3004);
	CHECK_INT(m.nlh->nlmsg_len, 20 + 20 * 3004);
	mnl_attr_for_each(a, m.nlh, GENL_HDRLEN) {
		CHECK_INT(mnl_attr_get_payload_len(a), 3000);
		n++;
	}
	CHECK_INT(n, 20);
	{
		NLA_TABLE(t, "grow", grow_spec);

		CHECK_INT(nla_parse_msg(m.nlh, GENL_HDRLEN, &t), 0);
		nla_table_done(&t);
	}
	/* More than an attribute can hold is refused, not truncated. */
	{
		char *huge = xmalloc(70000);

		memset(huge, 'y', 69999);
		huge[69999] = '\0';
		CHECK(nlmsg_put_strz(&m, 1, huge));
		free(huge);
	}
	nlmsg_free(&m);
}

/* ---- errors and extended ACKs ---- */

TEST(nl_ack_extack)
{
	struct nl_ext_ack ack;

	CHECK_INT(nl_parse_ack(NLH(ack_einval), &ack), 0);
	CHECK_INT(ack.error, EINVAL);
	CHECK_STR(ack.msg, "file descriptor is not inside a strata union");
	CHECK(ack.has_offs);
	CHECK_INT(ack.offs, 20);
	CHECK(!ack.has_miss);

	CHECK_INT(nl_parse_ack(NLH(ack_capped), &ack), 0);
	CHECK_INT(ack.error, EINVAL);
	CHECK_STR(ack.msg, "file descriptor is not inside a strata union");
	CHECK_INT(ack.offs, 20);

	CHECK_INT(nl_parse_ack(NLH(ack_ok_warning), &ack), 0);
	CHECK_INT(ack.error, 0);
	CHECK_STR(ack.msg, "reply truncated: dump the mount for every branch");
	CHECK(!ack.has_offs);

	CHECK_INT(nl_parse_ack(NLH(done_error), &ack), 0);
	CHECK_INT(ack.error, ENOENT);
	CHECK_STR(ack.msg, "no strata union with this id");
}

TEST(nl_ack_malformed)
{
	struct nl_ext_ack ack;
	uint8_t buf[sizeof(ack_einval)];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	/* The echoed request claims to be longer than the message. */
	memcpy(buf, ack_einval, sizeof(buf));
	buf[20] = 200;
	errno = 0;
	CHECK_INT(nl_parse_ack(nlh, &ack), -1);
	CHECK_INT(errno, EBADMSG);

	/* A TLV running past the end. */
	memcpy(buf, ack_einval, sizeof(buf));
	buf[48] = 0xff;
	CHECK_INT(nl_parse_ack(nlh, &ack), -1);

	/* Too short for struct nlmsgerr. */
	memcpy(buf, ack_einval, sizeof(buf));
	nlh->nlmsg_len = 18;
	CHECK_INT(nl_parse_ack(nlh, &ack), -1);

	/* Without NLM_F_ACK_TLVS the bytes after the request are not read. */
	memcpy(buf, ack_einval, sizeof(buf));
	nlh->nlmsg_flags = 0;
	CHECK_INT(nl_parse_ack(nlh, &ack), 0);
	CHECK_INT(ack.error, EINVAL);
	CHECK_STR(ack.msg, "");
}

TEST(nl_error_text_names_the_attribute)
{
	struct strata_nl c = {};
	struct nl_sock s = {};
	char buf[256];

	c.s = &s;
	strata_req_get_fd(&c.req, 0x1c, 7);
	CHECK_INT(nl_parse_ack(NLH(ack_einval), &s.ack), 0);
	CHECK_STR(strata_nl_strerror(&c, EINVAL, buf, sizeof(buf)),
		  "Invalid argument (kernel: file descriptor is not inside a strata union, attribute fd)");
	/* Another error than the kernel's: no extack attached to it. */
	CHECK_STR(strata_nl_strerror(&c, EBADF, buf, sizeof(buf)), "Bad file descriptor");
	c.why = xstrdup("union 3: branch 1 missing");
	CHECK_STR(strata_nl_strerror(&c, EBADMSG, buf, sizeof(buf)),
		  "malformed reply from the kernel: union 3: branch 1 missing");
	free(c.why);
	nlmsg_free(&c.req);
}

/* ---- family resolution ---- */

TEST(nl_family_reply)
{
	struct genl_family_info info;
	char *why = NULL;

	CHECK_INT(genl_family_parse(NLH(ctrl_family), &info, &why), 0);
	CHECK_STR(info.name, "strata");
	CHECK_INT(info.id, 0x1c);
	CHECK_INT(info.version, 1);
	CHECK_INT(genl_group_id(&info, "monitor"), 11);
	CHECK_INT(genl_group_id(&info, "other"), 0);
	CHECK(genl_has_op(&info, STRATA_CMD_MOUNT_GET, GENL_CMD_CAP_DO));
	CHECK(genl_has_op(&info, STRATA_CMD_MOUNT_GET, GENL_CMD_CAP_DUMP));
	CHECK(!genl_has_op(&info, STRATA_CMD_COPY_UP_NTF, 0));
	CHECK(!why);
}

TEST(nl_family_reply_malformed)
{
	uint8_t buf[sizeof(ctrl_family)];
	struct genl_family_info info;
	char *why = NULL;

	/* The family id as a u32 instead of a u16. */
	memcpy(buf, ctrl_family, sizeof(buf));
	buf[32] = 8;
	CHECK_INT(genl_family_parse(NLH(buf), &info, &why), -1);
	CHECK_CONTAINS(why, "nlctrl.family-id: not a valid u16");
	free(why);
}

/* ---- mount replies ---- */

TEST(nl_mount_reply)
{
	struct strata_mount_list l = {};
	struct strata_mount_info *m;
	char *why = NULL;

	CHECK_INT(strata_mount_parse(NLH(reply_one), &l, &why), 0);
	CHECK_INT(strata_mount_list_finish(&l, &why), 0);
	CHECK(!why);
	CHECK_INT(l.n, 1);
	m = &l.v[0];
	CHECK_INT(m->id, 3);
	CHECK_INT(m->dev, 45);
	CHECK_STR(m->mountpoint, "/mnt/u");
	CHECK_STR(m->options, "br=/c/up=rw:/l/1=ro");
	CHECK_INT(m->whiteout, STRATA_WHITEOUT_FORMAT_AUFS);
	CHECK(!m->readonly);
	CHECK(m->has_counters);
	CHECK_INT(m->counters.lookups, 12);
	CHECK_INT(m->counters.copy_ups, 2);
	CHECK_INT(m->counters.copy_bytes, 4096);
	CHECK_INT(m->counters.whiteouts, 1);
	CHECK_INT(m->counters.branch_changes, 0);
	CHECK_INT(m->nbr, 2);
	CHECK_INT(m->br[0].index, 0);
	CHECK_STR(m->br[0].path, "/c/up");
	CHECK_STR(strata_mode_name(m->br[0].mode), "rw");
	CHECK_STR(m->br[0].fstype, "tmpfs");
	CHECK_INT(m->br[1].index, 1);
	CHECK_STR(m->br[1].path, "/l/1");
	CHECK_STR(strata_mode_name(m->br[1].mode), "ro");
	CHECK_STR(m->br[1].fstype, "ext4");
	strata_mount_list_free(&l);
}

/* A dump: union 5 in three messages, union 2 in one, out of order. */
TEST(nl_mount_dump_merges_by_id)
{
	struct strata_mount_list l = {};
	struct strata_mount_info *m;
	static struct tmsg t;
	char *why = NULL;
	size_t i;

	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 0, 400), &l, &why), 0);
	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 400, 900), &l, &why), 0);
	CHECK_INT(strata_mount_parse(mount_msg(&t, 2, 0, 3), &l, &why), 0);
	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 900, 1000), &l, &why), 0);
	CHECK_INT(strata_mount_list_finish(&l, &why), 0);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.v[0].id, 2);
	CHECK_INT(l.v[0].nbr, 3);
	m = strata_mount_find(&l, 5);
	CHECK(m);
	CHECK_INT(m->nbr, 1000);
	for (i = 0; i < m->nbr; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/b%zu", i);
		CHECK_INT(m->br[i].index, i);
		CHECK_STR(m->br[i].path, path);
		CHECK_INT(m->br[i].mode, i % 3);
	}
	strata_mount_list_free(&l);
}

TEST(nl_mount_dump_duplicate_or_missing_branch)
{
	struct strata_mount_list l = {};
	static struct tmsg t;
	char *why = NULL;

	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 0, 10), &l, &why), 0);
	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 9, 12), &l, &why), 0);
	CHECK_INT(strata_mount_list_finish(&l, &why), -1);
	CHECK_STR(why, "union 5: branch 9 listed twice");
	strata_mount_list_free(&l);
	free(why);
	why = NULL;

	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 0, 10), &l, &why), 0);
	CHECK_INT(strata_mount_parse(mount_msg(&t, 5, 11, 12), &l, &why), 0);
	CHECK_INT(strata_mount_list_finish(&l, &why), -1);
	CHECK_STR(why, "union 5: branch 10 missing");
	strata_mount_list_free(&l);
	free(why);
}

/* Parse @buf (a patched copy of reply_one) and expect failure with @text. */
static void expect_bad(const uint8_t *buf, const char *text)
{
	struct strata_mount_list l = {};
	char *why = NULL;

	errno = 0;
	CHECK_INT(strata_mount_parse(NLH(buf), &l, &why), -1);
	CHECK_INT(errno, EBADMSG);
	CHECK_CONTAINS(why, text);
	strata_mount_list_free(&l);
	free(why);
}

TEST(nl_mount_reply_malformed)
{
	uint8_t buf[sizeof(reply_one)];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	/* The id as a u16: wrong length for a known attribute. */
	memcpy(buf, reply_one, sizeof(buf));
	buf[20] = 6;
	expect_bad(buf, "mount.id: not a valid u32 (2 bytes)");

	/* The mount point without its NUL: "/mnt/u" then padding cut off. */
	memcpy(buf, reply_one, sizeof(buf));
	buf[36] = 10;
	expect_bad(buf, "mount.mountpoint: not a valid string");

	/* The counters nest claims more than the message holds. */
	memcpy(buf, reply_one, sizeof(buf));
	buf[80] = 0xf0;
	buf[81] = 0x01;
	expect_bad(buf, "malformed mount attributes");

	/* Inside a branch, a path attribute longer than its nest. */
	memcpy(buf, reply_one, sizeof(buf));
	buf[160] = 0x40;
	expect_bad(buf, "mount.branch: malformed nested attributes");

	/* A branch without its index. */
	memcpy(buf, reply_one, sizeof(buf));
	buf[154] = 0x30;		/* index -> an unknown type, skipped */
	expect_bad(buf, "union 3: branch without index, path or mode");

	/* The message cut in the middle of an attribute (short receive). */
	memcpy(buf, reply_one, sizeof(buf));
	nlh->nlmsg_len = 150;
	expect_bad(buf, "malformed mount attributes");

	/* No id at all. */
	memcpy(buf, reply_one, sizeof(buf));
	buf[22] = 0x30;
	expect_bad(buf, "mount message without an id");

	/*
	 * A string attribute longer than 64 KiB cannot be expressed: its
	 * 16-bit length wraps, and the rest of the string is read as
	 * attributes.  That must be an error, not a shorter string.
	 */
	{
		static struct tmsg t;
		static char opts[9000];

		memset(opts, 'a', sizeof(opts) - 1);
		opts[sizeof(opts) - 1] = '\0';
		t_start(&t, 0x1c, STRATA_CMD_MOUNT_GET);
		t_u32(&t, STRATA_A_MOUNT_ID, 9);
		t_u32(&t, STRATA_A_MOUNT_DEV, 1);
		t_str(&t, STRATA_A_MOUNT_OPTIONS, opts);
		/* Pretend the length wrapped: only 1000 bytes are claimed. */
		t.b[28 + 8] = (1004) & 0xff;
		t.b[28 + 9] = (1004) >> 8;
		expect_bad((const uint8_t *)t_done(&t), "mount");
	}
}

TEST(nl_events)
{
	struct strata_copy_up_info ev;
	static struct tmsg t;
	char *why = NULL;
	uint32_t id = 0;

	CHECK_INT(strata_copy_up_parse(NLH(copy_up_ntf), &ev, &why), 0);
	CHECK_INT(ev.mount_id, 3);
	CHECK_STR(ev.path, "/dir/file");
	CHECK_INT(ev.size, 1234);
	CHECK_INT(ev.duration_ns, 2500000);
	strata_copy_up_free(&ev);

	t_start(&t, 0x1c, STRATA_CMD_MOUNT_DEL_NTF);
	t_u32(&t, STRATA_A_MOUNT_ID, 17);
	CHECK_INT(strata_mount_del_parse(t_done(&t), &id, &why), 0);
	CHECK_INT(id, 17);

	t_start(&t, 0x1c, STRATA_CMD_COPY_UP_NTF);
	t_u32(&t, STRATA_A_COPY_UP_MOUNT_ID, 3);
	CHECK_INT(strata_copy_up_parse(t_done(&t), &ev, &why), -1);
	CHECK_STR(why, "copy-up event without mount id or path");
	free(why);
}

TEST(nl_attr_stream_check)
{
	uint8_t ok[] = { 5, 0, 1, 0, 'x', 0, 0, 0, 4, 0, 2, 0 };
	uint8_t last_unpadded[] = { 4, 0, 2, 0, 5, 0, 1, 0, 'x' };
	uint8_t zero_len[] = { 0, 0, 1, 0, 4, 0, 2, 0 };
	uint8_t trailing[] = { 4, 0, 2, 0, 1, 2 };

	CHECK_INT(nla_check_stream(ok, sizeof(ok)), 0);
	CHECK_INT(nla_check_stream(last_unpadded, sizeof(last_unpadded)), 0);
	CHECK_INT(nla_check_stream(zero_len, sizeof(zero_len)), -1);
	CHECK_INT(nla_check_stream(trailing, sizeof(trailing)), -1);
	CHECK_INT(nla_check_stream(ok, 0), 0);
}

/* ---- branch changes ---- */

TEST(nl_request_branch_add)
{
	static const uint8_t want[] = {
		52, 0, 0, 0, 0x1c, 0, 0x05, 0,	/* REQUEST | ACK */
		0, 0, 0, 0, 0, 0, 0, 0,
		STRATA_CMD_BRANCH_ADD, 1, 0, 0,
		8, 0, 2, 0, 5, 0, 0, 0,		/* mount-fd = 5 */
		8, 0, 3, 0, 0, 0, 0, 0,		/* index = 0 */
		8, 0, 4, 0, '/', 'l', 'n', 0,	/* path = "/ln" */
		8, 0, 6, 0, 0, 0, 0, 0,		/* mode = rw */
	};
	struct strata_branch_req r = {
		.cmd = STRATA_CMD_BRANCH_ADD, .mount_fd = 5, .dir_fd = -1,
		.has_index = true, .index = 0,
		.has_mode = true, .mode = STRATA_BRANCH_MODE_RW, .path = "/ln",
	};
	struct nlmsg_buf m = {};
	struct nlmsghdr *nlh = strata_req_branch(&m, 0x1c, &r);

	CHECK(nlh);
	CHECK_INT(nlh->nlmsg_len, sizeof(want));
	CHECK(!memcmp(nlh, want, sizeof(want)));
	CHECK_STR(strata_req_attr_name(nlh, 20), "mount-fd");
	CHECK_STR(strata_req_attr_name(nlh, 28), "index");
	CHECK_STR(strata_req_attr_name(nlh, 36), "path");
	CHECK_STR(strata_req_attr_name(nlh, 44), "mode");
	CHECK(!strata_req_attr_name(nlh, 48));

	/* By id and directory descriptor, the kernel's defaults otherwise. */
	r = (struct strata_branch_req){
		.cmd = STRATA_CMD_BRANCH_ADD, .mount_fd = -1, .mount_id = 9,
		.dir_fd = 4,
	};
	nlh = strata_req_branch(&m, 0x1c, &r);
	CHECK(nlh);
	CHECK_INT(nlh->nlmsg_len, 20 + 8 + 8);
	CHECK_INT(((uint8_t *)nlh)[16], STRATA_CMD_BRANCH_ADD);
	CHECK_STR(strata_req_attr_name(nlh, 20), "mount-id");
	CHECK_INT(*(uint32_t *)((uint8_t *)nlh + 24), 9);
	CHECK_STR(strata_req_attr_name(nlh, 28), "dir-fd");
	CHECK_INT(*(int32_t *)((uint8_t *)nlh + 32), 4);
	nlmsg_free(&m);
}

TEST(nl_request_branch_del_and_set)
{
	static const uint8_t want_del[] = {
		36, 0, 0, 0, 0x1c, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		STRATA_CMD_BRANCH_DEL, 1, 0, 0,
		8, 0, 2, 0, 3, 0, 0, 0,		/* mount-fd = 3 */
		8, 0, 3, 0, 2, 0, 0, 0,		/* index = 2 */
	};
	static const uint8_t want_set[] = {
		44, 0, 0, 0, 0x1c, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		STRATA_CMD_BRANCH_SET, 1, 0, 0,
		8, 0, 1, 0, 7, 0, 0, 0,		/* mount-id = 7 */
		8, 0, 3, 0, 1, 0, 0, 0,		/* index = 1 */
		8, 0, 6, 0, 2, 0, 0, 0,		/* mode = rr */
	};
	struct strata_branch_req r = {
		.cmd = STRATA_CMD_BRANCH_DEL, .mount_fd = 3, .dir_fd = -1,
		.has_index = true, .index = 2,
	};
	struct nlmsg_buf m = {};
	struct nlmsghdr *nlh = strata_req_branch(&m, 0x1c, &r);

	CHECK(nlh);
	CHECK_INT(nlh->nlmsg_len, sizeof(want_del));
	CHECK(!memcmp(nlh, want_del, sizeof(want_del)));
	CHECK_STR(strata_req_attr_name(nlh, 28), "index");

	r = (struct strata_branch_req){
		.cmd = STRATA_CMD_BRANCH_SET, .mount_fd = -1, .mount_id = 7,
		.dir_fd = -1, .has_index = true, .index = 1,
		.has_mode = true, .mode = STRATA_BRANCH_MODE_RR,
	};
	nlh = strata_req_branch(&m, 0x1c, &r);
	CHECK(nlh);
	CHECK_INT(nlh->nlmsg_len, sizeof(want_set));
	CHECK(!memcmp(nlh, want_set, sizeof(want_set)));
	CHECK_STR(strata_req_attr_name(nlh, 36), "mode");
	nlmsg_free(&m);
}

TEST(nl_request_branch_refused)
{
	struct strata_branch_req r = { .mount_fd = 3, .dir_fd = -1 };
	struct nlmsg_buf m = {};

	/* Not a branch command. */
	r.cmd = STRATA_CMD_MOUNT_GET;
	errno = 0;
	CHECK(!strata_req_branch(&m, 0x1c, &r));
	CHECK_INT(errno, EINVAL);
	/* add: neither a path nor a descriptor, or both */
	r.cmd = STRATA_CMD_BRANCH_ADD;
	CHECK(!strata_req_branch(&m, 0x1c, &r));
	r.path = "/x";
	r.dir_fd = 4;
	CHECK(!strata_req_branch(&m, 0x1c, &r));
	/* del and set without an index, set without a mode */
	r.path = NULL;
	r.dir_fd = -1;
	r.cmd = STRATA_CMD_BRANCH_DEL;
	CHECK(!strata_req_branch(&m, 0x1c, &r));
	r.cmd = STRATA_CMD_BRANCH_SET;
	r.has_index = true;
	CHECK(!strata_req_branch(&m, 0x1c, &r));
	r.has_mode = true;
	CHECK(strata_req_branch(&m, 0x1c, &r));
	nlmsg_free(&m);
}

TEST(nl_branch_error_names_the_attribute)
{
	struct strata_branch_req r = {
		.cmd = STRATA_CMD_BRANCH_DEL, .mount_fd = 3, .dir_fd = -1,
		.has_index = true, .index = 9,
	};
	struct strata_nl c = {};
	struct nl_sock s = {};
	char buf[256];

	c.s = &s;
	strata_req_branch(&c.req, 0x1c, &r);
	s.ack.error = EINVAL;
	strcpy(s.ack.msg, "no branch at index 9 (3 branches)");
	s.ack.has_offs = true;
	s.ack.offs = 28;
	CHECK_STR(strata_nl_strerror(&c, EINVAL, buf, sizeof(buf)),
		  "Invalid argument (kernel: no branch at index 9 (3 branches), attribute index)");
	/* The same offset in a mount-get request is another attribute set. */
	strata_req_get_id(&c.req, 0x1c, 1);
	s.ack.offs = 20;
	CHECK_STR(strata_nl_strerror(&c, EINVAL, buf, sizeof(buf)),
		  "Invalid argument (kernel: no branch at index 9 (3 branches), attribute id)");
	nlmsg_free(&c.req);
}

TEST(nl_branch_change_event)
{
	struct strata_branch_change_info ev;
	static struct tmsg t;
	char *why = NULL;

	CHECK_INT(strata_branch_change_parse(NLH(branch_change_ntf), &ev, &why), 0);
	CHECK_INT(ev.mount_id, 3);
	CHECK_INT(ev.change, STRATA_BRANCH_CHANGE_ADD);
	CHECK_INT(ev.index, 1);
	CHECK_STR(ev.path, "/l/new");
	CHECK(ev.has_mode);
	CHECK_INT(ev.mode, STRATA_BRANCH_MODE_RO);
	strata_branch_change_free(&ev);
	CHECK(!ev.path);

	/* Unknown attributes are skipped; the mode is optional. */
	t_start(&t, 0x1c, STRATA_CMD_BRANCH_CHANGE_NTF);
	t_u32(&t, STRATA_A_BRANCH_OP_MOUNT_ID, 4);
	t_u32(&t, STRATA_A_BRANCH_OP_CHANGE, STRATA_BRANCH_CHANGE_DEL);
	t_u32(&t, STRATA_A_BRANCH_OP_INDEX, 2);
	t_str(&t, STRATA_A_BRANCH_OP_PATH, "/l/2");
	t_u32(&t, 99, 1);
	CHECK_INT(strata_branch_change_parse(t_done(&t), &ev, &why), 0);
	CHECK_INT(ev.change, STRATA_BRANCH_CHANGE_DEL);
	CHECK(!ev.has_mode);
	strata_branch_change_free(&ev);

	/* Without a path. */
	t_start(&t, 0x1c, STRATA_CMD_BRANCH_CHANGE_NTF);
	t_u32(&t, STRATA_A_BRANCH_OP_MOUNT_ID, 4);
	t_u32(&t, STRATA_A_BRANCH_OP_CHANGE, STRATA_BRANCH_CHANGE_SET);
	t_u32(&t, STRATA_A_BRANCH_OP_INDEX, 0);
	CHECK_INT(strata_branch_change_parse(t_done(&t), &ev, &why), -1);
	CHECK_INT(errno, EBADMSG);
	CHECK_STR(why, "branch-change event without mount id, change, index or path");
	CHECK(!ev.path);
	free(why);
	why = NULL;

	/* A u32 of the wrong size. */
	t_start(&t, 0x1c, STRATA_CMD_BRANCH_CHANGE_NTF);
	t_attr(&t, STRATA_A_BRANCH_OP_MOUNT_ID, "ab", 2);
	t_u32(&t, STRATA_A_BRANCH_OP_CHANGE, STRATA_BRANCH_CHANGE_SET);
	t_u32(&t, STRATA_A_BRANCH_OP_INDEX, 0);
	t_str(&t, STRATA_A_BRANCH_OP_PATH, "/l/2");
	CHECK_INT(strata_branch_change_parse(t_done(&t), &ev, &why), -1);
	CHECK_CONTAINS(why, "branch-change event: ");
	CHECK_CONTAINS(why, "mount-id");
	free(why);
	why = NULL;

	/* A path without its NUL. */
	t_start(&t, 0x1c, STRATA_CMD_BRANCH_CHANGE_NTF);
	t_u32(&t, STRATA_A_BRANCH_OP_MOUNT_ID, 4);
	t_u32(&t, STRATA_A_BRANCH_OP_CHANGE, STRATA_BRANCH_CHANGE_SET);
	t_u32(&t, STRATA_A_BRANCH_OP_INDEX, 0);
	t_attr(&t, STRATA_A_BRANCH_OP_PATH, "/l/2", 4);
	CHECK_INT(strata_branch_change_parse(t_done(&t), &ev, &why), -1);
	CHECK_CONTAINS(why, "path");
	free(why);
	why = NULL;

	/* An attribute running past the end of the message. */
	{
		uint8_t buf[sizeof(branch_change_ntf)];

		memcpy(buf, branch_change_ntf, sizeof(buf));
		buf[20] = 0xf0;
		CHECK_INT(strata_branch_change_parse(NLH(buf), &ev, &why), -1);
		CHECK(why);
		free(why);
	}
}

TEST(nl_mode_and_change_names)
{
	uint32_t mode = 7;

	CHECK_INT(strata_mode_parse("rr", &mode), 0);
	CHECK_INT(mode, STRATA_BRANCH_MODE_RR);
	CHECK_INT(strata_mode_parse("rw", &mode), 0);
	CHECK_INT(mode, STRATA_BRANCH_MODE_RW);
	CHECK_INT(strata_mode_parse("RO", &mode), -1);
	CHECK_INT(strata_mode_parse("", &mode), -1);
	CHECK_STR(strata_change_name(STRATA_BRANCH_CHANGE_SET), "set");
	CHECK_STR(strata_change_name(42), "?");
}

TEST(nl_branch_op_without_the_command)
{
	struct strata_branch_req r = {
		.cmd = STRATA_CMD_BRANCH_DEL, .mount_fd = 3, .dir_fd = -1,
		.has_index = true,
	};
	struct strata_nl c = {};
	struct nl_sock s = {};

	/* A module that lists its commands, none of them branch-del. */
	c.s = &s;
	c.fam.has_ops = true;
	c.fam.ops[STRATA_CMD_MOUNT_GET].present = true;
	errno = 0;
	CHECK_INT(strata_branch_op(&c, &r), -1);
	CHECK_INT(errno, EOPNOTSUPP);
	CHECK_INT(s.ack.error, 0);
	nlmsg_free(&c.req);
}
