/*
 * test_smtp_reply - SMTP reply lines, enhanced codes, EHLO extensions
 */
#include <string.h>

#include "deliver/smtp_reply.h"
#include "test.h"

/* Feed "\n"-separated lines; the last feed result. */
static int feed(struct smtp_reply *r, const char *text)
{
	const char *error, *p = text;
	int res = -1;

	smtp_reply_reset(r);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		res = smtp_reply_feed(r, p, len, &error);
		if (res != 0)
			break;
		p += len + (nl != NULL);
	}
	return res;
}

static void test_single_line(void)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	TEST_ASSERT(feed(&r, "250 2.1.5 Ok") == 1);
	TEST_ASSERT(r.code == 250 && smtp_reply_class(&r) == 2);
	TEST_STREQ(r.enhanced, "2.1.5");
	TEST_STREQ(str_c(&r.text), "Ok");
	TEST_ASSERT(feed(&r, "354") == 1 && r.code == 354);
	TEST_STREQ(str_c(&r.text), "");
	TEST_ASSERT(feed(&r, "451 try later") == 1);
	TEST_STREQ(r.enhanced, "");
	TEST_STREQ(str_c(&r.text), "try later");
	smtp_reply_free(&r);
}

static void test_multi_line_and_ehlo(void)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	TEST_ASSERT(feed(&r, "250-mx.example.org hello\n250-PIPELINING\n"
			 "250-SIZE 10240000\n250-starttls\n250-8BITMIME\n"
			 "250-ENHANCEDSTATUSCODES\n250 SMTPUTF8") == 1);
	TEST_ASSERT(r.lines == 7);
	TEST_ASSERT(r.ext == (SMTP_EXT_PIPELINING | SMTP_EXT_SIZE |
			      SMTP_EXT_STARTTLS | SMTP_EXT_8BITMIME |
			      SMTP_EXT_ENHANCED | SMTP_EXT_SMTPUTF8));
	TEST_ASSERT(r.size_max == 10240000);
	/* the greeting line's name is not an extension */
	TEST_ASSERT(feed(&r, "250-STARTTLS\n250 HELP") == 1);
	TEST_ASSERT(r.ext == 0);
	smtp_reply_free(&r);
}

static void test_enhanced_stripped_from_each_line(void)
{
	struct smtp_reply r;
	struct str s = STR_INIT(0);

	smtp_reply_init(&r);
	TEST_ASSERT(feed(&r, "550-5.1.1 no such\n550 5.1.1 user") == 1);
	TEST_STREQ(r.enhanced, "5.1.1");
	TEST_STREQ(str_c(&r.text), "no such user");
	smtp_reply_reason(&r, "mx[192.0.2.1]:25", &s);
	TEST_STREQ(str_c(&s), "5.1.1 mx[192.0.2.1]:25 said: 550 5.1.1 no "
		   "such user");
	/* an enhanced code of another class is text */
	TEST_ASSERT(feed(&r, "550 4.1.1 odd") == 1);
	TEST_STREQ(r.enhanced, "");
	str_clear(&s);
	smtp_reply_reason(&r, "h", &s);
	TEST_STREQ(str_c(&s), "5.0.0 h said: 550 4.1.1 odd");
	str_free(&s);
	smtp_reply_free(&r);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"", "25", "2500 x", "650 x", "160 x", "2x0 x", "250_x",
		"250-a\n251 b", "199 x", "270 x",
	};
	struct smtp_reply r;
	const char *error;

	smtp_reply_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(feed(&r, bad[i]) == -1);
	/* a line after the end */
	smtp_reply_reset(&r);
	TEST_ASSERT(smtp_reply_feed(&r, "250 ok", 6, &error) == 1);
	TEST_ASSERT(smtp_reply_feed(&r, "250 ok", 6, &error) == -1);
	smtp_reply_free(&r);
}

static void test_limits(void)
{
	struct smtp_reply r;
	const char *error;
	char big[3000];
	int res = 0;

	smtp_reply_init(&r);
	for (int i = 0; i <= SMTP_REPLY_LINES_MAX && res == 0; i++)
		res = smtp_reply_feed(&r, "250-x", 5, &error);
	TEST_ASSERT(res == -1);
	smtp_reply_reset(&r);
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	big[10] = '\t';
	big[11] = '\r';
	TEST_ASSERT(smtp_reply_feed(&r, big, sizeof(big), &error) == 1);
	TEST_ASSERT(r.text.len == SMTP_REPLY_TEXT_MAX);
	TEST_ASSERT(memchr(r.text.s, '\t', r.text.len) == NULL);
	TEST_ASSERT(memchr(r.text.s, '\r', r.text.len) == NULL);
	smtp_reply_free(&r);
}

static void test_enhanced_ok(void)
{
	TEST_ASSERT(smtp_enhanced_ok("2.0.0", 5, '2'));
	TEST_ASSERT(smtp_enhanced_ok("5.1.10", 6, 0));
	TEST_ASSERT(smtp_enhanced_ok("4.123.999", 9, '4'));
	TEST_ASSERT(!smtp_enhanced_ok("4.1234.9", 8, '4'));
	TEST_ASSERT(!smtp_enhanced_ok("3.0.0", 5, 0));
	TEST_ASSERT(!smtp_enhanced_ok("5.0.0", 5, '4'));
	TEST_ASSERT(!smtp_enhanced_ok("5.0", 3, 0));
	TEST_ASSERT(!smtp_enhanced_ok("5.0.", 4, 0));
}

TEST_MAIN(test_single_line, test_multi_line_and_ehlo,
	  test_enhanced_stripped_from_each_line, test_malformed, test_limits,
	  test_enhanced_ok)
