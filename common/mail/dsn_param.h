/*
 * dsn_param - the DSN extension's parameters (RFC 3461): xtext, NOTIFY,
 * RET, ENVID and ORCPT, checked, decoded and encoded
 *
 * WHO     smtpd checks what a client gives at MAIL and RCPT
 *         (smtpd/smtp_cmd.c), sendmail encodes -N, -R and -V
 *         (smtpd/sendmail.c), the queue manager decodes ENVID and ORCPT
 *         for a DSN (queue/qmgr_bounce.c). The values travel through the
 *         injector, the queue file and the remote sender in their wire
 *         form (xtext), and are decoded only where a person reads them.
 *
 * GRAMMAR (RFC 3461 section 4, with RFC 6533 for "utf-8" addresses)
 *
 *   xtext    = *( xchar / hexchar )
 *   xchar    = %d33-42 / %d44-60 / %d62-126   (printable ASCII but '+', '=')
 *   hexchar  = "+" 2HEXDIG                    (lower case hex is tolerated)
 *   NOTIFY   = "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )
 *   RET      = "FULL" / "HDRS"
 *   ENVID    = xtext                           1 to DSN_ENVID_MAX bytes
 *   ORCPT    = addr-type ";" xtext             at most DSN_ORCPT_MAX bytes
 *   addr-type = 1*( ALPHA / DIGIT / "-" )      "rfc822", "utf-8", ...
 *
 *   Keywords are case-insensitive; a NOTIFY keyword given twice, NEVER
 *   with another one, or an empty item are refused.
 *
 * LIMITS  ENVID 100 bytes and ORCPT 500 bytes, both counted in their
 *         xtext form as RFC 3461 4.4 and 4.2 say. Beyond the grammar, an
 *         ENVID or an xtext ORCPT address whose decoded form holds a
 *         control character (below 0x20, 0x7f) or is empty is refused,
 *         as Postfix does: it would end up in a DSN header field. A
 *         "utf-8" ORCPT keeps its value as given (UTF-8 is checked by the
 *         SMTP parser in a SMTPUTF8 transaction); it must still be
 *         non-empty and free of control characters and spaces.
 *
 * Every function takes a length, never reads past it, and returns 0 or 1
 * for a check, 0 or -1 for a conversion; *error_r is a static text fit
 * for "501 5.5.4 <text>".
 */
#ifndef POSTERN_DSN_PARAM_H
#define POSTERN_DSN_PARAM_H

#include <stddef.h>

#include "util/str.h"

#define DSN_ENVID_MAX 100	/* RFC 3461 4.4, xtext bytes */
#define DSN_ORCPT_MAX 500	/* RFC 3461 4.2, "type;xtext" bytes */
#define DSN_ADDR_TYPE_MAX 32	/* longest addr-type kept */

/* NOTIFY bits: the same values as QUEUE_NOTIFY_* of queue_file.h */
#define DSN_NOTIFY_NEVER   0x01u
#define DSN_NOTIFY_SUCCESS 0x02u
#define DSN_NOTIFY_FAILURE 0x04u
#define DSN_NOTIFY_DELAY   0x08u
/* The defaults when NOTIFY is not given (RFC 3461 4.1). */
#define DSN_NOTIFY_DEFAULT (DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY)

enum dsn_ret { DSN_RET_NONE = 0, DSN_RET_FULL, DSN_RET_HDRS };

/* Is s[0..n) xtext (possibly empty)? 1 or 0. */
int dsn_xtext_valid(const char *s, size_t n);
/* Append the decoded s[0..n) to out. -1 if it is not xtext. */
int dsn_xtext_decode(const char *s, size_t n, struct str *out);
/* Append s[0..n) as xtext: '+', '=' and every byte outside 33..126 as
 * "+XX" (upper case). */
void dsn_xtext_encode(const char *s, size_t n, struct str *out);

/* NOTIFY value -> DSN_NOTIFY_* bits (never 0). 0 or -1. */
int dsn_notify_parse(const char *s, size_t n, unsigned *notify_r,
		     const char **error_r);
/* Is bits a NOTIFY value: NEVER alone, or a non-empty set of the other
 * three? 1 or 0. */
int dsn_notify_valid(unsigned bits);
/* Append "NEVER" or "SUCCESS,FAILURE,DELAY" (those set, that order). */
void dsn_notify_format(unsigned bits, struct str *out);
/* RET value. 0 or -1. */
int dsn_ret_parse(const char *s, size_t n, enum dsn_ret *ret_r,
		  const char **error_r);
/* ENVID value (xtext). 0 or -1. */
int dsn_envid_check(const char *s, size_t n, const char **error_r);
/* ORCPT value ("type;xtext"). 0 or -1. */
int dsn_orcpt_check(const char *s, size_t n, const char **error_r);
/* Split a valid ORCPT value into its type (as given, at most
 * DSN_ADDR_TYPE_MAX bytes) and its address, decoded unless the type is
 * "utf-8". 0, or -1 if it is not valid. */
int dsn_orcpt_decode(const char *s, size_t n, struct str *type_r,
		     struct str *addr_r);

#endif
