/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test.h - a tiny host-only unit test harness.
 *
 * TEST(name) { ... } defines a test; it registers itself at startup.  The
 * runner (runner.c) forks once per test, so a crash, a namespace change or
 * a leaked descriptor stays inside that test.  Output is TAP-like:
 *
 *   ok 3 - branchspec_escape_round_trip
 *   not ok 4 - ...
 *   # file.c:42: CHECK(x == 1) failed
 *   ok 5 - mount_tmpfs_log # SKIP no mount namespace
 *
 * and the last line is "N passed, N failed" (skipped tests in neither).
 */
#ifndef STRATA_TEST_H
#define STRATA_TEST_H

#include <stdio.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(void);
	struct test *next;
};

void test_register(struct test *t);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void test_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Path of the built helper (argv[1] of the runner), or NULL. */
extern const char *test_helper;

#define TEST(name)							\
	static void test_fn_##name(void);				\
	static struct test test_##name = { #name, test_fn_##name, NULL };\
	__attribute__((constructor)) static void test_reg_##name(void)	\
	{								\
		test_register(&test_##name);				\
	}								\
	static void test_fn_##name(void)

#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_INT(a, b)							\
	do {								\
		long long _a = (a), _b = (b);				\
		if (_a != _b)						\
			test_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", \
				  #a, _a, _b);				\
	} while (0)

#define CHECK_STR(a, b)							\
	do {								\
		const char *_a = (a), *_b = (b);			\
		if (!_a || !_b || strcmp(_a, _b))			\
			test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
				  #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
	} while (0)

/* @hay contains @needle */
#define CHECK_CONTAINS(hay, needle)					\
	do {								\
		const char *_h = (hay), *_n = (needle);			\
		if (!_h || !strstr(_h, _n))				\
			test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
				  _h ? _h : "(null)", _n);		\
	} while (0)

#define SKIP(...) test_skip(__VA_ARGS__)

/* helpers.c */
/* A fresh empty directory under $TMPDIR; removed by the runner. */
const char *test_tmpdir(void);
/* Write @text to a new file in test_tmpdir(); returns its path. */
char *test_write_file(const char *name, const char *text);
/*
 * Run @fn(@arg) with stderr redirected; returns fn's result and stores
 * what it printed (malloc'ed) in *out.
 */
int test_capture_stderr(int (*fn)(void *), void *arg, char **out);
/*
 * Run the helper with @argv (argv[0] ignored), capturing stdout and stderr.
 * Returns the exit status, or -1 if it did not exit normally.
 */
int test_run_helper(char *const argv[], char **out, char **err);
/*
 * Enter a private mount namespace (with a user namespace when not root).
 * Returns 0, or -1 when the system does not allow it.
 */
int test_enter_mount_ns(void);

#endif /* STRATA_TEST_H */
