/*
 * dsn_param - RFC 3461 parameters: xtext, NOTIFY, RET, ENVID, ORCPT (the
 * grammar and the limits are in dsn_param.h)
 *
 * Delimit, then check: a value is first measured against its limit, then
 * walked once; nothing is copied before it has passed.
 */
#include "mail/dsn_param.h"

#include <string.h>
#include <strings.h>

static int xchar(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '+' && c != '=';
}

/* Walk xtext; the decoded bytes go to out when it is not NULL. Sets
 * *control_r when a decoded byte is a control character. 0 or -1. */
static int xtext_walk(const char *s, size_t n, struct str *out,
		      int *control_r)
{
	*control_r = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			int h = n - i < 3 ? -1 :
				hex_digit_value((unsigned char)s[i + 1]);
			int l = h < 0 ? -1 :
				hex_digit_value((unsigned char)s[i + 2]);

			if (l < 0)
				return -1;
			c = (unsigned char)(h * 16 + l);
			i += 2;
			*control_r |= c < 0x20 || c == 0x7f;
		} else if (!xchar(c)) {
			return -1;
		}
		if (out != NULL)
			str_appendc(out, (char)c);
	}
	return 0;
}

int dsn_xtext_valid(const char *s, size_t n)
{
	int control;

	return xtext_walk(s, n, NULL, &control) == 0;
}

int dsn_xtext_decode(const char *s, size_t n, struct str *out)
{
	int control;

	return xtext_walk(s, n, out, &control);
}

void dsn_xtext_encode(const char *s, size_t n, struct str *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (xchar(c)) {
			str_appendc(out, (char)c);
		} else {
			str_appendc(out, '+');
			str_appendc(out, hex[c >> 4]);
			str_appendc(out, hex[c & 15]);
		}
	}
}

/* ---- NOTIFY and RET ----------------------------------------------------- */

static int word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static unsigned notify_bit(const char *s, size_t n)
{
	if (word_is(s, n, "NEVER"))
		return DSN_NOTIFY_NEVER;
	if (word_is(s, n, "SUCCESS"))
		return DSN_NOTIFY_SUCCESS;
	if (word_is(s, n, "FAILURE"))
		return DSN_NOTIFY_FAILURE;
	if (word_is(s, n, "DELAY"))
		return DSN_NOTIFY_DELAY;
	return 0;
}

int dsn_notify_valid(unsigned bits)
{
	const unsigned any = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE |
			     DSN_NOTIFY_DELAY;

	return bits == DSN_NOTIFY_NEVER || (bits != 0 && (bits & ~any) == 0);
}

int dsn_notify_parse(const char *s, size_t n, unsigned *notify_r,
		     const char **error_r)
{
	unsigned bits = 0, bit;
	size_t pos = 0, end;

	while (pos <= n) {
		for (end = pos; end < n && s[end] != ','; end++)
			;
		bit = notify_bit(s + pos, end - pos);
		if (bit == 0 || (bits & bit) != 0)
			goto bad;
		bits |= bit;
		pos = end + 1;
	}
	if (!dsn_notify_valid(bits))
		goto bad;
	*notify_r = bits;
	return 0;
bad:
	*error_r = "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY";
	return -1;
}

void dsn_notify_format(unsigned bits, struct str *out)
{
	static const struct { unsigned bit; const char *word; } words[] = {
		{ DSN_NOTIFY_NEVER, "NEVER" },
		{ DSN_NOTIFY_SUCCESS, "SUCCESS" },
		{ DSN_NOTIFY_FAILURE, "FAILURE" },
		{ DSN_NOTIFY_DELAY, "DELAY" },
	};
	int first = 1;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(bits & words[i].bit))
			continue;
		if (!first)
			str_appendc(out, ',');
		str_appends(out, words[i].word);
		first = 0;
	}
}

int dsn_ret_parse(const char *s, size_t n, enum dsn_ret *ret_r,
		  const char **error_r)
{
	if (word_is(s, n, "FULL"))
		*ret_r = DSN_RET_FULL;
	else if (word_is(s, n, "HDRS"))
		*ret_r = DSN_RET_HDRS;
	else {
		*error_r = "RET must be FULL or HDRS";
		return -1;
	}
	return 0;
}

/* ---- ENVID and ORCPT ---------------------------------------------------- */

int dsn_envid_check(const char *s, size_t n, const char **error_r)
{
	int control;

	if (n == 0 || n > DSN_ENVID_MAX) {
		*error_r = "ENVID must be 1 to 100 bytes of xtext";
		return -1;
	}
	if (xtext_walk(s, n, NULL, &control) < 0) {
		*error_r = "ENVID is not valid xtext";
		return -1;
	}
	if (control) {
		*error_r = "ENVID holds a control character";
		return -1;
	}
	return 0;
}

/* The addr-type before the ';': its length, or 0 if there is none. */
static size_t orcpt_type_len(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);
	size_t t;

	if (semi == NULL)
		return 0;
	t = (size_t)(semi - s);
	for (size_t i = 0; i < t; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return t <= DSN_ADDR_TYPE_MAX ? t : 0;
}

/* A "utf-8" value: no control character, no space; 8-bit allowed. */
static int utf8_value_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int dsn_orcpt_check(const char *s, size_t n, const char **error_r)
{
	size_t t = n <= DSN_ORCPT_MAX ? orcpt_type_len(s, n) : 0;
	const char *v;
	size_t vn;
	int control;

	if (n > DSN_ORCPT_MAX) {
		*error_r = "ORCPT longer than 500 bytes";
		return -1;
	}
	if (t == 0 || t + 1 >= n) {
		*error_r = "ORCPT must be addr-type;address";
		return -1;
	}
	v = s + t + 1;
	vn = n - t - 1;
	if (word_is(s, t, "utf-8")) {
		if (utf8_value_ok(v, vn))
			return 0;
		*error_r = "ORCPT utf-8 address holds a control character";
		return -1;
	}
	if (xtext_walk(v, vn, NULL, &control) < 0) {
		*error_r = "ORCPT address is not valid xtext";
		return -1;
	}
	if (control) {
		*error_r = "ORCPT address holds a control character";
		return -1;
	}
	return 0;
}

int dsn_orcpt_decode(const char *s, size_t n, struct str *type_r,
		     struct str *addr_r)
{
	const char *error;
	size_t t;

	if (dsn_orcpt_check(s, n, &error) < 0)
		return -1;
	t = orcpt_type_len(s, n);
	str_append(type_r, s, t);
	if (word_is(s, t, "utf-8"))
		return str_append(addr_r, s + t + 1, n - t - 1);
	return dsn_xtext_decode(s + t + 1, n - t - 1, addr_r);
}
