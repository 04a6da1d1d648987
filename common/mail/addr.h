/*
 * addr - envelope addresses: RFC 5321 Path and Mailbox, RFC 6531 SMTPUTF8
 *
 * INPUT   untrusted bytes from an SMTP client, the sendmail command line or
 *         an alias file; never assumed NUL-terminated inside a line
 * OUTPUT  struct addr: the local part unquoted (quoted-pairs resolved, case
 *         kept) and the domain with its ASCII letters lowercased
 * LIMITS  local part 64 octets, domain 255, local@domain 254
 *         (RFC 5321 4.5.3.1); domain labels 63
 *
 * What is refused, always: source routes ("<@a,@b:u@d>"), control
 * characters (C0, DEL, C1) and NUL/CR/LF/TAB anywhere, empty local parts,
 * dot-strings with empty atoms, domains with a trailing dot, labels that
 * begin or end with a hyphen, address literals other than IPv4 and
 * "IPv6:" (both checked with inet_pton), 8-bit bytes without ADDR_UTF8 and
 * 8-bit bytes that are not well-formed UTF-8 (overlongs, surrogates).
 *
 * A local part is stored as its content: "\"a\\b\""@d and ab@d are the same
 * mailbox and parse to the same struct addr; addr_format() quotes the
 * local part again exactly when it is not a valid dot-string.
 *
 *   struct addr a;
 *   int n = addr_parse_path(arg, len, ADDR_ALLOW_NULL, &a, &error);
 *   if (n < 0) reply "553 5.1.7 %s", error; else params start at arg + n.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stddef.h>

struct str;

#define ADDR_LOCAL_MAX   64	/* octets, RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX 255	/* octets, RFC 5321 4.5.3.1.2 */
#define ADDR_MAX        254	/* local@domain: a 256-octet path minus <> */
#define ADDR_LABEL_MAX   63	/* one domain label (RFC 1035) */

/* flags for the parsers */
#define ADDR_ALLOW_NULL          0x01	/* "<>" (plain: "") is the null path */
#define ADDR_UTF8                0x02	/* RFC 6531 UTF-8 in local part, domain */
#define ADDR_REJECT_RELAY_TRICKS 0x04	/* refuse '%', '!', '@' in the local part */
#define ADDR_ALLOW_POSTMASTER    0x08	/* "<Postmaster>" without a domain */
#define ADDR_ALLOW_NO_DOMAIN     0x10	/* any local part without "@domain" */

struct addr {
	char local[ADDR_LOCAL_MAX + 1];	/* content, unquoted; "" if null */
	size_t local_len;
	char domain[ADDR_DOMAIN_MAX + 1];	/* "" if none; "[...]" literal */
	size_t domain_len;
	int is_null;		/* the null reverse-path "<>" */
	int is_literal;		/* domain is an address literal */
};

/* Parse "<local@domain>" (or "<>" with ADDR_ALLOW_NULL) at the start of
 * s[0..len). Returns the number of bytes consumed, through the '>'; what
 * follows (" SIZE=...") is the caller's. -1 with *error_r on error. */
int addr_parse_path(const char *s, size_t len, unsigned flags,
		    struct addr *a, const char **error_r);

/* Parse a whole NUL-terminated address without brackets, "local@domain"
 * (a bracketed path is accepted too). With ADDR_ALLOW_NULL, "" and "<>"
 * are the null address. 0 or -1 with *error_r. */
int addr_parse_plain(const char *s, unsigned flags, struct addr *a,
		     const char **error_r);

/* Check s[0..len) as a domain: dot-separated labels of letters, digits
 * and hyphens (UTF-8 too with ADDR_UTF8), or an address literal.
 * 0 or -1 with *error_r (error_r may be NULL). */
int addr_check_domain(const char *s, size_t len, unsigned flags,
		      const char **error_r);

/* 0 if s[0..len) is well-formed UTF-8 without control characters (C0, DEL,
 * C1), overlongs or surrogates; -1 if not. */
int addr_check_utf8(const char *s, size_t len);

/* Append "local@domain" to out, the local part quoted if it needs to be;
 * "local" if there is no domain; nothing for the null address.
 * 0, or -1 if out's cap was reached (errno EMSGSIZE). */
int addr_format(const struct addr *a, struct str *out);

/* 1 if the local part must be written as a quoted string, 0 if not
 * (and for the null address). */
int addr_local_needs_quoting(const struct addr *a);

/* 1 if local part and domain are pure ASCII, 0 if not. */
int addr_is_ascii(const struct addr *a);

/* Split an address extension: for "user+tag" and sep '+', *base_len_r is
 * 4 and *ext_r points at "tag"; returns 1. Returns 0 (*base_len_r = len,
 * *ext_r = NULL) when there is no separator or it is the first byte, so
 * "+tag" has no base to fall back to. The first separator counts. */
int addr_split_extension(const char *local, size_t len, char sep,
			 size_t *base_len_r, const char **ext_r);

#endif
