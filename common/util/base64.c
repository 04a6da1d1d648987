/*
 * base64 - RFC 4648 base64 with the standard alphabet
 *
 * Encoding appends "=" padding. Decoding is strict, as SASL (RFC 4422) and
 * the stored {SSHA} hashes need: the length must be a multiple of four,
 * "=" may only end the last quantum, blanks and any other byte are
 * refused, and the unused bits before padding must be zero, so every
 * accepted string is the one canonical encoding of its bytes. The
 * lenient decoder (RFC 2047 B words, where padding is often left out)
 * takes any length, padded or not, and ignores the bits left over.
 */
#include "util/base64.h"

#include <errno.h>
#include <stdint.h>

#include "util/str.h"

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(struct str *out, const void *p, size_t n)
{
	const unsigned char *in = p;
	size_t groups = n / 3 + (n % 3 != 0), i;
	char quad[4];

	if (n == 0)
		return 0;
	if (groups > (SIZE_MAX - 1) / 4 || str_reserve(out, groups * 4) < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		quad[0] = base64_alphabet[(v >> 18) & 63];
		quad[1] = base64_alphabet[(v >> 12) & 63];
		quad[2] = left > 1 ? base64_alphabet[(v >> 6) & 63] : '=';
		quad[3] = left > 2 ? base64_alphabet[v & 63] : '=';
		if (str_append(out, quad, 4) < 0)
			return -1;
	}
	return 0;
}

/* The 6-bit value of c, or -1 when c is not in the alphabet. */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode one quantum of four characters into buf; returns the number of
 * bytes (1..3) or -1. last says whether padding is allowed here. */
static int base64_quantum(const char *q, int last, unsigned char buf[3])
{
	int v[4], i, pad = 0;
	uint32_t bits;

	for (i = 0; i < 4; i++) {
		if (q[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
			continue;
		}
		if (pad > 0 || (v[i] = base64_value((unsigned char)q[i])) < 0)
			return -1;
	}
	bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
	       (uint32_t)v[2] << 6 | (uint32_t)v[3];
	/* Non-canonical: bits hidden under the padding must be zero. */
	if ((pad == 1 && (bits & 0xff) != 0) ||
	    (pad == 2 && (bits & 0xffff) != 0))
		return -1;
	buf[0] = (unsigned char)(bits >> 16);
	buf[1] = (unsigned char)(bits >> 8);
	buf[2] = (unsigned char)bits;
	return 3 - pad;
}

int base64_decode(struct str *out, const char *s, size_t n)
{
	size_t oldlen = out->len, i;
	unsigned char buf[3];
	int got;

	if (n % 4 != 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i += 4) {
		got = base64_quantum(s + i, i + 4 == n, buf);
		if (got < 0) {
			errno = EINVAL;
			str_truncate(out, oldlen);
			return -1;
		}
		if (str_append(out, buf, (size_t)got) < 0) {
			str_truncate(out, oldlen);
			return -1;
		}
	}
	return 0;
}

int base64_decode_lenient(struct str *out, const char *s, size_t n)
{
	size_t end, i, outlen;
	uint32_t acc = 0;
	unsigned bits = 0;
	char c;

	for (end = 0; end < n && s[end] != '='; end++)
		if (base64_value((unsigned char)s[end]) < 0)
			goto invalid;
	for (i = end; i < n; i++)
		if (s[i] != '=')
			goto invalid;
	/* 6 bits a character, whole bytes only */
	outlen = end / 4 * 3 + end % 4 * 3 / 4;
	if (str_reserve(out, outlen) < 0)
		return -1;
	for (i = 0; i < end; i++) {
		acc = acc << 6 | (uint32_t)base64_value((unsigned char)s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (char)(acc >> bits & 0xff);
			acc &= (1u << bits) - 1;
			/* reserved above: cannot fail */
			if (str_appendc(out, c) < 0)
				return -1;
		}
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}
