/*
 * base64 - RFC 4648 base64 (SASL, auth protocol, {SSHA} hashes)
 */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>

struct str;

int base64_encode(struct str *out, const void *p, size_t n);
/* Strict: padding required, no blanks; -1 on any invalid input. Appends. */
int base64_decode(struct str *out, const char *s, size_t n);

#endif
