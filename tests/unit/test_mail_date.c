/*
 * test_mail_date - RFC 5322 date-times: UTC and local zones, half-hour
 * offsets, negative offsets, a two-digit day of the month, English
 * names under another locale's TZ, the epoch for what cannot be broken
 * down, and the cap of the output string.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "mail/mail_date.h"
#include "util/str.h"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void expect(time_t t, enum mail_date_zone zone, const char *want)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(mail_date(&out, t, zone) == 0);
	TEST_STREQ(str_c(&out), want);
	str_free(&out);
}

static void test_utc(void)
{
	set_tz("XST-5:30");	/* the zone is ignored for UTC */
	expect(1795345200, MAIL_DATE_UTC, "Sun, 22 Nov 2026 11:00:00 +0000");
	expect(0, MAIL_DATE_UTC, "Thu, 01 Jan 1970 00:00:00 +0000");
	expect(951782400, MAIL_DATE_UTC, "Tue, 29 Feb 2000 00:00:00 +0000");
	expect(-1, MAIL_DATE_UTC, "Wed, 31 Dec 1969 23:59:59 +0000");
}

static void test_local(void)
{
	set_tz("UTC0");
	expect(1795345200, MAIL_DATE_LOCAL, "Sun, 22 Nov 2026 11:00:00 +0000");
	set_tz("XST-5:30");
	expect(0, MAIL_DATE_LOCAL, "Thu, 01 Jan 1970 05:30:00 +0530");
	set_tz("YST3");
	expect(0, MAIL_DATE_LOCAL, "Wed, 31 Dec 1969 21:00:00 -0300");
	set_tz("ZST-13:45");	/* +1345 exists (Chatham, summer) */
	expect(0, MAIL_DATE_LOCAL, "Thu, 01 Jan 1970 13:45:00 +1345");
	set_tz("UTC0");
}

/* Beyond year 9999 (or what gmtime cannot do): the epoch, not garbage. */
static void test_out_of_range(void)
{
	if (sizeof(time_t) > 4) {
		expect((time_t)LLONG_MAX, MAIL_DATE_UTC,
		       "Thu, 01 Jan 1970 00:00:00 +0000");
		expect((time_t)253402300800LL, MAIL_DATE_UTC,	/* 10000-01-01 */
		       "Thu, 01 Jan 1970 00:00:00 +0000");
		expect((time_t)253402300799LL, MAIL_DATE_UTC,
		       "Fri, 31 Dec 9999 23:59:59 +0000");
	}
}

static void test_cap(void)
{
	struct str out = STR_INIT(10);

	TEST_ASSERT(str_appends(&out, "Date: ") == 0);
	errno = 0;
	TEST_ASSERT(mail_date(&out, 0, MAIL_DATE_UTC) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&out), "Date: ");
	str_free(&out);
}

/* RFC 5322 3.3 and 4.3: what readers must take */
static void test_parse(void)
{
	static const struct {
		const char *in;
		long long want;		/* -1: refused */
	} cases[] = {
		{ "Sat, 5 Dec 2026 10:00:00 +0000", 1796464800LL },
		{ "5 Dec 2026 10:00:00 +0000", 1796464800LL },
		{ "Sat, 05 Dec 2026 11:00:00 +0100", 1796464800LL },
		{ "Sat, 5 Dec 2026 05:00:00 EST", 1796464800LL },
		{ "Sat, 5 dec 2026 10:00 GMT", 1796464800LL },
		{ " Sat , 5 Dec 2026 10:00:00 +0000 (UTC)", 1796464800LL },
		{ "Thu, 1 Jan 70 00:00:00 +0000", 0LL },
		{ "Fri, 1 Jan 00 00:00:00 +0000", 946684800LL },
		{ "1 Jan 100 00:00:00 +0000", 946684800LL },
		{ "Sat, 5 Dec 2026 10:00:00 XYZ", 1796464800LL },
		{ "", -1 }, { "tomorrow", -1 }, { "32 Dec 2026 10:00 +0000", -1 },
		{ "5 Foo 2026 10:00 +0000", -1 }, { "5 Dec 2026 25:00 +0000", -1 },
		{ "5 Dec 2026", -1 }, { "5 Dec 2026 10", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 12345;
		int r = mail_date_parse(cases[i].in, &t);

		if (cases[i].want < 0) {
			TEST_ASSERT(r < 0);
		} else {
			TEST_ASSERT(r == 0);
			TEST_ASSERT((long long)t == cases[i].want);
		}
		if ((cases[i].want < 0) != (r < 0) ||
		    (r == 0 && (long long)t != cases[i].want))
			printf("  case %zu: \"%s\" -> %d %lld\n", i, cases[i].in,
			       r, (long long)t);
	}
}

/* the date as written, time and zone disregarded (SENTON) */
static void test_parse_day(void)
{
	int y, m, d;

	TEST_ASSERT(mail_date_parse_day("Sat, 5 Dec 2026 23:30:00 -0800",
					&y, &m, &d) == 0);
	TEST_ASSERT(y == 2026 && m == 12 && d == 5);
	TEST_ASSERT(mail_date_parse_day("1 jan 99", &y, &m, &d) == 0);
	TEST_ASSERT(y == 1999 && m == 1 && d == 1);
	TEST_ASSERT(mail_date_parse_day("1 Foo 2026", &y, &m, &d) < 0);
	TEST_ASSERT(mail_date_parse_day("", &y, &m, &d) < 0);
	TEST_ASSERT(mail_date_parse_day("5 Dec 2026 25:00", &y, &m, &d) < 0);
}

TEST_MAIN(test_utc, test_local, test_out_of_range, test_cap, test_parse,
	  test_parse_day)
