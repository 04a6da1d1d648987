/*
 * mail_date - RFC 5322 date-times; see mail_date.h.
 */
#include "mail/mail_date.h"

#include <stdlib.h>

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
