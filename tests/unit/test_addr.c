/*
 * test_addr - envelope address parsing (common/mail/addr.c)
 *
 * Tables of paths and plain addresses with the expected result: the number
 * of bytes consumed (or -1), the parsed local part and domain, and a word
 * of the error message, so a rejection for the wrong reason fails too.
 */
#include <string.h>

#include "test.h"
#include "util/str.h"
#include "mail/addr.h"

#define U8 ADDR_UTF8
#define NUL ADDR_ALLOW_NULL
#define RELAY ADDR_REJECT_RELAY_TRICKS
#define PM ADDR_ALLOW_POSTMASTER
#define NODOM ADDR_ALLOW_NO_DOMAIN

struct path_case {
	const char *in;
	unsigned flags;
	int ret;		/* bytes consumed, or -1 */
	const char *local;	/* expected on success */
	const char *domain;
	const char *error;	/* a substring of the error on failure */
};

static void path_case_check(const struct path_case *c, size_t len)
{
	struct addr a;
	const char *error = NULL;
	int r = addr_parse_path(c->in, len, c->flags, &a, &error);

	if (r != c->ret)
		printf("  case \"%s\": got %d (%s)\n", c->in, r,
		       error ? error : "");
	TEST_ASSERT(r == c->ret);
	if (r >= 0 && c->ret >= 0) {
		TEST_STREQ(a.local, c->local);
		TEST_STREQ(a.domain, c->domain);
		TEST_ASSERT(a.local_len == strlen(c->local));
		TEST_ASSERT(a.domain_len == strlen(c->domain));
	}
	if (r < 0 && c->ret < 0) {
		TEST_ASSERT(error != NULL && strstr(error, c->error) != NULL);
		if (error != NULL && strstr(error, c->error) == NULL)
			printf("  case \"%s\": error \"%s\"\n", c->in, error);
	}
}

static void path_cases_run(const struct path_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		path_case_check(&cases[i], strlen(cases[i].in));
}

#define RUN(cases) path_cases_run(cases, sizeof(cases) / sizeof(cases[0]))

static void test_path_valid(void)
{
	static const struct path_case cases[] = {
		{ "<user@example.com>", 0, 18, "user", "example.com", NULL },
		{ "<User.Name@EXAMPLE.Com>", 0, 23, "User.Name", "example.com", NULL },
		{ "<a@b> SIZE=100", 0, 5, "a", "b", NULL },
		{ "<a@b>>", 0, 5, "a", "b", NULL },
		{ "<first.last+tag@sub-1.example.org>", 0, 34,
		  "first.last+tag", "sub-1.example.org", NULL },
		{ "<!#$%&'*+-/=?^_`{|}~@x.y>", 0, 25, "!#$%&'*+-/=?^_`{|}~",
		  "x.y", NULL },
		{ "<a@1.2.3.4>", 0, 11, "a", "1.2.3.4", NULL },
		{ "<a@localhost>", 0, 13, "a", "localhost", NULL },
		{ "<a@xn--bcher-kva.example>", 0, 25, "a",
		  "xn--bcher-kva.example", NULL },
	};
	RUN(cases);
}

static void test_path_null(void)
{
	static const struct path_case cases[] = {
		{ "<>", NUL, 2, "", "", NULL },
		{ "<> SIZE=10", NUL, 2, "", "", NULL },
		{ "<>", 0, -1, NULL, NULL, "null address" },
		{ "<>", PM, -1, NULL, NULL, "null address" },
	};
	struct addr a;

	RUN(cases);
	TEST_ASSERT(addr_parse_path("<>", 2, NUL, &a, NULL) == 2);
	TEST_ASSERT(a.is_null == 1);
	TEST_ASSERT(addr_parse_path("<a@b>", 5, NUL, &a, NULL) == 5);
	TEST_ASSERT(a.is_null == 0);
}

static void test_path_structure(void)
{
	static const struct path_case cases[] = {
		{ "<@a,@b:u@d>", 0, -1, NULL, NULL, "source routes" },
		{ "<@a:u@d>", 0, -1, NULL, NULL, "source routes" },
		{ "a@b", 0, -1, NULL, NULL, "enclosed in <>" },
		{ "", 0, -1, NULL, NULL, "enclosed in <>" },
		{ " <a@b>", 0, -1, NULL, NULL, "enclosed in <>" },
		{ "<a@b", 0, -1, NULL, NULL, "missing '>'" },
		{ "<a", 0, -1, NULL, NULL, "missing '>'" },
		{ "<", 0, -1, NULL, NULL, "empty local part" },
		{ "<a>", 0, -1, NULL, NULL, "no domain" },
		{ "<a@>", 0, -1, NULL, NULL, "empty domain" },
		{ "<a@b@c>", 0, -1, NULL, NULL, "invalid character in domain" },
		{ "<\"a\"b@c>", 0, -1, NULL, NULL, "after local part" },
		{ "<a@b c>", 0, -1, NULL, NULL, "invalid character in domain" },
	};
	RUN(cases);
}

static void test_path_postmaster(void)
{
	static const struct path_case cases[] = {
		{ "<Postmaster>", PM, 12, "Postmaster", "", NULL },
		{ "<POSTMASTER>", PM, 12, "POSTMASTER", "", NULL },
		{ "<Postmaster>", 0, -1, NULL, NULL, "no domain" },
		{ "<root>", PM, -1, NULL, NULL, "no domain" },
		{ "<root>", NODOM, 6, "root", "", NULL },
		{ "<postmaster@Example.Test>", PM, 25, "postmaster",
		  "example.test", NULL },
	};
	RUN(cases);
}

static void test_path_relay_tricks(void)
{
	static const struct path_case cases[] = {
		{ "<a%b@c>", RELAY, -1, NULL, NULL, "%-hack" },
		{ "<a!b@c>", RELAY, -1, NULL, NULL, "bang path" },
		{ "<\"a@b\"@c>", RELAY, -1, NULL, NULL, "'@' in local part" },
		{ "<\"a%b\"@c>", RELAY, -1, NULL, NULL, "%-hack" },
		{ "<a%b@c>", 0, 7, "a%b", "c", NULL },
		{ "<a!b@c>", 0, 7, "a!b", "c", NULL },
		{ "<\"a@b\"@c>", 0, 9, "a@b", "c", NULL },
	};
	RUN(cases);
}

static void test_path_local_part(void)
{
	static const struct path_case cases[] = {
		{ "<.a@b>", 0, -1, NULL, NULL, "begins with a dot" },
		{ "<a.@b>", 0, -1, NULL, NULL, "ends with a dot" },
		{ "<a..b@c>", 0, -1, NULL, NULL, "empty atom" },
		{ "<@b>", 0, -1, NULL, NULL, "source routes" },
		{ "<a b@c>", 0, -1, NULL, NULL, "invalid character in local" },
		{ "<a(b)@c>", 0, -1, NULL, NULL, "invalid character in local" },
		{ "<a\"b@c>", 0, -1, NULL, NULL, "invalid character in local" },
		{ "<a,b@c>", 0, -1, NULL, NULL, "invalid character in local" },
		{ "<a\\b@c>", 0, -1, NULL, NULL, "invalid character in local" },
	};
	RUN(cases);
}

static void test_path_quoted(void)
{
	static const struct path_case cases[] = {
		{ "<\"a b\"@d>", 0, 9, "a b", "d", NULL },
		{ "<\"a\\\"b\"@d>", 0, 10, "a\"b", "d", NULL },
		{ "<\"a\\\\b\"@d>", 0, 10, "a\\b", "d", NULL },
		{ "<\"\\a\"@d>", 0, 8, "a", "d", NULL },
		{ "<\"a..b\"@d>", 0, 10, "a..b", "d", NULL },
		{ "<\"a>b\"@d>", 0, 9, "a>b", "d", NULL },
		{ "<\"\"@d>", 0, -1, NULL, NULL, "empty local part" },
		{ "<\"abc@d>", 0, -1, NULL, NULL, "unterminated" },
		{ "<\"abc\\", 0, -1, NULL, NULL, "unterminated" },
		{ "<\"a\tb\"@d>", 0, -1, NULL, NULL, "control character" },
		{ "<\"a\\\x01\"@d>", 0, -1, NULL, NULL, "control character" },
		{ "<\"a\\\xc3\xa9\"@d>", U8, -1, NULL, NULL, "quoted-pair" },
		{ "<\"\xc3\xa9 x\"@d>", U8, 10, "\xc3\xa9 x", "d", NULL },
	};
	RUN(cases);
}

static void test_path_domain(void)
{
	static const struct path_case cases[] = {
		{ "<a@b.>", 0, -1, NULL, NULL, "ends with a dot" },
		{ "<a@.b>", 0, -1, NULL, NULL, "begins with a dot" },
		{ "<a@b..c>", 0, -1, NULL, NULL, "empty label" },
		{ "<a@-b.c>", 0, -1, NULL, NULL, "begins with a hyphen" },
		{ "<a@b-.c>", 0, -1, NULL, NULL, "ends with a hyphen" },
		{ "<a@b.c->", 0, -1, NULL, NULL, "ends with a hyphen" },
		{ "<a@b.-c>", 0, -1, NULL, NULL, "begins with a hyphen" },
		{ "<a@b_c.d>", 0, -1, NULL, NULL, "invalid character in domain" },
		{ "<a@b.c-d.e>", 0, 11, "a", "b.c-d.e", NULL },
		{ "<a@B--C.D>", 0, 10, "a", "b--c.d", NULL },
	};
	RUN(cases);
}

static void test_path_literal(void)
{
	static const struct path_case cases[] = {
		{ "<a@[1.2.3.4]>", 0, 13, "a", "[1.2.3.4]", NULL },
		{ "<a@[IPv6:::1]>", 0, 14, "a", "[IPv6:::1]", NULL },
		{ "<a@[ipv6:2001:DB8::1]>", 0, 22, "a", "[IPv6:2001:db8::1]", NULL },
		{ "<a@[IPv6:::ffff:1.2.3.4]>", 0, 25, "a",
		  "[IPv6:::ffff:1.2.3.4]", NULL },
		{ "<a@[1.2.3.256]>", 0, -1, NULL, NULL, "invalid IPv4" },
		{ "<a@[1.2.3]>", 0, -1, NULL, NULL, "invalid IPv4" },
		{ "<a@[1.2.3.4.5]>", 0, -1, NULL, NULL, "invalid IPv4" },
		{ "<a@[IPv6:1.2.3.4]>", 0, -1, NULL, NULL, "invalid IPv6" },
		{ "<a@[IPv6:1:2:3:4:5:6:7:8:9]>", 0, -1, NULL, NULL,
		  "invalid IPv6" },
		{ "<a@[::1]>", 0, -1, NULL, NULL, "unsupported address literal" },
		{ "<a@[x-tag:foo]>", 0, -1, NULL, NULL, "unsupported" },
		{ "<a@[1.2.3.4>", 0, -1, NULL, NULL, "unterminated address literal" },
		{ "<a@[]>", 0, -1, NULL, NULL, "invalid address literal" },
		{ "<a@[IPv6:]>", 0, -1, NULL, NULL, "invalid address literal" },
		{ "<a@[ 1.2.3.4]>", 0, -1, NULL, NULL, "invalid IPv4" },
	};
	struct addr a;

	RUN(cases);
	TEST_ASSERT(addr_parse_path("<a@[1.2.3.4]>", 13, 0, &a, NULL) == 13);
	TEST_ASSERT(a.is_literal == 1);
	TEST_ASSERT(addr_parse_path("<a@b>", 5, 0, &a, NULL) == 5);
	TEST_ASSERT(a.is_literal == 0);
}

static void test_path_utf8(void)
{
	static const struct path_case cases[] = {
		{ "<\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1.\xce\xb4>", U8, 16,
		  "\xce\xb4\xce\xbf\xce\xba", "\xcf\x80\xce\xb1.\xce\xb4", NULL },
		{ "<\xce\xb4@X.example>", U8, 14, "\xce\xb4", "x.example", NULL },
		{ "<\xf0\x9f\x98\x80@x>", U8, 8, "\xf0\x9f\x98\x80", "x", NULL },
		{ "<\xce\xb4@x>", 0, -1, NULL, NULL, "SMTPUTF8" },
		{ "<a@\xce\xb4>", 0, -1, NULL, NULL, "SMTPUTF8" },
		{ "<\xc3\x28@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xc0\xaf@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xe0\x80\xaf@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xed\xa0\x80@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xf4\x90\x80\x80@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xc2\x85@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xff@x>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<a@x\xe2\x82>", U8, -1, NULL, NULL, "invalid UTF-8" },
		{ "<\xe2\x82", U8, -1, NULL, NULL, "invalid UTF-8" },
	};
	RUN(cases);
}

static void test_path_control(void)
{
	static const struct path_case cases[] = {
		{ "<a\tb@c>", 0, -1, NULL, NULL, "control character" },
		{ "<a\r@c>", 0, -1, NULL, NULL, "control character" },
		{ "<a@c\n>", 0, -1, NULL, NULL, "control character" },
		{ "<a\x01@c>", 0, -1, NULL, NULL, "control character" },
		{ "<a@b\x7f>", 0, -1, NULL, NULL, "control character" },
		{ "<a@b\x7f>", U8, -1, NULL, NULL, "control character" },
	};
	static const char nul_local[] = "<a\0b@c>";
	static const char nul_domain[] = "<a@b\0c>";
	static const char nul_literal[] = "<a@[1.2.3.4\0x]>";
	struct addr a;
	const char *error = NULL;

	RUN(cases);
	TEST_ASSERT(addr_parse_path(nul_local, sizeof(nul_local) - 1, 0, &a,
				    &error) == -1);
	TEST_ASSERT(addr_parse_path(nul_domain, sizeof(nul_domain) - 1, 0, &a,
				    &error) == -1);
	TEST_ASSERT(addr_parse_path(nul_literal, sizeof(nul_literal) - 1, 0,
				    &a, &error) == -1);
	TEST_ASSERT(error != NULL && strstr(error, "literal") != NULL);
}

/* "<" + n x 'l' + "@" + domain + ">" */
static void long_path(struct str *s, size_t local_n, const char *domain)
{
	size_t i;

	str_clear(s);
	TEST_ASSERT(str_appendc(s, '<') == 0);
	for (i = 0; i < local_n; i++)
		TEST_ASSERT(str_appendc(s, 'l') == 0);
	TEST_ASSERT(str_appendf(s, "@%s>", domain) == 0);
}

/* n bytes of labels "ddd...d.ddd" (63-octet labels, dots between) */
static void long_domain(struct str *s, size_t n)
{
	size_t i;

	str_clear(s);
	for (i = 0; i < n; i++)
		TEST_ASSERT(str_appendc(s, i % 64 == 63 ? '.' : 'd') == 0);
}

static void test_path_lengths(void)
{
	struct str path = STR_INIT(0), dom = STR_INIT(0);
	struct addr a;
	const char *error = NULL;

	long_path(&path, 64, "x");
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == 68);
	TEST_ASSERT(a.local_len == 64);
	long_path(&path, 65, "x");
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == -1);
	TEST_ASSERT(strstr(error, "longer than 64") != NULL);

	long_domain(&dom, 252);
	long_path(&path, 1, dom.s);		/* 1 + 1 + 252 = 254 */
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == 256);
	TEST_ASSERT(a.domain_len == 252);
	long_path(&path, 2, dom.s);		/* 255 */
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == -1);
	TEST_ASSERT(strstr(error, "longer than 254") != NULL);

	long_domain(&dom, 256);
	long_path(&path, 1, dom.s);
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == -1);
	TEST_ASSERT(strstr(error, "longer than 255") != NULL);
	str_free(&path);
	str_free(&dom);
}

static void test_quoted_lengths(void)
{
	/* quotes count: "62 x q" is 64 octets, "63 x q" is 65 */
	struct str path = STR_INIT(0);
	struct addr a;
	const char *error = NULL;
	size_t i;

	TEST_ASSERT(str_appends(&path, "<\"") == 0);
	for (i = 0; i < 62; i++)
		TEST_ASSERT(str_appendc(&path, 'q') == 0);
	TEST_ASSERT(str_appends(&path, "\"@x>") == 0);
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == 68);
	TEST_ASSERT(a.local_len == 62);
	str_clear(&path);
	TEST_ASSERT(str_appends(&path, "<\"") == 0);
	for (i = 0; i < 63; i++)
		TEST_ASSERT(str_appendc(&path, 'q') == 0);
	TEST_ASSERT(str_appends(&path, "\"@x>") == 0);
	TEST_ASSERT(addr_parse_path(path.s, path.len, 0, &a, &error) == -1);
	TEST_ASSERT(strstr(error, "longer than 64") != NULL);
	str_free(&path);
}

static void test_domain_check(void)
{
	struct str dom = STR_INIT(0);
	const char *error = NULL;

	long_domain(&dom, 255);
	TEST_ASSERT(addr_check_domain(dom.s, dom.len, 0, &error) == 0);
	long_domain(&dom, 256);
	TEST_ASSERT(addr_check_domain(dom.s, dom.len, 0, &error) == -1);
	TEST_ASSERT(strstr(error, "longer than 255") != NULL);
	/* a label of 63 passes, 64 fails */
	str_clear(&dom);
	while (dom.len < 63)
		TEST_ASSERT(str_appendc(&dom, 'e') == 0);
	TEST_ASSERT(addr_check_domain(dom.s, dom.len, 0, &error) == 0);
	TEST_ASSERT(str_appends(&dom, "e.x") == 0);
	TEST_ASSERT(addr_check_domain(dom.s, dom.len, 0, &error) == -1);
	TEST_ASSERT(strstr(error, "63") != NULL);
	TEST_ASSERT(addr_check_domain("", 0, 0, NULL) == -1);
	TEST_ASSERT(addr_check_domain("[10.0.0.1]", 10, 0, NULL) == 0);
	TEST_ASSERT(addr_check_domain("mail.example.com", 16, 0, NULL) == 0);
	TEST_ASSERT(addr_check_domain("my_pc", 5, 0, NULL) == -1);
	str_free(&dom);
}

TEST_MAIN(test_path_valid, test_path_null, test_path_structure,
	  test_path_postmaster, test_path_relay_tricks, test_path_local_part,
	  test_path_quoted, test_path_domain, test_path_literal,
	  test_path_utf8, test_path_control, test_path_lengths,
	  test_quoted_lengths, test_domain_check)
