/*
 * mail_date - RFC 5322 date-times; see mail_date.h.
 */
#include "mail/mail_date.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

static const char mail_days[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char mail_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* t broken down; 0, or -1 when it cannot be (or is outside the fields'
 * ranges, or not a four-digit year). */
static int mail_date_tm(time_t t, enum mail_date_zone zone, struct tm *tm)
{
	struct tm *r = zone == MAIL_DATE_LOCAL ? localtime_r(&t, tm)
					       : gmtime_r(&t, tm);

	if (r == NULL || tm->tm_wday < 0 || tm->tm_wday > 6 ||
	    tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_year < -1900 ||
	    tm->tm_year > 9999 - 1900)
		return -1;
	if (zone == MAIL_DATE_UTC)
		tm->tm_gmtoff = 0;
	return 0;
}

int mail_date(struct str *out, time_t t, enum mail_date_zone zone)
{
	struct tm tm;
	long off;

	if (mail_date_tm(t, zone, &tm) < 0)
		mail_date_tm(0, MAIL_DATE_UTC, &tm);
	/* a zone offset is under a day; anything else is the C library's
	 * nonsense, and UTC is the honest answer then */
	off = tm.tm_gmtoff / 60;
	if (labs(off) >= 24 * 60)
		off = 0;
	return str_appendf(out, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
			   mail_days[tm.tm_wday], tm.tm_mday,
			   mail_months[tm.tm_mon], tm.tm_year + 1900,
			   tm.tm_hour, tm.tm_min, tm.tm_sec,
			   off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* ---- parsing ------------------------------------------------------------ */

static const char *date_skip(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		/* a comment, nested at most a few levels deep */
		for (int depth = 0; *p; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				continue;
			}
			depth += *p == '(';
			depth -= *p == ')';
			if (depth == 0) {
				p++;
				break;
			}
		}
	}
}

static int date_number(const char **pp, int min_digits, int max_digits,
		       long *v_r)
{
	const char *p = *pp;
	long v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < max_digits) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n < min_digits || (*p >= '0' && *p <= '9'))
		return -1;
	*pp = p;
	*v_r = v;
	return 0;
}

static long date_zone(const char *p)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -300 },
		{ "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
		{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 },
		{ "PDT", -420 },
	};
	long hhmm;

	if (*p == '+' || *p == '-') {
		const char *q = p + 1;

		if (date_number(&q, 4, 4, &hhmm) < 0 || hhmm % 100 > 59)
			return 0;
		return (*p == '-' ? -1 : 1) * (hhmm / 100 * 60 + hhmm % 100);
	}
	for (size_t k = 0; k < sizeof(zones) / sizeof(zones[0]); k++) {
		size_t n = strlen(zones[k].name);

		if (strncasecmp(p, zones[k].name, n) == 0 &&
		    !((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' &&
							p[n] <= 'z')))
			return zones[k].minutes;
	}
	return 0;
}

/* day month year [hour ":" minute [":" second]] into tm (UTC, no zone
 * applied), *rest_r after what was read. The time is required if
 * need_time. 0, or -1. */
static int date_fields(const char *s, int need_time, struct tm *tm,
		       const char **rest_r)
{
	static const char *const mon[] = { "jan", "feb", "mar", "apr", "may",
		"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	const char *p = date_skip(s), *comma = strchr(p, ',');
	long day, year, hour = 0, min = 0, sec = 0;
	int month = -1;

	if (comma && comma - p <= 12)
		p = date_skip(comma + 1);
	if (date_number(&p, 1, 2, &day) < 0 || day < 1 || day > 31)
		return -1;
	p = date_skip(p);
	for (int k = 0; k < 12; k++)
		if (strncasecmp(p, mon[k], 3) == 0)
			month = k;
	if (month < 0)
		return -1;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	p = date_skip(p);
	{
		const char *y = p;

		if (date_number(&p, 2, 4, &year) < 0)
			return -1;
		if (p - y == 2)
			year += year < 50 ? 2000 : 1900;
		else if (p - y == 3)
			year += 1900;
	}
	p = date_skip(p);
	if (need_time || (*p >= '0' && *p <= '9')) {
		if (date_number(&p, 1, 2, &hour) < 0 || *p++ != ':' ||
		    date_number(&p, 2, 2, &min) < 0 || hour > 23 || min > 59)
			return -1;
		if (*p == ':' &&
		    (++p, date_number(&p, 2, 2, &sec) < 0 || sec > 60))
			return -1;
	}
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)year - 1900;
	tm->tm_mon = month;
	tm->tm_mday = (int)day;
	tm->tm_hour = (int)hour;
	tm->tm_min = (int)min;
	tm->tm_sec = (int)(sec > 59 ? 59 : sec);
	*rest_r = p;
	return 0;
}

int mail_date_parse(const char *s, time_t *t_r)
{
	struct tm tm;
	const char *rest;
	time_t t;

	if (date_fields(s, 1, &tm, &rest) < 0)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1 && tm.tm_year != 69)
		return -1;
	*t_r = t - (time_t)date_zone(date_skip(rest)) * 60;
	return 0;
}

int mail_date_parse_day(const char *s, int *year_r, int *mon_r, int *day_r)
{
	struct tm tm;
	const char *rest;

	if (date_fields(s, 0, &tm, &rest) < 0)
		return -1;
	*year_r = tm.tm_year + 1900;
	*mon_r = tm.tm_mon + 1;
	*day_r = tm.tm_mday;
	return 0;
}
