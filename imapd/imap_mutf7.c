/*
 * imap_mutf7 - modified UTF-7 mailbox names (imap_mutf7.h)
 */
#include "imapd/imap_mutf7.h"

#include <errno.h>

static const char imap_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int imap_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

size_t imap_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		v = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		v = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		v = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (len == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	*cp = v;
	return len;
}

int imap_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		size_t n = imap_utf8_decode(p + i, len - i, &cp);

		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int imap_mutf7_plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '&')
			return 0;
	return 1;
}

static int imap_utf8_put(struct str *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return str_append(out, b, n);
}

/* Decode the shifted run s[*i..] (just past "&", up to and including its
 * "-") into out. */
static int imap_mutf7_run(const char *s, size_t len, size_t *i,
			  struct str *out)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;

	for (;;) {
		int v;

		if (*i >= len)
			return -1;
		if (s[*i] == '-')
			break;
		v = imap_b64_value((unsigned char)s[*i]);
		if (v < 0)
			return -1;
		(*i)++;
		bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;

		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			if (imap_utf8_put(out, 0x10000 + ((high - 0xd800) << 10)
					  + (u - 0xdc00)) < 0)
				return -2;
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u == 0 || (u >= 0x20 && u < 0x7f)) {
			return -1;
		} else if (imap_utf8_put(out, u) < 0) {
			return -2;
		}
	}
	(*i)++;	/* "-" */
	if (high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return 0;
}

int imap_mutf7_decode(const char *s, size_t len, struct str *out)
{
	size_t start = out->len, i = 0;
	int after_run = 0, r = -1;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			goto fail;
		if (c != '&') {
			if (str_appendc(out, (char)c) < 0)
				goto full;
			after_run = 0;
			i++;
			continue;
		}
		i++;
		if (i < len && s[i] == '-') {
			if (str_appendc(out, '&') < 0)
				goto full;
			after_run = 0;
			i++;
			continue;
		}
		if (after_run)
			goto fail;
		r = imap_mutf7_run(s, len, &i, out);
		if (r == -2)
			goto full;
		if (r < 0)
			goto fail;
		after_run = 1;
	}
	return 0;
fail:
	str_truncate(out, start);
	errno = EINVAL;
	return -1;
full:
	str_truncate(out, start);
	errno = EMSGSIZE;
	return -1;
}

int imap_mutf7_valid(const char *s, size_t len)
{
	struct str tmp = STR_INIT(0);
	int ok = imap_mutf7_decode(s, len, &tmp) == 0;

	str_free(&tmp);
	return ok;
}

/* The encoder's shifted run in progress. */
struct imap_mutf7_run {
	int open;
	uint32_t bits;
	unsigned nbits;
};

static int imap_mutf7_put_unit(struct str *out, struct imap_mutf7_run *run,
			       uint32_t u)
{
	if (!run->open) {
		if (str_appendc(out, '&') < 0)
			return -1;
		run->open = 1;
		run->bits = 0;
		run->nbits = 0;
	}
	run->bits = (run->bits << 16 | u) & 0x3fffff;
	run->nbits += 16;
	while (run->nbits >= 6) {
		run->nbits -= 6;
		if (str_appendc(out, imap_b64[(run->bits >> run->nbits) &
					      0x3f]) < 0)
			return -1;
	}
	return 0;
}

static int imap_mutf7_close_run(struct str *out, struct imap_mutf7_run *run)
{
	if (!run->open)
		return 0;
	run->open = 0;
	if (run->nbits > 0 &&
	    str_appendc(out, imap_b64[(run->bits << (6 - run->nbits)) &
				      0x3f]) < 0)
		return -1;
	return str_appendc(out, '-');
}

int imap_mutf7_encode(const char *s, size_t len, struct str *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, i = 0;
	struct imap_mutf7_run run = { 0, 0, 0 };

	while (i < len) {
		uint32_t cp;
		size_t n = imap_utf8_decode(p + i, len - i, &cp);

		if (n == 0 || cp == 0) {
			str_truncate(out, start);
			errno = EINVAL;
			return -1;
		}
		i += n;
		if (cp >= 0x20 && cp < 0x7f) {
			if (imap_mutf7_close_run(out, &run) < 0 ||
			    str_appendc(out, (char)cp) < 0 ||
			    (cp == '&' && str_appendc(out, '-') < 0))
				goto full;
		} else if (cp >= 0x10000) {
			if (imap_mutf7_put_unit(out, &run, 0xd800 +
						((cp - 0x10000) >> 10)) < 0 ||
			    imap_mutf7_put_unit(out, &run, 0xdc00 +
						((cp - 0x10000) & 0x3ff)) < 0)
				goto full;
		} else if (imap_mutf7_put_unit(out, &run, cp) < 0) {
			goto full;
		}
	}
	if (imap_mutf7_close_run(out, &run) < 0)
		goto full;
	return 0;
full:
	str_truncate(out, start);
	errno = EMSGSIZE;
	return -1;
}
