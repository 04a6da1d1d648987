/*
 * imap_quote - write strings into IMAP responses (atom, quoted, literal)
 * and read and write IMAP dates
 *
 * STRINGS (RFC 9051 section 4.3): a string is written quoted when it can
 * be: no CR, LF or NUL, at most IMAP_QUOTED_MAX bytes, and 7-bit, or
 * well-formed UTF-8 when the session allows it (utf8: IMAP4rev2 or
 * UTF8=ACCEPT); "\" and DQUOTE are escaped. Otherwise it is a literal,
 * "{n}" CRLF and the bytes. An astring is written as an atom when it is a
 * non-empty run of ASTRING-CHARs that does not read as NIL. NUL cannot be
 * in a string at all: imap_quote_literal8() writes "~{n}" for BINARY.
 *
 * DATES
 *   date      = day "-" month "-" 4DIGIT          day = 1*2DIGIT
 *               (SEARCH BEFORE/ON/SINCE...; a DQUOTEd form is unquoted
 *               by the reader already)
 *   date-time = day-fixed "-" month "-" 4DIGIT SP HH ":" MM ":" SS SP zone
 *               day-fixed = (SP DIGIT) / 2DIGIT; zone = ("+" / "-") 4DIGIT
 *   month     = Jan Feb ... Dec, any case
 * A day that the month does not have is refused (30-Feb-2026).
 * INTERNALDATE is written as "DD-Mon-YYYY HH:MM:SS +ZZZZ" within DQUOTEs,
 * English month names whatever the locale.
 *
 * Writers append and return 0, or -1 past out's cap.
 */
#ifndef POSTERN_IMAP_QUOTE_H
#define POSTERN_IMAP_QUOTE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/str.h"

#define IMAP_QUOTED_MAX 1024

int imap_quote_astring(struct str *out, const char *s, size_t len, int utf8);
int imap_quote_string(struct str *out, const char *s, size_t len, int utf8);
/* NIL for s == NULL */
int imap_quote_nstring(struct str *out, const char *s, size_t len, int utf8);
int imap_quote_literal(struct str *out, const char *s, size_t len);
int imap_quote_literal8(struct str *out, const char *s, size_t len);
/* 1 if s[0..len) can go out as an atom (ASTRING-CHARs, not NIL). */
int imap_quote_is_atom(const char *s, size_t len);

struct imap_date {
	int year, mon, day;	/* mon 1-12 */
};

int imap_date_parse(const char *s, size_t len, struct imap_date *d);
/* Days since 1970-01-01 (negative before). */
int64_t imap_date_days(const struct imap_date *d);
/* The time and the zone's offset east of UTC in minutes. 0 or -1. */
int imap_datetime_parse(const char *s, size_t len, time_t *t_r,
			int *zone_min_r);
/* Append t as an INTERNALDATE, in the zone zone_min minutes east of UTC,
 * with its DQUOTEs. */
int imap_datetime_format(struct str *out, time_t t, int zone_min);

#endif
