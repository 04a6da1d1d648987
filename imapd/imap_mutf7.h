/*
 * imap_mutf7 - modified UTF-7 mailbox names (RFC 3501 5.1.3) <-> UTF-8
 *
 * GRAMMAR (of a modified UTF-7 name)
 *   name    = *(direct / "&-" / shifted)
 *   direct  = %x20-25 / %x27-7E            printable ASCII but "&"
 *   shifted = "&" 1*B64 "-"                B64 = A-Z a-z 0-9 + ,
 *
 * The base64 (with "," for "/", no padding) holds big-endian UTF-16.
 * DECODING is strict, refusing what Dovecot refuses and a little more:
 * bytes outside 0x20-0x7E; "&" without its "-"; a character outside the
 * base64 alphabet; a shifted run that encodes NUL or a printable ASCII
 * character (which must represent itself); an odd number of bytes or a
 * surrogate without its pair; a shifted run right after another ("&..-&.."
 * must have been one run); leftover bits that are not zero or make up six
 * or more bits (RFC 2152).
 * ENCODING takes well-formed UTF-8 (no NUL; an invalid sequence or a
 * surrogate code point is refused) and writes every character outside
 * 0x20-0x7E in shifted runs, "&" as "&-", as Dovecot does, so that the
 * result decodes back to the input.
 *
 * Both append to out; -1 with errno EINVAL (bad input) or EMSGSIZE (out's
 * cap), out then truncated to its length before the call.
 */
#ifndef POSTERN_IMAP_MUTF7_H
#define POSTERN_IMAP_MUTF7_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

int imap_mutf7_decode(const char *s, size_t len, struct str *out);
int imap_mutf7_encode(const char *s, size_t len, struct str *out);
/* 1 if s[0..len) is valid modified UTF-7. */
int imap_mutf7_valid(const char *s, size_t len);
/* 1 if s[0..len) is ASCII without "&" (the same in both forms). */
int imap_mutf7_plain(const char *s, size_t len);

/* The well-formed UTF-8 character at p (n bytes left; no overlong forms,
 * surrogates or values above 0x10FFFF): its length and *cp, or 0. */
size_t imap_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);
/* 1 if s[0..len) is well-formed UTF-8. */
int imap_utf8_valid(const char *s, size_t len);

#endif
