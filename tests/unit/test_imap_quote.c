/*
 * test_imap_quote - IMAP strings and dates in responses
 * (imapd/imap_quote.h)
 */
#include "test.h"

#include "imapd/imap_quote.h"

static const char *astring(const char *s, size_t len, int utf8)
{
	static struct str out = STR_INIT(0);

	str_clear(&out);
	if (imap_quote_astring(&out, s, len, utf8) < 0)
		return "(error)";
	return str_c(&out);
}

static void test_strings(void)
{
	struct str out = STR_INIT(0);
	char big[IMAP_QUOTED_MAX + 1];

	TEST_STREQ(astring("INBOX", 5, 0), "INBOX");
	TEST_STREQ(astring("a]b", 3, 0), "a]b");
	TEST_STREQ(astring("", 0, 0), "\"\"");
	TEST_STREQ(astring("NIL", 3, 0), "\"NIL\"");
	TEST_STREQ(astring("nil", 3, 0), "\"nil\"");
	TEST_STREQ(astring("a b", 3, 0), "\"a b\"");
	TEST_STREQ(astring("a*", 2, 0), "\"a*\"");
	TEST_STREQ(astring("say \"hi\\\"", 9, 0), "\"say \\\"hi\\\\\\\"\"");
	TEST_STREQ(astring("a\r\nb", 4, 0), "{4}\r\na\r\nb");
	TEST_STREQ(astring("caf\xc3\xa9", 5, 0), "{5}\r\ncaf\xc3\xa9");
	TEST_STREQ(astring("caf\xc3\xa9", 5, 1), "\"caf\xc3\xa9\"");
	TEST_STREQ(astring("caf\xe9", 4, 1), "{4}\r\ncaf\xe9");
	memset(big, 'x', sizeof(big));
	TEST_ASSERT(strncmp(astring(big, IMAP_QUOTED_MAX, 0), "x", 1) == 0);
	big[0] = ' ';
	TEST_ASSERT(astring(big, IMAP_QUOTED_MAX, 0)[0] == '"');
	TEST_ASSERT(strncmp(astring(big, sizeof(big), 0), "{1025}\r\n", 8) == 0);
	TEST_ASSERT(imap_quote_nstring(&out, NULL, 0, 0) == 0);
	TEST_ASSERT(imap_quote_nstring(&out, "x", 1, 0) == 0);
	TEST_ASSERT(imap_quote_literal8(&out, "a\0b", 3) == 0);
	TEST_ASSERT(out.len == 15 && memcmp(out.s, "NIL\"x\"~{3}\r\na\0b", 15) == 0);
	str_free(&out);
	/* past the cap nothing is written */
	{
		struct str small = STR_INIT(4);

		TEST_ASSERT(imap_quote_string(&small, "abcd", 4, 0) < 0);
		TEST_ASSERT(small.len == 0);
		str_free(&small);
	}
}

static void test_dates(void)
{
	static const char *const bad[] = {
		"", "1-Jan-26", "1-Jan-202", "32-Jan-2026", "0-Jan-2026",
		"29-Feb-2026", "30-Feb-2024", "1-Foo-2026", "1 Jan 2026",
		"123-Jan-2026", "1-Jan-2026x", "-Jan-2026",
	};
	struct imap_date d;

	TEST_ASSERT(imap_date_parse("6-Dec-2026", 10, &d) == 0);
	TEST_ASSERT(d.day == 6 && d.mon == 12 && d.year == 2026);
	TEST_ASSERT(imap_date_parse("06-dec-2026", 11, &d) == 0 && d.day == 6);
	TEST_ASSERT(imap_date_parse("29-Feb-2024", 11, &d) == 0);
	TEST_ASSERT(imap_date_parse("1-Jan-1970", 10, &d) == 0 &&
		    imap_date_days(&d) == 0);
	TEST_ASSERT(imap_date_parse("31-Dec-1969", 11, &d) == 0 &&
		    imap_date_days(&d) == -1);
	TEST_ASSERT(imap_date_parse("6-Dec-2026", 10, &d) == 0 &&
		    imap_date_days(&d) == 20793);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(imap_date_parse(bad[i], strlen(bad[i]), &d) < 0);
}

static void test_datetimes(void)
{
	static const char *const bad[] = {
		"6-Dec-2026 10:00:00 +0000", "06-Dec-2026 24:00:00 +0000",
		"06-Dec-2026 10:60:00 +0000", "06-Dec-2026 10:00:00 0000",
		"06-Dec-2026 10:00:00 +00000", "06-Dec-2026 10:00 +0000",
		"06-Dec-2026 10:00:00 +0060", "06-Dec-2026  10:00:00 +0000",
	};
	struct str out = STR_INIT(0);
	time_t t;
	int zone;

	TEST_ASSERT(imap_datetime_parse(" 6-Dec-2026 10:00:00 +0000", 26,
					&t, &zone) == 0);
	TEST_ASSERT(t == 1796551200 && zone == 0);
	TEST_ASSERT(imap_datetime_parse("06-Dec-2026 11:30:00 +0130", 26,
					&t, &zone) == 0);
	TEST_ASSERT(t == 1796551200 && zone == 90);
	TEST_ASSERT(imap_datetime_parse("05-Dec-2026 22:00:00 -1200", 26,
					&t, &zone) == 0);
	TEST_ASSERT(t == 1796551200 && zone == -720);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(imap_datetime_parse(bad[i], strlen(bad[i]), &t,
						&zone) < 0);
	TEST_ASSERT(imap_datetime_format(&out, 1796551200, 0) == 0);
	TEST_STREQ(str_c(&out), "\"06-Dec-2026 10:00:00 +0000\"");
	str_clear(&out);
	TEST_ASSERT(imap_datetime_format(&out, 1796551200, -90) == 0);
	TEST_STREQ(str_c(&out), "\"06-Dec-2026 08:30:00 -0130\"");
	str_clear(&out);
	TEST_ASSERT(imap_datetime_format(&out, 951782400, 0) == 0);
	TEST_STREQ(str_c(&out), "\"29-Feb-2000 00:00:00 +0000\"");
	str_clear(&out);
	TEST_ASSERT(imap_datetime_format(&out, -1, 0) == 0);
	TEST_STREQ(str_c(&out), "\"31-Dec-1969 23:59:59 +0000\"");
	str_free(&out);
}

TEST_MAIN(test_strings, test_dates, test_datetimes)
