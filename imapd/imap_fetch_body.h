/*
 * imap_fetch_body - ENVELOPE and BODY/BODYSTRUCTURE of FETCH
 *                   (RFC 3501 7.4.2, RFC 9051 7.5.2), written as Dovecot
 *                   writes them
 *
 * INPUT   the message bytes and its MIME tree (common/mail/mime.h).
 *
 * STRINGS A value is a quoted string unless it holds CR, LF, NUL, 8-bit
 *         bytes, '"' or '\\': then a literal {n}CRLF (RFC 3501 4.3), as
 *         Dovecot 2.3 writes it. Header values are not RFC 2047-decoded. The
 *         Subject of the envelope is written "for humans": blanks folded
 *         into one space, leading and trailing blanks removed, and, when
 *         anything had to change, as a literal.
 *
 * ENVELOPE (date subject from sender reply-to to cc bcc in-reply-to
 *         message-id): the last field of each name counts (as in Dovecot);
 *         sender and reply-to default to from; an absent field is NIL;
 *         an address is (name adl mailbox host); a group is
 *         (NIL NIL "name" NIL) ... (NIL NIL NIL NIL).
 *
 * BODYSTRUCTURE text/... without a charset gets ("charset" "us-ascii");
 *         Content-Transfer-Encoding defaults to "7bit"; a multipart
 *         without body parts is given one empty text/plain part;
 *         message/rfc822 (and message/global) carry the envelope, body
 *         structure and line count of the encapsulated message. With
 *         extended: md5, disposition, language, location (a multipart:
 *         parameters, disposition, language, location).
 *
 * RETURNS 0, or -1 when out's cap was reached (errno EMSGSIZE).
 */
#ifndef POSTERN_IMAP_FETCH_BODY_H
#define POSTERN_IMAP_FETCH_BODY_H

#include <stddef.h>

struct str;
struct mime_part;

/* The ENVELOPE list of the message whose header is p's (the root, or the
 * child of a message/rfc822 part). */
int imap_envelope_write(const char *msg, const struct mime_part *p,
			struct str *out);

/* BODYSTRUCTURE (extended = 1) or BODY (0) of the message whose root is
 * root. */
int imap_bodystructure_write(const char *msg, const struct mime_part *root,
			     int extended, struct str *out);

/* An IMAP string (quoted or literal) of s[0..n); NULL is NIL. */
int imap_string_write(struct str *out, const char *s, size_t n);
int imap_nstring_write(struct str *out, const char *s);

#endif
