/*
 * imap_quote - IMAP strings and dates (imap_quote.h)
 */
#include "imapd/imap_quote.h"

#include <string.h>
#include <strings.h>

#include "imapd/imap_mutf7.h"

static const char imap_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* ---- strings ---------------------------------------------------------- */

static int imap_astring_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	       c != '%' && c != '*' && c != '"' && c != '\\';
}

int imap_quote_is_atom(const char *s, size_t len)
{
	if (len == 0 || (len == 3 && strncasecmp(s, "NIL", 3) == 0))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!imap_astring_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static int imap_quotable(const char *s, size_t len, int utf8)
{
	int eight = 0;

	if (len > IMAP_QUOTED_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return 0;
		eight |= c >= 0x80;
	}
	return !eight || (utf8 && imap_utf8_valid(s, len));
}

int imap_quote_literal(struct str *out, const char *s, size_t len)
{
	size_t start = out->len;

	if (str_appendf(out, "{%zu}\r\n", len) < 0 ||
	    str_append(out, s, len) < 0) {
		str_truncate(out, start);
		return -1;
	}
	return 0;
}

int imap_quote_literal8(struct str *out, const char *s, size_t len)
{
	size_t start = out->len;

	if (str_appendc(out, '~') < 0 || imap_quote_literal(out, s, len) < 0) {
		str_truncate(out, start);
		return -1;
	}
	return 0;
}

int imap_quote_string(struct str *out, const char *s, size_t len, int utf8)
{
	size_t start = out->len, run = 0;

	if (!imap_quotable(s, len, utf8))
		return imap_quote_literal(out, s, len);
	if (str_appendc(out, '"') < 0)
		goto full;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		if (str_append(out, s + run, i - run) < 0 ||
		    str_appendc(out, '\\') < 0)
			goto full;
		run = i;
	}
	if (str_append(out, s + run, len - run) < 0 ||
	    str_appendc(out, '"') < 0)
		goto full;
	return 0;
full:
	str_truncate(out, start);
	return -1;
}

int imap_quote_astring(struct str *out, const char *s, size_t len, int utf8)
{
	if (imap_quote_is_atom(s, len))
		return str_append(out, s, len);
	return imap_quote_string(out, s, len, utf8);
}

int imap_quote_nstring(struct str *out, const char *s, size_t len, int utf8)
{
	if (s == NULL)
		return str_appends(out, "NIL");
	return imap_quote_string(out, s, len, utf8);
}

/* ---- dates ------------------------------------------------------------ */

static int imap_days_in_month(int year, int mon)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

/* n digits at s[*i] into *v. */
static int imap_digits(const char *s, size_t len, size_t *i, unsigned n,
		       int *v)
{
	*v = 0;
	for (unsigned k = 0; k < n; k++, (*i)++) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return -1;
		*v = *v * 10 + (s[*i] - '0');
	}
	return 0;
}

static int imap_char(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

/* "-Mon-YYYY" after the day. */
static int imap_month_year(const char *s, size_t len, size_t *i,
			   struct imap_date *d)
{
	if (imap_char(s, len, i, '-') < 0 || *i + 3 > len)
		return -1;
	d->mon = 0;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(s + *i, imap_months[m], 3) == 0)
			d->mon = m + 1;
	if (d->mon == 0)
		return -1;
	*i += 3;
	if (imap_char(s, len, i, '-') < 0 ||
	    imap_digits(s, len, i, 4, &d->year) < 0)
		return -1;
	if (d->day < 1 || d->day > imap_days_in_month(d->year, d->mon))
		return -1;
	return 0;
}

int imap_date_parse(const char *s, size_t len, struct imap_date *d)
{
	size_t i = 0;

	if (imap_digits(s, len, &i, 1, &d->day) < 0)
		return -1;
	if (i < len && s[i] >= '0' && s[i] <= '9')
		d->day = d->day * 10 + (s[i++] - '0');
	if (imap_month_year(s, len, &i, d) < 0 || i != len)
		return -1;
	return 0;
}

int64_t imap_date_days(const struct imap_date *d)
{
	/* days from civil (proleptic Gregorian) */
	int64_t y = d->year - (d->mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (d->mon + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int imap_datetime_parse(const char *s, size_t len, time_t *t_r,
			int *zone_min_r)
{
	struct imap_date d;
	size_t i = 0;
	int hh, mm, ss, zh, zm, sign;

	if (len > 0 && s[0] == ' ') {
		i = 1;
		if (imap_digits(s, len, &i, 1, &d.day) < 0)
			return -1;
	} else if (imap_digits(s, len, &i, 2, &d.day) < 0) {
		return -1;
	}
	if (imap_month_year(s, len, &i, &d) < 0 ||
	    imap_char(s, len, &i, ' ') < 0 ||
	    imap_digits(s, len, &i, 2, &hh) < 0 ||
	    imap_char(s, len, &i, ':') < 0 ||
	    imap_digits(s, len, &i, 2, &mm) < 0 ||
	    imap_char(s, len, &i, ':') < 0 ||
	    imap_digits(s, len, &i, 2, &ss) < 0 ||
	    imap_char(s, len, &i, ' ') < 0 || i >= len ||
	    (s[i] != '+' && s[i] != '-'))
		return -1;
	sign = s[i++] == '-' ? -1 : 1;
	if (imap_digits(s, len, &i, 2, &zh) < 0 ||
	    imap_digits(s, len, &i, 2, &zm) < 0 || i != len ||
	    hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return -1;
	*zone_min_r = sign * (zh * 60 + zm);
	*t_r = (time_t)(imap_date_days(&d) * 86400 + hh * 3600 + mm * 60 +
			ss - *zone_min_r * 60);
	return 0;
}

int imap_datetime_format(struct str *out, time_t t, int zone_min)
{
	int64_t local = (int64_t)t + (int64_t)zone_min * 60;
	int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	int64_t secs = local - days * 86400;
	/* civil from days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int day = (int)(doy - (153 * mp + 2) / 5 + 1);
	int mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	int64_t year = yoe + era * 400 + (mon <= 2);
	int az = zone_min < 0 ? -zone_min : zone_min;

	if (year < 0 || year > 9999)
		return str_appends(out, "\"01-Jan-1970 00:00:00 +0000\"");
	return str_appendf(out, "\"%02d-%s-%04d %02d:%02d:%02d %c%02d%02d\"",
			   day, imap_months[mon - 1], (int)year,
			   (int)(secs / 3600), (int)(secs / 60 % 60),
			   (int)(secs % 60), zone_min < 0 ? '-' : '+',
			   az / 60, az % 60);
}
