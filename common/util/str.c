/*
 * str - the one growable, length-counted, capped string/buffer type
 */
#include "util/str.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

static char str_empty[1];

void str_init(struct str *sb, size_t max)
{
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->max = max;
}

void str_free(struct str *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
}

int str_reserve(struct str *sb, size_t n)
{
	size_t need, limit = sb->max ? sb->max : SIZE_MAX - 1;
	size_t newcap;

	if (__builtin_add_overflow(sb->len, n, &need) || need > limit) {
		errno = EMSGSIZE;
		return -1;
	}
	if (need + 1 <= sb->cap)
		return 0;
	newcap = sb->cap ? sb->cap : 64;
	while (newcap < need + 1) {
		if (newcap > SIZE_MAX / 2) {
			newcap = need + 1;
			break;
		}
		newcap *= 2;
	}
	sb->s = xrealloc(sb->s, newcap);
	sb->s[sb->len] = '\0';	/* a first allocation must be a string too */
	sb->cap = newcap;
	return 0;
}

int str_append(struct str *sb, const void *p, size_t n)
{
	if (str_reserve(sb, n) < 0)
		return -1;
	if (n > 0)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

int str_appends(struct str *sb, const char *s)
{
	return str_append(sb, s, strlen(s));
}

int str_appendc(struct str *sb, char c)
{
	return str_append(sb, &c, 1);
}

int str_vappendf(struct str *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	if (str_reserve(sb, (size_t)n) < 0)
		return -1;
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int str_appendf(struct str *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = str_vappendf(sb, fmt, ap);
	va_end(ap);
	return r;
}

int str_set(struct str *sb, const void *p, size_t n)
{
	size_t old = sb->len;

	sb->len = 0;
	if (str_append(sb, p, n) < 0) {
		sb->len = old;
		return -1;
	}
	return 0;
}

int str_sets(struct str *sb, const char *s)
{
	return str_set(sb, s, strlen(s));
}

void str_truncate(struct str *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->s[len] = '\0';
	}
}

void str_consume(struct str *sb, size_t n)
{
	if (n >= sb->len) {
		str_truncate(sb, 0);
		return;
	}
	memmove(sb->s, sb->s + n, sb->len - n);
	sb->len -= n;
	sb->s[sb->len] = '\0';
}

const char *str_c(const struct str *sb)
{
	return sb->s ? sb->s : str_empty;
}

char *str_steal(struct str *sb)
{
	char *p = sb->s ? sb->s : xstrdup("");

	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
	return p;
}

int cstr_copy(char *dst, size_t dstsize, const char *src)
{
	size_t n = strlen(src);

	if (dstsize == 0)
		return -1;
	if (n >= dstsize) {
		dst[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int cstr_case_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int cstr_case_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;	/* 'A'-'F' to 'a'-'f'; nothing else lands there */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
