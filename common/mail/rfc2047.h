/*
 * rfc2047 - header text with MIME encoded-words, decoded to UTF-8
 *
 * GRAMMAR (RFC 2047 2, 4, 5; RFC 2231 5 for the language suffix)
 *   encoded-word = "=?" charset ["*" language] "?" ("B"/"Q") "?"
 *                  encoded-text "?="
 *   Encoded text holds no blanks; B is base64 (padding optional here),
 *   Q is quoted-printable with "_" for a space.
 *   Blanks between two encoded-words are dropped (RFC 2047 6.2), and the
 *   bytes of adjacent words in one charset are joined before conversion,
 *   so a character split across two words comes out whole.
 *
 * OUTPUT  UTF-8. Charsets are converted with iconv(3) (glibc knows
 *         utf-8, us-ascii, iso-8859-*, windows-125x, koi8-r, gb2312, ...);
 *         bytes a charset does not define become U+FFFD. A word that is
 *         not well formed, or in a charset iconv does not know, is left as
 *         it is. Text outside encoded-words is copied, its folding CR and
 *         LF removed (RFC 5322 2.2.3).
 *
 * LIMITS  linear in the input; out's cap bounds the output.
 *
 *   struct str s = STR_INIT(65536);
 *   rfc2047_decode(value, value_len, &s);
 */
#ifndef POSTERN_RFC2047_H
#define POSTERN_RFC2047_H

#include <stddef.h>

struct str;

/* Append the decoded form of in[0..n) to out. 0, or -1 (EMSGSIZE) past
 * out's cap. */
int rfc2047_decode(const char *in, size_t n, struct str *out);

/* Append in[0..n), text in charset, converted to UTF-8 (invalid bytes as
 * U+FFFD). 0; 1 if the charset is unknown (nothing appended); -1 past
 * out's cap. */
int charset_to_utf8(const char *charset, const char *in, size_t n,
		    struct str *out);
/* Open the converters of the charsets mail commonly uses (the ISO-8859
 * and Windows families, KOI8, the CJK ones, UTF-16/7) and keep them:
 * call it before the process confines itself, since a gconv module needs
 * its files (Landlock) and executable mappings (seccomp) when it loads.
 * Afterwards charset_to_utf8() finds them there; other charsets are
 * still tried with iconv_open(3), which fails in a confined process and
 * leaves the text as it is. */
void charset_preload(void);

#endif
