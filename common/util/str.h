/*
 * str - the one growable, length-counted, capped string/buffer type
 *
 * A str holds bytes (NULs allowed) and is always NUL-terminated past len, so
 * str->s can be passed to C functions when the content is text. Every append
 * checks size_t overflow and the cap `max`; past the cap it returns -1 with
 * errno EMSGSIZE and leaves the string unchanged, so a protocol can answer
 * "line too long" instead of crashing. Out of memory is fatal (alloc.h).
 *
 *   struct str line = STR_INIT(1000);
 *   if (str_append(&line, buf, n) < 0) reply "500 line too long";
 *   str_free(&line);
 */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H

#include <stdarg.h>
#include <stddef.h>

struct str {
	char *s;	/* NULL until the first append; use str_c() for text */
	size_t len;	/* bytes used, not counting the terminating NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* largest len allowed; 0 means no cap but overflow */
};

#define STR_INIT(maxlen) { NULL, 0, 0, (maxlen) }

void str_init(struct str *sb, size_t max);
void str_free(struct str *sb);
/* Make room for n more bytes (0 or -1/EMSGSIZE past the cap). */
int str_reserve(struct str *sb, size_t n);
int str_append(struct str *sb, const void *p, size_t n);
int str_appends(struct str *sb, const char *s);
int str_appendc(struct str *sb, char c);
int str_appendf(struct str *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int str_vappendf(struct str *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Replace the content. */
int str_set(struct str *sb, const void *p, size_t n);
int str_sets(struct str *sb, const char *s);
void str_truncate(struct str *sb, size_t len);
static inline void str_clear(struct str *sb) { str_truncate(sb, 0); }
/* Remove the first n bytes. */
void str_consume(struct str *sb, size_t n);
/* The content as a C string ("" when empty); valid until the next change. */
const char *str_c(const struct str *sb);
/* Hand the allocated buffer to the caller (never NULL); sb becomes empty. */
char *str_steal(struct str *sb);

/* Copy a C string into a fixed array; -1 (errno ENAMETOOLONG) if it does
 * not fit, and then dst holds "" rather than a truncated string. */
int cstr_copy(char *dst, size_t dstsize, const char *src);
/* Case-insensitive ASCII comparison helpers. */
int cstr_case_eq(const char *a, const char *b);
int cstr_case_prefix(const char *s, const char *prefix);
/* The value of the hexadecimal digit c ('0'-'9', 'a'-'f', 'A'-'F'), or
 * -1 when c is none. */
int hex_digit_value(int c);

#endif
