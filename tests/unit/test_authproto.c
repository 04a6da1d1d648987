/*
 * test_authproto - the auth service's line protocol (common/proto/authproto.h)
 */
#include "test.h"

#include "proto/authproto.h"
#include "util/str.h"

static struct authproto_request req;
static const char *err;

/* Parse a C string request; 0 or -1 (err set). */
static int parse(const char *line)
{
	err = NULL;
	return authproto_request_parse(&req, line, strlen(line), &err);
}

static int parse_fails_with(const char *line, const char *reason)
{
	return parse(line) < 0 && err != NULL && strcmp(err, reason) == 0;
}

/* A string of n copies of c, for limit tests (four calls may be used in
 * one expression). */
static const char *repeat(char c, size_t n)
{
	static char buf[4][2048];
	static unsigned next;
	char *b = buf[next++ % 4];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

static void test_lookup(void)
{
	TEST_ASSERT(parse("LOOKUP\tUser@Example.TEST") == 0);
	TEST_ASSERT(req.cmd == AUTHPROTO_LOOKUP);
	TEST_STREQ(req.address, "user@example.test");
}

static void test_verify(void)
{
	/* "secret" */
	TEST_ASSERT(parse("VERIFY\tsmtp\t192.0.2.1\tDemo@example.test\t"
			  "c2VjcmV0") == 0);
	TEST_ASSERT(req.cmd == AUTHPROTO_VERIFY);
	TEST_STREQ(req.service, "smtp");
	TEST_STREQ(req.client_ip, "192.0.2.1");
	TEST_STREQ(req.address, "demo@example.test");
	TEST_STREQ(req.password, "secret");
	TEST_ASSERT(req.password_len == 6);
	authproto_request_clear(&req);
	TEST_ASSERT(req.password[0] == '\0' && req.password_len == 0);
}

static void test_verify_ipv6_and_binary_password(void)
{
	/* password bytes "\t\x01\xff" are fine inside base64 */
	TEST_ASSERT(parse("VERIFY\timap\t2001:db8::1\ta@b\tCQH/") == 0);
	TEST_STREQ(req.client_ip, "2001:db8::1");
	TEST_ASSERT(req.password_len == 3);
	TEST_ASSERT(memcmp(req.password, "\t\x01\xff", 3) == 0);
}

static void test_unknown_command(void)
{
	TEST_ASSERT(parse_fails_with("HELLO\tx", "unknown command"));
	TEST_ASSERT(parse_fails_with("lookup\ta@b", "unknown command"));
	TEST_ASSERT(parse_fails_with("LOOKUP a@b", "unknown command"));
	TEST_ASSERT(parse_fails_with("", "unknown command"));
}

static void test_wrong_field_counts(void)
{
	const char *r = "wrong number of fields";

	TEST_ASSERT(parse_fails_with("LOOKUP", r));
	TEST_ASSERT(parse_fails_with("LOOKUP\ta@b\tc", r));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b", r));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\tYQ==\tx",
				     r));
	TEST_ASSERT(parse_fails_with("VERIFY\t\t\t\t\t\t\t\t\t", r));
}

static void test_empty_fields(void)
{
	TEST_ASSERT(parse_fails_with("LOOKUP\t", "invalid address"));
	TEST_ASSERT(parse_fails_with("VERIFY\t\t1.2.3.4\ta@b\tYQ==",
				     "invalid service"));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t\ta@b\tYQ==",
				     "invalid client address"));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\t\tYQ==",
				     "invalid address"));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\t",
				     "invalid password encoding"));
}

static void test_control_bytes(void)
{
	const char *r = "control character in request";
	static const char nul[] = "LOOKUP\ta\0b@c";

	TEST_ASSERT(parse_fails_with("LOOKUP\ta@b\r", r));
	TEST_ASSERT(parse_fails_with("LOOKUP\ta\rb@c", r));
	TEST_ASSERT(parse_fails_with("LOOKUP\ta\nb@c", r));
	TEST_ASSERT(parse_fails_with("LOOKUP\ta\x7f@c", r));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\x01\t1.2.3.4\ta@b\tYQ==", r));
	err = NULL;
	TEST_ASSERT(authproto_request_parse(&req, nul, sizeof(nul) - 1,
					    &err) < 0);
	TEST_STREQ(err, r);
}

static void test_field_characters(void)
{
	TEST_ASSERT(parse_fails_with("VERIFY\tsm tp\t1.2.3.4\ta@b\tYQ==",
				     "invalid service"));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4 \ta@b\tYQ==",
				     "invalid client address"));
	TEST_ASSERT(parse_fails_with("VERIFY\tsm\xc3\xa9\t1.2.3.4\ta@b\tYQ==",
				     "invalid service"));
	/* quoted local parts and UTF-8 are addresses too */
	TEST_ASSERT(parse("LOOKUP\t\"john doe\"@b") == 0);
	TEST_STREQ(req.address, "\"john doe\"@b");
	TEST_ASSERT(parse("LOOKUP\tJ\xc3\xb6rg@B") == 0);
	TEST_STREQ(req.address, "j\xc3\xb6rg@b");
}

static void test_base64_invalid(void)
{
	const char *r = "invalid password encoding";

	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\tYQ", r));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\tYQ!=", r));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\tY Q==", r));
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\t=YQ=", r));
	/* a NUL inside the password */
	TEST_ASSERT(parse_fails_with("VERIFY\tsmtp\t1.2.3.4\ta@b\tYQBi",
				     "invalid password"));
}

static void verify_line(struct str *s, const char *service,
			const char *client, const char *address,
			const char *password)
{
	const char *e;

	str_clear(s);
	TEST_ASSERT(authproto_verify_format(s, service, client, address,
					    password, &e) == 0);
	if (s->len > 0)
		str_truncate(s, s->len - 1);	/* the LF */
}

static void test_field_limits(void)
{
	struct str s = STR_INIT(0);
	char addr[AUTHPROTO_ADDRESS_MAX + 2];

	verify_line(&s, repeat('s', 32), "1.2.3.4", "a@b", "pw");
	TEST_ASSERT(parse(str_c(&s)) == 0);
	TEST_ASSERT(parse_fails_with("VERIFY\tsssssssssssssssssssssssssssssssss"
				     "\t1.2.3.4\ta@b\tYQ==", "invalid service"));
	memcpy(addr, repeat('a', AUTHPROTO_ADDRESS_MAX), sizeof(addr) - 1);
	addr[AUTHPROTO_ADDRESS_MAX] = '\0';
	verify_line(&s, "smtp", repeat('1', 64), addr, repeat('p', 256));
	TEST_ASSERT(parse(str_c(&s)) == 0);
	TEST_ASSERT(strlen(req.address) == AUTHPROTO_ADDRESS_MAX);
	TEST_ASSERT(req.password_len == AUTHPROTO_PASSWORD_MAX);
	str_clear(&s);
	str_appendf(&s, "LOOKUP\t%sa", addr);
	TEST_ASSERT(parse_fails_with(str_c(&s), "invalid address"));
	str_clear(&s);
	str_appendf(&s, "VERIFY\tsmtp\t%s\ta@b\tYQ==", repeat('1', 65));
	TEST_ASSERT(parse_fails_with(str_c(&s), "invalid client address"));
	str_free(&s);
}

static void test_password_too_long(void)
{
	struct str s = STR_INIT(0), b = STR_INIT(0);
	const char *e;

	/* 257 bytes: base64 of 344 characters, still too long */
	TEST_ASSERT(authproto_verify_format(&s, "smtp", "1.2.3.4", "a@b",
					    repeat('p', 257), &e) < 0);
	TEST_STREQ(e, "invalid password");
	TEST_ASSERT(s.len == 0);
	str_appends(&b, "VERIFY\tsmtp\t1.2.3.4\ta@b\t");
	str_appends(&b, repeat('c', 344));	/* 258 bytes */
	TEST_ASSERT(parse(str_c(&b)) < 0);
	str_truncate(&b, b.len - 344);
	str_appends(&b, repeat('c', 348));
	TEST_ASSERT(parse_fails_with(str_c(&b), "invalid password encoding"));
	str_free(&s);
	str_free(&b);
}

static void test_line_1024_and_1025(void)
{
	struct str s = STR_INIT(0);

	/* 1024 bytes: within the line limit (the address is what is wrong) */
	str_appends(&s, "LOOKUP\t");
	str_appends(&s, repeat('a', 1024 - 7));
	TEST_ASSERT(s.len == 1024);
	TEST_ASSERT(parse_fails_with(str_c(&s), "invalid address"));
	str_appendc(&s, 'a');
	TEST_ASSERT(s.len == 1025);
	TEST_ASSERT(parse_fails_with(str_c(&s), "line too long"));
	str_free(&s);
}

static void test_lookup_format(void)
{
	struct str s = STR_INIT(0);
	const char *e;

	TEST_ASSERT(authproto_lookup_format(&s, "a@b", &e) == 0);
	TEST_STREQ(str_c(&s), "LOOKUP\ta@b\n");
	TEST_ASSERT(authproto_lookup_format(&s, "a\tb", &e) < 0);
	TEST_ASSERT(authproto_lookup_format(&s, "", &e) < 0);
	TEST_ASSERT(authproto_lookup_format(&s, "a\r\nb", &e) < 0);
	TEST_STREQ(e, "invalid address");
	TEST_STREQ(str_c(&s), "LOOKUP\ta@b\n");
	str_free(&s);
}

static void test_verify_format(void)
{
	struct str s = STR_INIT(0);
	const char *e;

	TEST_ASSERT(authproto_verify_format(&s, "pop3", "::1", "a@b",
					    "secret", &e) == 0);
	TEST_STREQ(str_c(&s), "VERIFY\tpop3\t::1\ta@b\tc2VjcmV0\n");
	str_clear(&s);
	TEST_ASSERT(authproto_verify_format(&s, "po p3", "::1", "a@b", "x",
					    &e) < 0);
	TEST_STREQ(e, "invalid service");
	TEST_ASSERT(authproto_verify_format(&s, "pop3", "", "a@b", "x",
					    &e) < 0);
	TEST_STREQ(e, "invalid client address");
	TEST_ASSERT(authproto_verify_format(&s, "pop3", "::1", "a\tb", "x",
					    &e) < 0);
	TEST_STREQ(e, "invalid address");
	TEST_ASSERT(authproto_verify_format(&s, "pop3", "::1", "a@b", "",
					    &e) < 0);
	TEST_STREQ(e, "invalid password");
	TEST_ASSERT(s.len == 0);
	str_free(&s);
}

static int reply(struct authproto_reply *r, const char *line)
{
	return authproto_reply_parse(r, line, strlen(line));
}

static void test_reply_parse(void)
{
	struct authproto_reply r;

	TEST_ASSERT(reply(&r, "OK\ta@b") == 0);
	TEST_ASSERT(r.status == AUTHPROTO_R_OK);
	TEST_ASSERT(r.arg_len == 3 && memcmp(r.arg, "a@b", 3) == 0);
	TEST_ASSERT(reply(&r, "NOUSER") == 0 && r.status == AUTHPROTO_R_NOUSER);
	TEST_ASSERT(reply(&r, "FAIL") == 0 && r.status == AUTHPROTO_R_FAIL);
	TEST_ASSERT(reply(&r, "TEMPFAIL\tuser map unreadable") == 0);
	TEST_ASSERT(r.status == AUTHPROTO_R_TEMPFAIL && r.arg_len == 19);
	TEST_ASSERT(reply(&r, "ERROR\tline too long") == 0);
	TEST_ASSERT(r.status == AUTHPROTO_R_ERROR);
}

static void test_reply_malformed(void)
{
	struct authproto_reply r;

	TEST_ASSERT(reply(&r, "OK") < 0);
	TEST_ASSERT(reply(&r, "OK\t") < 0);
	TEST_ASSERT(reply(&r, "OK\ta@b\tc") < 0);
	TEST_ASSERT(reply(&r, "NOUSER\tx") < 0);
	TEST_ASSERT(reply(&r, "FAIL\t") < 0);
	TEST_ASSERT(reply(&r, "TEMPFAIL") < 0);
	TEST_ASSERT(reply(&r, "ok\ta@b") < 0);
	TEST_ASSERT(reply(&r, "OK\ta@b\r") < 0);
	TEST_ASSERT(reply(&r, "") < 0);
	TEST_ASSERT(reply(&r, "MAYBE") < 0);
}

static void test_reply_format(void)
{
	struct str s = STR_INIT(0);
	struct authproto_reply r;

	TEST_ASSERT(authproto_reply_format(&s, AUTHPROTO_R_OK, "a@b") == 0);
	TEST_ASSERT(authproto_reply_format(&s, AUTHPROTO_R_FAIL, "x") == 0);
	TEST_ASSERT(authproto_reply_format(&s, AUTHPROTO_R_NOUSER, NULL) == 0);
	TEST_ASSERT(authproto_reply_format(&s, AUTHPROTO_R_ERROR,
					   "bad\r\nthing\t") == 0);
	TEST_ASSERT(authproto_reply_format(&s, AUTHPROTO_R_TEMPFAIL, "") == 0);
	TEST_STREQ(str_c(&s), "OK\ta@b\nFAIL\nNOUSER\nERROR\tbad??thing?\n"
		   "TEMPFAIL\tunknown\n");
	str_clear(&s);
	TEST_ASSERT(authproto_reply_format(&s, AUTHPROTO_R_TEMPFAIL,
					   repeat('r', 500)) == 0);
	TEST_ASSERT(reply(&r, s.s) < 0);	/* still has its LF */
	TEST_ASSERT(authproto_reply_parse(&r, s.s, s.len - 1) == 0);
	str_free(&s);
}

static void test_field_ok(void)
{
	TEST_ASSERT(authproto_field_ok(AUTHPROTO_F_SERVICE, "imap", 4));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_SERVICE, "", 0));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_CLIENT, "a b", 3));
	TEST_ASSERT(authproto_field_ok(AUTHPROTO_F_ADDRESS, "a b", 3));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_ADDRESS, "a\tb", 3));
	TEST_ASSERT(authproto_field_ok(AUTHPROTO_F_PASSWORD, "a\tb", 3));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_PASSWORD, "a\0b", 3));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_REASON, "a\nb", 3));
}

#define TOK "0123456789abcdef0123456789abcdef01234567"

static void test_login_and_redeem(void)
{
	TEST_ASSERT(parse("LOGIN\tpop3\t192.0.2.1\tDemo@example.test\t"
			  "c2VjcmV0") == 0);
	TEST_ASSERT(req.cmd == AUTHPROTO_LOGIN);
	TEST_STREQ(req.service, "pop3");
	TEST_STREQ(req.address, "demo@example.test");
	TEST_STREQ(req.password, "secret");
	TEST_ASSERT(parse("REDEEM\tpop3\t192.0.2.1\t" TOK) == 0);
	TEST_ASSERT(req.cmd == AUTHPROTO_REDEEM);
	TEST_STREQ(req.service, "pop3");
	TEST_STREQ(req.client_ip, "192.0.2.1");
	TEST_STREQ(req.token, TOK);
	TEST_ASSERT(req.address[0] == '\0' && req.password_len == 0);
	authproto_request_clear(&req);
	TEST_ASSERT(req.token[0] == '\0');
}

static void test_redeem_malformed(void)
{
	const char *r = "invalid token";

	/* one digit short, one too many, upper case, not hex, empty */
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1\t"
				     "0123456789abcdef0123456789abcdef0123456",
				     r));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1\t" TOK "8", r));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1\t"
				     "0123456789ABCDEF0123456789abcdef01234567",
				     r));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1\t"
				     "0123456789abcdeg0123456789abcdef01234567",
				     r));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1\t", r));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1",
				     "wrong number of fields"));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t::1\t" TOK "\tx",
				     "wrong number of fields"));
	TEST_ASSERT(parse_fails_with("REDEEM\t\t::1\t" TOK,
				     "invalid service"));
	TEST_ASSERT(parse_fails_with("REDEEM\tpop3\t\t" TOK,
				     "invalid client address"));
	TEST_ASSERT(parse_fails_with("LOGIN\tpop3\t::1\ta@b",
				     "wrong number of fields"));
	TEST_ASSERT(parse_fails_with("redeem\tpop3\t::1\t" TOK,
				     "unknown command"));
}

static void test_token_formats(void)
{
	struct str s = STR_INIT(0);
	const char *e;

	TEST_ASSERT(authproto_login_format(&s, "pop3", "::1", "a@b", "secret",
					   &e) == 0);
	TEST_STREQ(str_c(&s), "LOGIN\tpop3\t::1\ta@b\tc2VjcmV0\n");
	str_clear(&s);
	TEST_ASSERT(authproto_redeem_format(&s, "pop3", "::1", TOK, &e) == 0);
	TEST_STREQ(str_c(&s), "REDEEM\tpop3\t::1\t" TOK "\n");
	str_clear(&s);
	TEST_ASSERT(authproto_redeem_format(&s, "pop3", "::1", "abc", &e) < 0);
	TEST_STREQ(e, "invalid token");
	TEST_ASSERT(authproto_redeem_format(&s, "pop 3", "::1", TOK, &e) < 0);
	TEST_STREQ(e, "invalid service");
	TEST_ASSERT(s.len == 0);
	TEST_ASSERT(authproto_reply_format_login(&s, "a@b", TOK) == 0);
	TEST_STREQ(str_c(&s), "OK\ta@b\t" TOK "\n");
	TEST_ASSERT(authproto_reply_format_login(&s, "a@b", "xyz") < 0);
	TEST_STREQ(str_c(&s), "OK\ta@b\t" TOK "\n");
	str_free(&s);
}

static void test_token_reply(void)
{
	struct authproto_reply r;

	TEST_ASSERT(reply(&r, "OK\ta@b\t" TOK) == 0);
	TEST_ASSERT(r.status == AUTHPROTO_R_OK && r.arg_len == 3);
	TEST_ASSERT(r.token_len == AUTHPROTO_TOKEN_LEN &&
		    memcmp(r.token, TOK, AUTHPROTO_TOKEN_LEN) == 0);
	TEST_ASSERT(reply(&r, "OK\ta@b") == 0 && r.token_len == 0);
	TEST_STREQ(r.token, "");
	TEST_ASSERT(reply(&r, "OK\ta@b\t" TOK "\t") < 0);
	TEST_ASSERT(reply(&r, "OK\ta@b\t") < 0);
	TEST_ASSERT(reply(&r, "OK\ta@b\tABCDEF") < 0);
	TEST_ASSERT(reply(&r, "FAIL\t" TOK) < 0);
	TEST_ASSERT(authproto_field_ok(AUTHPROTO_F_TOKEN, TOK, 40));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_TOKEN, TOK, 39));
	TEST_ASSERT(!authproto_field_ok(AUTHPROTO_F_TOKEN, "", 0));
}

TEST_MAIN(test_lookup, test_verify, test_verify_ipv6_and_binary_password,
	  test_unknown_command, test_wrong_field_counts, test_empty_fields,
	  test_control_bytes, test_field_characters, test_base64_invalid,
	  test_field_limits, test_password_too_long, test_line_1024_and_1025,
	  test_lookup_format, test_verify_format, test_reply_parse,
	  test_reply_malformed, test_reply_format, test_field_ok,
	  test_login_and_redeem, test_redeem_malformed, test_token_formats,
	  test_token_reply)
