/*
 * test_addr_plain - addresses without brackets, formatting, extensions
 * and the UTF-8 check (common/mail/addr.c)
 */
#include <string.h>

#include "test.h"
#include "util/str.h"
#include "mail/addr.h"

struct plain_case {
	const char *in;
	unsigned flags;
	int ret;		/* 0 or -1 */
	const char *formatted;	/* addr_format() on success */
	const char *error;	/* a substring of the error on failure */
};

static void test_plain(void)
{
	static const struct plain_case cases[] = {
		{ "user@Example.COM", 0, 0, "user@example.com", NULL },
		{ "<user@example.com>", 0, 0, "user@example.com", NULL },
		{ "\"x y\"@d", 0, 0, "\"x y\"@d", NULL },
		{ "root", ADDR_ALLOW_NO_DOMAIN, 0, "root", NULL },
		{ "root", 0, -1, NULL, "no domain" },
		{ "postmaster", ADDR_ALLOW_POSTMASTER, 0, "postmaster", NULL },
		{ "", ADDR_ALLOW_NULL, 0, "", NULL },
		{ "<>", ADDR_ALLOW_NULL, 0, "", NULL },
		{ "", 0, -1, NULL, "empty address" },
		{ "<>", 0, -1, NULL, "null address" },
		{ "<a@b>x", 0, -1, NULL, "after the address" },
		{ "<a@b", 0, -1, NULL, "missing '>'" },
		{ "a@b c", 0, -1, NULL, "invalid character in domain" },
		{ "a@b>", 0, -1, NULL, "invalid character in domain" },
		{ "a b@c", 0, -1, NULL, "invalid character in local" },
		{ "\"a\"x@c", 0, -1, NULL, "after local part" },
		{ "@a:b@c", 0, -1, NULL, "source routes" },
		{ "a@", 0, -1, NULL, "empty domain" },
		{ "a@b.", 0, -1, NULL, "ends with a dot" },
		{ "a%b@c", ADDR_REJECT_RELAY_TRICKS, -1, NULL, "%-hack" },
		{ "\xce\xb4@x", ADDR_UTF8, 0, "\xce\xb4@x", NULL },
		{ "\xce\xb4@x", 0, -1, NULL, "SMTPUTF8" },
		{ "a@[IPv6:::1]", 0, 0, "a@[IPv6:::1]", NULL },
	};
	struct str out = STR_INIT(0);
	struct addr a;
	const char *error;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		error = NULL;
		r = addr_parse_plain(cases[i].in, cases[i].flags, &a, &error);
		if (r != cases[i].ret)
			printf("  case \"%s\": %d (%s)\n", cases[i].in, r,
			       error ? error : "");
		TEST_ASSERT(r == cases[i].ret);
		if (r == 0 && cases[i].ret == 0) {
			str_clear(&out);
			TEST_ASSERT(addr_format(&a, &out) == 0);
			TEST_STREQ(str_c(&out), cases[i].formatted);
		}
		if (r < 0 && cases[i].ret < 0)
			TEST_ASSERT(error != NULL &&
				    strstr(error, cases[i].error) != NULL);
	}
	str_free(&out);
}

struct format_case {
	const char *path;
	const char *formatted;
	int needs_quoting;
};

static void test_format(void)
{
	static const struct format_case cases[] = {
		{ "<\"a b\"@D>", "\"a b\"@d", 1 },
		{ "<\"abc\"@d>", "abc@d", 0 },
		{ "<\"a.b\"@d>", "a.b@d", 0 },
		{ "<\"a\\\"b\"@d>", "\"a\\\"b\"@d", 1 },
		{ "<\"a\\\\b\"@d>", "\"a\\\\b\"@d", 1 },
		{ "<\"a..b\"@d>", "\"a..b\"@d", 1 },
		{ "<\".a\"@d>", "\".a\"@d", 1 },
		{ "<\"a.\"@d>", "\"a.\"@d", 1 },
		{ "<\"\\a\\b\"@d>", "ab@d", 0 },
		{ "<\"a@b\"@d>", "\"a@b\"@d", 1 },
		{ "<Postmaster>", "Postmaster", 0 },
		{ "<>", "", 0 },
		{ "<A.B@[IPV6:::1]>", "A.B@[IPv6:::1]", 0 },
	};
	unsigned flags = ADDR_ALLOW_NULL | ADDR_ALLOW_POSTMASTER;
	struct str out = STR_INIT(0);
	struct addr a, b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].path;

		TEST_ASSERT(addr_parse_path(p, strlen(p), flags, &a, NULL) ==
			    (int)strlen(p));
		str_clear(&out);
		TEST_ASSERT(addr_format(&a, &out) == 0);
		TEST_STREQ(str_c(&out), cases[i].formatted);
		TEST_ASSERT(addr_local_needs_quoting(&a) ==
			    cases[i].needs_quoting);
		/* what addr_format writes parses back to the same address */
		TEST_ASSERT(addr_parse_plain(str_c(&out), flags, &b, NULL) == 0);
		TEST_STREQ(b.local, a.local);
		TEST_STREQ(b.domain, a.domain);
	}
	str_free(&out);
}

static void test_format_cap(void)
{
	struct str out = STR_INIT(4);
	struct addr a;

	TEST_ASSERT(addr_parse_plain("abc@d", 0, &a, NULL) == 0);
	TEST_ASSERT(addr_format(&a, &out) == -1);
	str_free(&out);
	str_init(&out, 5);
	TEST_ASSERT(addr_format(&a, &out) == 0);
	TEST_STREQ(str_c(&out), "abc@d");
	str_free(&out);
}

struct ext_case {
	const char *local;
	char sep;
	int ret;
	size_t base_len;
	const char *ext;	/* NULL when ret is 0 */
};

static void test_split_extension(void)
{
	static const struct ext_case cases[] = {
		{ "user+tag", '+', 1, 4, "tag" },
		{ "user", '+', 0, 4, NULL },
		{ "+tag", '+', 0, 4, NULL },
		{ "user+", '+', 1, 4, "" },
		{ "a+b+c", '+', 1, 1, "b+c" },
		{ "user-list", '-', 1, 4, "list" },
		{ "user-list", '+', 0, 9, NULL },
		{ "", '+', 0, 0, NULL },
	};
	size_t i, base;
	const char *ext;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ext_case *c = &cases[i];

		r = addr_split_extension(c->local, strlen(c->local), c->sep,
					 &base, &ext);
		TEST_ASSERT(r == c->ret);
		TEST_ASSERT(base == c->base_len);
		if (c->ext == NULL)
			TEST_ASSERT(ext == NULL);
		else
			TEST_STREQ(ext, c->ext);
	}
}

struct utf8_case {
	const char *s;
	int ret;
};

static void test_check_utf8(void)
{
	static const struct utf8_case cases[] = {
		{ "plain ascii", 0 },
		{ "", 0 },
		{ "gr\xc3\xbc\xc3\x9f", 0 },
		{ "\xe2\x82\xac", 0 },
		{ "\xf0\x9f\x98\x80", 0 },
		{ "\xef\xbf\xbf", 0 },
		{ "\xf4\x8f\xbf\xbf", 0 },
		{ "\xc2\xa0", 0 },
		{ "\xc2\x9f", -1 },		/* C1 control */
		{ "\xc1\xbf", -1 },		/* overlong */
		{ "\xe0\x9f\xbf", -1 },		/* overlong */
		{ "\xf0\x8f\xbf\xbf", -1 },	/* overlong */
		{ "\xed\xbf\xbf", -1 },		/* surrogate */
		{ "\xf4\x90\x80\x80", -1 },	/* above U+10FFFF */
		{ "\xf5\x80\x80\x80", -1 },
		{ "\x80", -1 },
		{ "\xe2\x82", -1 },
		{ "\xe2\x28\xa1", -1 },
		{ "tab\there", -1 },
		{ "del\x7f", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].s;

		if (addr_check_utf8(s, strlen(s)) != cases[i].ret)
			printf("  case %zu\n", i);
		TEST_ASSERT(addr_check_utf8(s, strlen(s)) == cases[i].ret);
	}
	TEST_ASSERT(addr_check_utf8("a\0b", 3) == -1);
}

static void test_is_ascii(void)
{
	struct addr a;

	TEST_ASSERT(addr_parse_plain("a@b", 0, &a, NULL) == 0);
	TEST_ASSERT(addr_is_ascii(&a) == 1);
	TEST_ASSERT(addr_parse_plain("\xc3\xa9@b", ADDR_UTF8, &a, NULL) == 0);
	TEST_ASSERT(addr_is_ascii(&a) == 0);
	TEST_ASSERT(addr_parse_plain("a@\xc3\xa9", ADDR_UTF8, &a, NULL) == 0);
	TEST_ASSERT(addr_is_ascii(&a) == 0);
}

TEST_MAIN(test_plain, test_format, test_format_cap, test_split_extension,
	  test_check_utf8, test_is_ascii)
