/*
 * test_sendmail_msg - line ends, the lone dot, the header section, -t
 * recipients, Bcc removal and the added headers (smtpd/sendmail_msg.c)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "smtpd/sendmail_msg.h"
#include "util/str.h"

/* Feed in whole and byte by byte; both must give the same text. */
static int input_run(const char *in, int dot_ends, struct str *out)
{
	struct sendmail_input a, b;
	struct str one = STR_INIT(0);
	size_t n = strlen(in);
	int ra, rb = 0;

	sendmail_input_init(&a, dot_ends);
	ra = sendmail_input_feed(&a, in, n, out);
	sendmail_input_finish(&a, out);
	sendmail_input_init(&b, dot_ends);
	for (size_t i = 0; i < n && rb == 0; i++)
		rb = sendmail_input_feed(&b, in + i, 1, &one);
	sendmail_input_finish(&b, &one);
	TEST_STREQ(str_c(&one), str_c(out));
	TEST_ASSERT(ra == rb);
	str_free(&one);
	return ra;
}

struct input_case {
	const char *in;
	int dot_ends;
	const char *out;
	int ended;		/* the lone dot ended the input */
};

static void test_input(void)
{
	static const struct input_case cases[] = {
		{ "a\r\nb\r\n", 1, "a\nb\n", 0 },
		{ "a\nb", 1, "a\nb\n", 0 },
		{ "a\rb\r", 1, "a\nb\n", 0 },
		{ "a\r\r\nb\n", 1, "a\n\nb\n", 0 },
		{ "a\n.\nb\n", 1, "a\n", 1 },
		{ "a\r\n.\r\nb\r\n", 1, "a\n", 1 },
		{ ".\n", 1, "", 1 },
		{ "a\n.", 1, "a\n", 0 },
		{ "a\n.\nb\n", 0, "a\n.\nb\n", 0 },
		{ "a\n..\nb\n", 1, "a\n..\nb\n", 0 },
		{ "a\n.x\n.\n", 1, "a\n.x\n", 1 },
		{ "a.\nb\n", 1, "a.\nb\n", 0 },
		{ "a\n. \nb", 1, "a\n. \nb\n", 0 },
		{ "", 1, "", 0 },
		{ "\n", 1, "\n", 0 },
		{ "x\0y\n", 1, "x\n", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str out = STR_INIT(0);
		int r = input_run(cases[i].in, cases[i].dot_ends, &out);

		TEST_STREQ(str_c(&out), cases[i].out);
		TEST_ASSERT(r == cases[i].ended);
		str_free(&out);
	}
}

static void test_input_nul_and_cap(void)
{
	struct sendmail_input in;
	struct str out = STR_INIT(4);

	sendmail_input_init(&in, 1);
	TEST_ASSERT(sendmail_input_feed(&in, "a\0b\n", 4, &out) == 0);
	TEST_ASSERT(out.len == 4 && memcmp(out.s, "a\0b\n", 4) == 0);
	TEST_ASSERT(sendmail_input_feed(&in, "c", 1, &out) == -1);
	str_free(&out);
	sendmail_input_init(&in, 1);
	str_init(&out, 0);
	TEST_ASSERT(sendmail_input_feed(&in, ".\nrest", 6, &out) == 1);
	TEST_ASSERT(sendmail_input_feed(&in, "more\n", 5, &out) == 1);
	TEST_ASSERT(out.len == 0);
	str_free(&out);
}

struct split_case {
	const char *in;
	int at_eof;
	int ret;
	size_t skip, header_len;
	int blank;
};

static void test_split(void)
{
	static const struct split_case cases[] = {
		{ "To: a\nSubject: x\n\nbody\n", 0, 1, 0, 17, 1 },
		{ "To: a\n folded\n\nb\n", 0, 1, 0, 14, 1 },
		{ "To: a\nthis is body\n", 0, 1, 0, 6, 0 },
		{ "body only\n", 0, 1, 0, 0, 0 },
		{ " starts blank: x\n", 0, 1, 0, 0, 0 },
		{ "From a@b Sat Nov 22\nTo: a\n\nb\n", 0, 1, 20, 6, 1 },
		{ "From: a@b\n\n", 0, 1, 0, 10, 1 },
		{ "To: a\nSubj", 0, 0, 0, 0, 0 },
		{ "To: a\nSubj", 1, 1, 0, 6, 0 },
		{ "To: a\nSubj: x", 1, 1, 0, 13, 0 },
		{ "To: a\nno header", 0, 1, 0, 6, 0 },
		{ "To: a\n", 0, 0, 0, 0, 0 },
		{ "To: a\n", 1, 1, 0, 6, 0 },
		{ "Fro", 0, 0, 0, 0, 0 },
		{ "From x", 0, 0, 0, 0, 0 },
		{ "", 1, 1, 0, 0, 0 },
		{ "\nbody\n", 0, 1, 0, 0, 1 },
		{ "X-A:b\nX-B: c\n\t d\n\n", 0, 1, 0, 17, 1 },
		{ ":no name\n", 0, 1, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct split_case *c = &cases[i];
		struct sendmail_split s;
		int r = sendmail_msg_split(c->in, strlen(c->in), c->at_eof, &s);

		TEST_ASSERT(r == c->ret);
		if (r != 1 || r != c->ret)
			continue;
		if (s.skip != c->skip || s.header_len != c->header_len ||
		    s.blank != c->blank)
			printf("case %zu: skip %zu len %zu blank %d\n", i,
			       s.skip, s.header_len, s.blank);
		TEST_ASSERT(s.skip == c->skip);
		TEST_ASSERT(s.header_len == c->header_len);
		TEST_ASSERT(s.blank == c->blank);
	}
}

/* The recipients of one address-list body, joined with " | ". */
static int alist(const char *body, struct str *out, const char **error_r)
{
	struct sendmail_hdrs h;
	int r;

	sendmail_hdrs_init(&h);
	r = sendmail_addr_list(&h, body, strlen(body));
	for (size_t i = 0; i < h.nrcpts; i++)
		str_appendf(out, "%s%s", i ? " | " : "", h.rcpts[i]);
	if (r < 0) {
		static char err[200];

		memcpy(err, h.error, sizeof(err));
		*error_r = err;
	}
	sendmail_hdrs_free(&h);
	return r;
}

struct alist_case {
	const char *in;
	const char *out;	/* or a substring of the error */
	int ret;
};

static void test_address_lists(void)
{
	static const struct alist_case cases[] = {
		{ " a@b.test", "a@b.test", 0 },
		{ " a@b, c@d", "a@b | c@d", 0 },
		{ " Alice <a@b>, \"Bob, Jr.\" <c@d>", "a@b | c@d", 0 },
		{ " a@b (Alice, (nested) comment), c@d", "a@b | c@d", 0 },
		{ " team: a@b, Carl <c@d>;, e@f", "a@b | c@d | e@f", 0 },
		{ " undisclosed-recipients:;", "", 0 },
		{ " \"john doe\"@b", "\"john doe\"@b", 0 },
		{ " \"a,b\"@c, d@e", "\"a,b\"@c | d@e", 0 },
		{ " \"a\\\"b\"@c", "\"a\\\"b\"@c", 0 },
		{ " u@[IPv6:::1], v@w", "u@[IPv6:::1] | v@w", 0 },
		{ " a@b,\n c@d", "a@b | c@d", 0 },
		{ " A\n Person\n <a@b>", "a@b", 0 },
		{ " a . b @ c", "a.b@c", 0 },
		{ " root", "root", 0 },
		{ " a@b,, ,c@d,", "a@b | c@d", 0 },
		{ " <>", "", 0 },
		{ " x <a@b> (comment)", "a@b", 0 },
		{ " <@r1,@r2:a@b>", "@r1,@r2:a@b", 0 },
		{ " \"open@b", "unterminated quoted string", -1 },
		{ " a@b (open", "unterminated comment", -1 },
		{ " x <a@b", "missing '>'", -1 },
		{ " <a@b> <c@d>", "two <addresses>", -1 },
		{ " <a@b> junk", "text after", -1 },
		{ " g: h: a@b;;", "group inside a group", -1 },
		{ " a@b>", "'>' without '<'", -1 },
		{ " u@[1.2.3.4", "unterminated domain literal", -1 },
		{ " a\x01b@c", "control character", -1 },
		{ " \"a\x7f\"@c", "control character", -1 },
		{ " a((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))@b",
		  "nested too deeply", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str out = STR_INIT(0);
		const char *error = NULL;
		int r = alist(cases[i].in, &out, &error);

		TEST_ASSERT(r == cases[i].ret);
		if (r == 0)
			TEST_STREQ(str_c(&out), cases[i].out);
		else if (error == NULL || strstr(error, cases[i].out) == NULL)
			TEST_STREQ(error, cases[i].out);
		str_free(&out);
	}
}

static void test_long_address(void)
{
	struct str in = STR_INIT(0);
	struct str out = STR_INIT(0);
	const char *error = NULL;

	str_appends(&in, " \"");
	for (int i = 0; i < 1100; i++)
		str_appendc(&in, 'x');
	str_appends(&in, "\" <a@b>");
	TEST_ASSERT(alist(str_c(&in), &out, &error) == 0);
	TEST_STREQ(str_c(&out), "a@b");
	str_clear(&in);
	str_clear(&out);
	str_appends(&in, " <");
	for (int i = 0; i < 1100; i++)
		str_appendc(&in, 'x');
	str_appends(&in, "@b>");
	TEST_ASSERT(alist(str_c(&in), &out, &error) == -1);
	TEST_ASSERT(error != NULL && strstr(error, "too long") != NULL);
	str_free(&in);
	str_free(&out);
}

static void test_headers(void)
{
	static const char msg[] =
		"From: Alice <alice@a.test>\n"
		"To: Bob <bob@b.test>,\n"
		"  carol@c.test\n"
		"cc: (the team) team: dave@d.test, erin@e.test;\n"
		"Subject: hello\n"
		"BCC: frank@f.test,\n"
		"\tgrace@g.test\n"
		"bcc:\n"
		"Message-Id: <1@a.test>\n"
		"X-Bcc: not a bcc\n";
	struct sendmail_hdrs h;
	const char *error = NULL;
	struct str all = STR_INIT(0);

	sendmail_hdrs_init(&h);
	TEST_ASSERT(sendmail_hdrs_parse(&h, msg, strlen(msg), 1, &error) == 0);
	for (size_t i = 0; i < h.nrcpts; i++)
		str_appendf(&all, "%s ", h.rcpts[i]);
	TEST_STREQ(str_c(&all), "bob@b.test carol@c.test dave@d.test "
		   "erin@e.test frank@f.test grace@g.test ");
	TEST_STREQ(str_c(&h.text),
		   "From: Alice <alice@a.test>\n"
		   "To: Bob <bob@b.test>,\n"
		   "  carol@c.test\n"
		   "cc: (the team) team: dave@d.test, erin@e.test;\n"
		   "Subject: hello\n"
		   "Message-Id: <1@a.test>\n"
		   "X-Bcc: not a bcc\n");
	TEST_ASSERT(h.seen == (SENDMAIL_HAS_FROM | SENDMAIL_HAS_MESSAGE_ID));
	sendmail_hdrs_free(&h);
	str_free(&all);
}

static void test_headers_no_extract(void)
{
	static const char msg[] = "To: \"broken\nBcc: x@y\nDate: now";
	struct sendmail_hdrs h;
	const char *error = NULL;

	sendmail_hdrs_init(&h);
	TEST_ASSERT(sendmail_hdrs_parse(&h, msg, strlen(msg), 0, &error) == 0);
	TEST_ASSERT(h.nrcpts == 0);
	TEST_STREQ(str_c(&h.text), "To: \"broken\nDate: now\n");
	TEST_ASSERT(h.seen == SENDMAIL_HAS_DATE);
	sendmail_hdrs_free(&h);
	sendmail_hdrs_init(&h);
	TEST_ASSERT(sendmail_hdrs_parse(&h, msg, strlen(msg), 1, &error) == -1);
	TEST_ASSERT(error != NULL &&
		    strstr(error, "malformed To: header: unterminated") != NULL);
	sendmail_hdrs_free(&h);
	sendmail_hdrs_init(&h);
	TEST_ASSERT(sendmail_hdrs_parse(&h, "no colon\n", 9, 1, &error) == -1);
	sendmail_hdrs_free(&h);
}

static void test_date(void)
{
	struct str out = STR_INIT(0);
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	setenv("TZ", "UTC0", 1);
	tzset();
	TEST_ASSERT(sendmail_msg_date(&out, 1795345200) == 0);
	TEST_STREQ(str_c(&out), "Date: Sun, 22 Nov 2026 11:00:00 +0000\n");
	str_clear(&out);
	setenv("TZ", "XST-5:30", 1);
	tzset();
	TEST_ASSERT(sendmail_msg_date(&out, 0) == 0);
	TEST_STREQ(str_c(&out), "Date: Thu, 01 Jan 1970 05:30:00 +0530\n");
	str_clear(&out);
	setenv("TZ", "YST3", 1);
	tzset();
	TEST_ASSERT(sendmail_msg_date(&out, 0) == 0);
	TEST_STREQ(str_c(&out), "Date: Wed, 31 Dec 1969 21:00:00 -0300\n");
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	str_free(&out);
}

struct from_case {
	const char *name;
	const char *out;
};

static void test_from(void)
{
	static const struct from_case cases[] = {
		{ NULL, "From: u@h.test\n" },
		{ "  ", "From: u@h.test\n" },
		{ "Alice Smith", "From: Alice Smith <u@h.test>\n" },
		{ "J. Smith", "From: \"J. Smith\" <u@h.test>\n" },
		{ "a \"b\" \\c", "From: \"a \\\"b\\\" \\\\c\" <u@h.test>\n" },
		{ "bad\nline\r", "From: bad line <u@h.test>\n" },
		{ "J\xc3\xbcrgen", "From: =?UTF-8?B?SsO8cmdlbg==?= <u@h.test>\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str out = STR_INIT(0);

		TEST_ASSERT(sendmail_msg_from(&out, cases[i].name,
					      "u@h.test") == 0);
		TEST_STREQ(str_c(&out), cases[i].out);
		str_free(&out);
	}
}

static void test_from_long_utf8(void)
{
	struct str name = STR_INIT(0);
	struct str out = STR_INIT(0);

	for (int i = 0; i < 200; i++)
		str_appends(&name, "\xc3\xbc");
	TEST_ASSERT(sendmail_msg_from(&out, str_c(&name), "u@h") == 0);
	TEST_ASSERT(strncmp(str_c(&out), "From: =?UTF-8?B?", 16) == 0);
	/* every encoded word is at most 75 characters */
	for (const char *p = strstr(out.s, "=?"); p != NULL;
	     p = strstr(p + 2, " =?")) {
		const char *e = strstr(p + 2, "?=");

		TEST_ASSERT(e != NULL && e + 2 - p <= 76);
	}
	str_free(&name);
	str_free(&out);
}

TEST_MAIN(test_input, test_input_nul_and_cap, test_split,
	  test_address_lists, test_long_address, test_headers,
	  test_headers_no_extract, test_date, test_from, test_from_long_utf8)
