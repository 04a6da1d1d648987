/*
 * test_dsn_param - RFC 3461 parameters (common/mail/dsn_param.c): tables
 * of values with what each must give, and why a refused one was refused
 */
#include <string.h>

#include "test.h"
#include "mail/dsn_param.h"
#include "util/str.h"

static void test_xtext(void)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "", "" },
		{ "abc", "abc" },
		{ "a+2Bb", "a+b" },
		{ "a+3Db", "a=b" },
		{ "+3d", "=" },			/* lower case tolerated */
		{ "x+20y", "x y" },
		{ "+C3+A9", "\xc3\xa9" },
		{ "!~", "!~" },
	};
	static const char *const bad[] = {
		"a b", "a=b", "+", "+4", "+4G", "a+", "\x7f", "\xc3\xa9", "\t",
	};
	struct str out = STR_INIT(0);

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		str_clear(&out);
		TEST_ASSERT(dsn_xtext_valid(ok[i].in, strlen(ok[i].in)));
		TEST_ASSERT(dsn_xtext_decode(ok[i].in, strlen(ok[i].in),
					     &out) == 0);
		TEST_STREQ(str_c(&out), ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dsn_xtext_valid(bad[i], strlen(bad[i])))
			printf("  accepted \"%s\"\n", bad[i]);
		TEST_ASSERT(!dsn_xtext_valid(bad[i], strlen(bad[i])));
		TEST_ASSERT(dsn_xtext_decode(bad[i], strlen(bad[i]), &out) < 0);
	}
	str_free(&out);
}

static void test_xtext_encode(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "plain", "plain" },
		{ "a+b=c", "a+2Bb+3Dc" },
		{ "a b\t", "a+20b+09" },
		{ "\xc3\xa9", "+C3+A9" },
	};
	struct str out = STR_INIT(0), back = STR_INIT(0);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		str_clear(&out);
		str_clear(&back);
		dsn_xtext_encode(t[i].in, strlen(t[i].in), &out);
		TEST_STREQ(str_c(&out), t[i].out);
		TEST_ASSERT(dsn_xtext_decode(out.s, out.len, &back) == 0);
		TEST_STREQ(str_c(&back), t[i].in);
	}
	str_free(&out);
	str_free(&back);
}

static void test_notify(void)
{
	static const struct { const char *in; unsigned bits; const char *fmt;
	} ok[] = {
		{ "NEVER", DSN_NOTIFY_NEVER, "NEVER" },
		{ "never", DSN_NOTIFY_NEVER, "NEVER" },
		{ "SUCCESS", DSN_NOTIFY_SUCCESS, "SUCCESS" },
		{ "DELAY,FAILURE", DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE,
		  "FAILURE,DELAY" },
		{ "success,failure,delay", DSN_NOTIFY_SUCCESS |
		  DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY,
		  "SUCCESS,FAILURE,DELAY" },
	};
	static const char *const bad[] = {
		"", "NEVER,SUCCESS", "SUCCESS,NEVER", "SUCCESS,SUCCESS",
		"SUCCESS,", ",SUCCESS", "SUCCESS,,DELAY", "ALWAYS",
		"SUCCESS FAILURE", "NEVERX",
	};
	struct str out = STR_INIT(0);
	const char *error = NULL;
	unsigned bits;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		TEST_ASSERT(dsn_notify_parse(ok[i].in, strlen(ok[i].in),
					     &bits, &error) == 0);
		TEST_ASSERT(bits == ok[i].bits);
		TEST_ASSERT(dsn_notify_valid(bits));
		str_clear(&out);
		dsn_notify_format(bits, &out);
		TEST_STREQ(str_c(&out), ok[i].fmt);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		TEST_ASSERT(dsn_notify_parse(bad[i], strlen(bad[i]), &bits,
					     &error) < 0);
		TEST_ASSERT(error != NULL && strstr(error, "NEVER") != NULL);
	}
	TEST_ASSERT(!dsn_notify_valid(0));
	TEST_ASSERT(!dsn_notify_valid(DSN_NOTIFY_NEVER | DSN_NOTIFY_DELAY));
	TEST_ASSERT(!dsn_notify_valid(0x10));
	str_free(&out);
}

static void test_ret(void)
{
	enum dsn_ret ret;
	const char *error = NULL;

	TEST_ASSERT(dsn_ret_parse("FULL", 4, &ret, &error) == 0 &&
		    ret == DSN_RET_FULL);
	TEST_ASSERT(dsn_ret_parse("hdrs", 4, &ret, &error) == 0 &&
		    ret == DSN_RET_HDRS);
	TEST_ASSERT(dsn_ret_parse("HEADERS", 7, &ret, &error) < 0);
	TEST_ASSERT(dsn_ret_parse("", 0, &ret, &error) < 0);
	TEST_STREQ(error, "RET must be FULL or HDRS");
}

/* A value and the word the refusal must contain (NULL: accepted). */
struct why { const char *in; const char *why; };

static void test_envid(void)
{
	static const struct why t[] = {
		{ "QQ314159", NULL },
		{ "a+2Bb", NULL },
		{ "", "1 to 100" },
		{ "a b", "xtext" },
		{ "a=b", "xtext" },
		{ "a+0Db", "control" },
		{ "a+00", "control" },
	};
	struct str s = STR_INIT(0);
	const char *error;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		error = NULL;
		if (t[i].why == NULL) {
			TEST_ASSERT(dsn_envid_check(t[i].in, strlen(t[i].in),
						    &error) == 0);
			continue;
		}
		TEST_ASSERT(dsn_envid_check(t[i].in, strlen(t[i].in),
					    &error) < 0);
		TEST_ASSERT(error != NULL && strstr(error, t[i].why) != NULL);
	}
	while (s.len < DSN_ENVID_MAX)
		str_appendc(&s, 'e');
	TEST_ASSERT(dsn_envid_check(s.s, s.len, &error) == 0);
	str_appendc(&s, 'e');
	TEST_ASSERT(dsn_envid_check(s.s, s.len, &error) < 0);
	str_free(&s);
}

static void test_orcpt(void)
{
	static const struct why t[] = {
		{ "rfc822;bob@example.test", NULL },
		{ "RFC822;a+2Bb@x", NULL },
		{ "x-local;whatever", NULL },
		{ "utf-8;\xce\xb4@x", NULL },
		{ "rfc822;", "addr-type;address" },
		{ ";bob@x", "addr-type;address" },
		{ "bob@x", "addr-type;address" },
		{ "rfc 822;bob@x", "addr-type;address" },
		{ "rfc822;bob x", "xtext" },
		{ "rfc822;bob+0A@x", "control" },
		{ "utf-8;a b", "control" },
	};
	struct str s = STR_INIT(0), type = STR_INIT(0), addr = STR_INIT(0);
	const char *error;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		error = NULL;
		if (t[i].why == NULL) {
			TEST_ASSERT(dsn_orcpt_check(t[i].in, strlen(t[i].in),
						    &error) == 0);
			continue;
		}
		TEST_ASSERT(dsn_orcpt_check(t[i].in, strlen(t[i].in),
					    &error) < 0);
		TEST_ASSERT(error != NULL && strstr(error, t[i].why) != NULL);
	}
	TEST_ASSERT(dsn_orcpt_decode("RFC822;a+2Bb@x", 14, &type, &addr) == 0);
	TEST_STREQ(str_c(&type), "RFC822");
	TEST_STREQ(str_c(&addr), "a+b@x");
	TEST_ASSERT(dsn_orcpt_decode("rfc822;a b", 10, &type, &addr) < 0);
	str_appends(&s, "rfc822;");
	while (s.len < DSN_ORCPT_MAX)
		str_appendc(&s, 'o');
	TEST_ASSERT(dsn_orcpt_check(s.s, s.len, &error) == 0);
	str_appendc(&s, 'o');
	TEST_ASSERT(dsn_orcpt_check(s.s, s.len, &error) < 0);
	TEST_ASSERT(strstr(error, "500") != NULL);
	str_free(&s);
	str_free(&type);
	str_free(&addr);
}

TEST_MAIN(test_xtext, test_xtext_encode, test_notify, test_ret, test_envid,
	  test_orcpt)
