// SPDX-License-Identifier: GPL-2.0
/*
 * branchspec_test.c - DIR[=MODE] elements, br= values, escaping.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../branchspec.h"

static void parse_ok(const char *arg, const char *path, enum branch_mode mode)
{
	struct branch br;
	char *err = NULL;

	if (branchspec_parse(arg, &br, &err))
		test_fail(__FILE__, __LINE__, "parse \"%s\": %s", arg, err);
	CHECK_STR(br.path, path);
	CHECK_INT(br.mode, mode);
	free(br.path);
}

static void parse_err(const char *arg, const char *msg)
{
	struct branch br;
	char *err = NULL;

	if (!branchspec_parse(arg, &br, &err))
		test_fail(__FILE__, __LINE__, "parse \"%s\" succeeded", arg);
	CHECK_STR(err, msg);
	free(err);
}

TEST(branchspec_modes)
{
	enum branch_mode m;

	parse_ok("/a", "/a", BRANCH_MODE_DEFAULT);
	parse_ok("/a=rw", "/a", BRANCH_MODE_RW);
	parse_ok("/a=ro", "/a", BRANCH_MODE_RO);
	parse_ok("/a=rr", "/a", BRANCH_MODE_RR);
	parse_ok("rel/dir=ro", "rel/dir", BRANCH_MODE_RO);
	CHECK_STR(branch_mode_name(BRANCH_MODE_RR), "rr");
	CHECK(branch_mode_name(BRANCH_MODE_DEFAULT) == NULL);
	CHECK_INT(branch_mode_parse("ro", &m), 0);
	CHECK_INT(m, BRANCH_MODE_RO);
	CHECK_INT(branch_mode_parse("RO", &m), -1);
}

TEST(branchspec_errors)
{
	parse_err("", "empty branch path");
	parse_err("=ro", "empty branch path");
	parse_err("/a=xx", "branch /a: unknown mode 'xx'");
	parse_err("/a=", "branch /a: unknown mode ''");
	/* the last '=' starts the mode, as in the kernel */
	parse_err("/a=b", "branch /a: unknown mode 'b'");
	parse_err("/a=r\\:o", "branch /a: unknown mode 'r:o'");
}

TEST(branchspec_escapes)
{
	parse_ok("/a\\=b=ro", "/a=b", BRANCH_MODE_RO);
	parse_ok("/a\\\\", "/a\\", BRANCH_MODE_DEFAULT);
	parse_ok("/a\\\\=rr", "/a\\", BRANCH_MODE_RR);
	parse_ok("/a\\:b\\,c", "/a:b,c", BRANCH_MODE_DEFAULT);
	/* ':' and ',' need no escape in a single element */
	parse_ok("/a:b,c=ro", "/a:b,c", BRANCH_MODE_RO);
	/* a backslash makes any character literal; a trailing one stays */
	parse_ok("/a\\x", "/ax", BRANCH_MODE_DEFAULT);
	parse_ok("/a\\", "/a\\", BRANCH_MODE_DEFAULT);
	parse_ok("/a=b=ro", "/a=b", BRANCH_MODE_RO);
	parse_ok("/a=ro=rw", "/a=ro", BRANCH_MODE_RW);
	parse_ok("/sp ace/\xc3\xa9", "/sp ace/\xc3\xa9", BRANCH_MODE_DEFAULT);
}

TEST(branchspec_br_value)
{
	struct branch_list l = {};
	char *err = NULL;

	CHECK_INT(branchspec_parse_br("/top=rw:/mid:/x\\:y=rr:/z\\,w\\=v", &l, &err), 0);
	CHECK_INT(l.n, 4);
	CHECK_STR(l.v[0].path, "/top");
	CHECK_INT(l.v[0].mode, BRANCH_MODE_RW);
	CHECK_STR(l.v[1].path, "/mid");
	CHECK_INT(l.v[1].mode, BRANCH_MODE_DEFAULT);
	CHECK_STR(l.v[2].path, "/x:y");
	CHECK_INT(l.v[2].mode, BRANCH_MODE_RR);
	CHECK_STR(l.v[3].path, "/z,w=v");
	branch_list_free(&l);

	CHECK_INT(branchspec_parse_br("/a::/b", &l, &err), -1);
	CHECK_STR(err, "empty branch path");
	free(err);
	branch_list_free(&l);
	CHECK_INT(branchspec_parse_br("/a:", &l, &err), -1);
	CHECK_STR(err, "empty branch path");
	free(err);
	branch_list_free(&l);
	CHECK_INT(branchspec_parse_br("/a=ro:/b=q:/c", &l, &err), -1);
	CHECK_STR(err, "branch /b: unknown mode 'q'");
	free(err);
	branch_list_free(&l);
}

TEST(branchspec_format)
{
	struct branch_list l = {};
	char *s;

	branch_list_add(&l, strdup("/a:b"), BRANCH_MODE_RO);
	branch_list_add(&l, strdup("/c=d"), BRANCH_MODE_DEFAULT);
	branch_list_add(&l, strdup("/e,f\\"), BRANCH_MODE_RR);
	s = branchspec_format_br(&l);
	CHECK_STR(s, "/a\\:b=ro:/c\\=d:/e\\,f\\\\=rr");
	free(s);
	s = branchspec_escape(":=,\\");
	CHECK_STR(s, "\\:\\=\\,\\\\");
	free(s);
	branch_list_free(&l);
}

/* escape, then parse as an element and as part of a br= value */
static void round_trip(const char *path, enum branch_mode mode)
{
	struct branch_list in = {}, out = {};
	struct branch br = { .path = (char *)path, .mode = mode }, got;
	char *elem = branchspec_format(&br), *value, *err = NULL;

	if (branchspec_parse(elem, &got, &err))
		test_fail(__FILE__, __LINE__, "\"%s\" -> \"%s\": %s", path, elem, err);
	if (strcmp(got.path, path) || got.mode != mode)
		test_fail(__FILE__, __LINE__, "\"%s\" -> \"%s\" -> \"%s\"",
			  path, elem, got.path);
	free(got.path);

	branch_list_add(&in, strdup("/first"), BRANCH_MODE_RO);
	branch_list_add(&in, strdup(path), mode);
	branch_list_add(&in, strdup("/last"), BRANCH_MODE_RR);
	value = branchspec_format_br(&in);
	if (branchspec_parse_br(value, &out, &err))
		test_fail(__FILE__, __LINE__, "br=%s: %s", value, err);
	CHECK_INT(out.n, 3);
	CHECK_STR(out.v[1].path, path);
	CHECK_INT(out.v[1].mode, mode);
	CHECK_STR(out.v[2].path, "/last");
	free(value);
	free(elem);
	branch_list_free(&in);
	branch_list_free(&out);
}

TEST(branchspec_escape_round_trip)
{
	static const char *const paths[] = {
		"/plain", "/a:b", "/a=b", "/a,b", "/a\\b", "\\", "/trail\\",
		"::", "==", ",,", "\\\\:", "=ro", "/x=rw:y=ro", "/\\:\\=",
		"/with space/and\ttab", "/\xe2\x9c\x93",
	};
	static const char alphabet[] = "ab/:=,\\";
	char buf[24];
	unsigned int seed = 1;
	size_t i, j, len;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		round_trip(paths[i], BRANCH_MODE_DEFAULT);
		round_trip(paths[i], BRANCH_MODE_RR);
	}
	/* pseudo-random strings over the characters that matter */
	for (i = 0; i < 5000; i++) {
		seed = seed * 1103515245 + 12345;
		len = 1 + (seed >> 16) % (sizeof(buf) - 1);
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245 + 12345;
			buf[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		buf[len] = '\0';
		round_trip(buf, (enum branch_mode)(i % 4));
	}
}

static int read_list(const char *text, struct branch_list *l, char **err)
{
	char *path = test_write_file("list", text);
	FILE *f = fopen(path, "r");
	int ret;

	CHECK(f != NULL);
	ret = branchspec_read(f, "list", l, err);
	fclose(f);
	free(path);
	return ret;
}

TEST(branchspec_read_file)
{
	struct branch_list l = {};
	char *err = NULL;

	CHECK_INT(read_list("# layers, top first\n/top=ro\n\n/mid\n"
			    "/with space=rr\n/no-newline", &l, &err), 0);
	CHECK_INT(l.n, 4);
	CHECK_STR(l.v[0].path, "/top");
	CHECK_INT(l.v[0].mode, BRANCH_MODE_RO);
	CHECK_STR(l.v[2].path, "/with space");
	CHECK_INT(l.v[2].mode, BRANCH_MODE_RR);
	CHECK_STR(l.v[3].path, "/no-newline");
	branch_list_free(&l);

	CHECK_INT(read_list("/a\n/b\n/c=bad\n", &l, &err), -1);
	CHECK_STR(err, "list:3: branch /c: unknown mode 'bad'");
	free(err);
	branch_list_free(&l);
	CHECK_INT(read_list("/a\n=ro\n", &l, &err), -1);
	CHECK_STR(err, "list:2: empty branch path");
	free(err);
	branch_list_free(&l);
}

TEST(branchspec_read_many)
{
	struct branch_list l = {};
	size_t i, n = 10000, len = 0;
	char *text = malloc(n * 32), *err = NULL;

	for (i = 0; i < n; i++)
		len += sprintf(text + len, "/layers/%zu=rr\n", i);
	CHECK_INT(read_list(text, &l, &err), 0);
	CHECK_INT(l.n, n);
	CHECK_STR(l.v[n - 1].path, "/layers/9999");
	free(text);
	branch_list_free(&l);
}
