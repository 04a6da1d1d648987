/*
 * base64 - RFC 4648 base64 (SASL, auth protocol, {SSHA} hashes; leniently
 *          for RFC 2047 encoded-words)
 */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>

struct str;

int base64_encode(struct str *out, const void *p, size_t n);
/* Strict: padding required, no blanks; -1 on any invalid input. Appends. */
int base64_decode(struct str *out, const char *s, size_t n);
/* Lenient, as RFC 2047 B words are written: the text is alphabet
 * characters up to the first "=", then only "=" (padding optional, of
 * any length); bits left over at the end are dropped. Appends; -1 with
 * errno EINVAL on any other input, or EMSGSIZE past out's cap, and then
 * nothing is appended. */
int base64_decode_lenient(struct str *out, const char *s, size_t n);

#endif
