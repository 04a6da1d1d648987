/*
 * mail_date - a time as an RFC 5322 date-time (section 3.3)
 *
 *   "Sat, 22 Nov 2026 10:00:00 +0100"   "Sun, 06 Dec 2026 08:00:00 +0000"
 *
 * day-name "," day month-name year time zone: English day and month
 * names whatever the locale (strftime's %a and %b follow LC_TIME, and a
 * German or Polish name is not a date a mail reader can parse), a day of
 * the month in two digits (RFC 5322 allows one or two; two, as Postfix
 * and smtpd's Received: fields always had), a four-digit year, and the zone as a
 * signed four-digit offset, never a name. Used for the Date: and
 * Received: fields smtpd and sendmail add and the dates in DSNs.
 */
#ifndef POSTERN_MAIL_DATE_H
#define POSTERN_MAIL_DATE_H

#include <time.h>

struct str;

enum mail_date_zone {
	MAIL_DATE_UTC,		/* "+0000" */
	MAIL_DATE_LOCAL,	/* the process's time zone (TZ, /etc/localtime) */
};

/* Append t to out. A time the C library cannot break down (far outside
 * the years 0 to 9999) is written as the epoch. 0, or -1 when out's cap
 * is reached (out is then unchanged). */
int mail_date(struct str *out, time_t t, enum mail_date_zone zone);

/* Parse an RFC 5322 date-time (the Date field's value, unfolded):
 *
 *   [day-name ","] day month year hour ":" minute [":" second] zone
 *
 * leniently as RFC 5322 4.3 asks of readers: comments and extra blanks
 * skipped, month names in any case, two- and three-digit years (50-99:
 * 19xx, 00-49: 20xx, 3 digits: +1900), the obsolete zones UT, GMT,
 * EST/EDT, CST/CDT, MST/MDT, PST/PDT, a military letter or an unknown
 * name as +0000. 0 and *t_r (UTC seconds), or -1 if it is not a date. */
int mail_date_parse(const char *s, time_t *t_r);
/* The date of such a field as it is written, its time and zone
 * disregarded (IMAP SENTON and friends, RFC 3501 6.4.4): the time may be
 * missing. 0 and the year, month (1-12) and day, or -1. */
int mail_date_parse_day(const char *s, int *year_r, int *mon_r,
			int *day_r);

#endif
