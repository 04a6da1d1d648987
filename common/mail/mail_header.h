/*
 * mail_header - the fields of an RFC 5322 header section, unfolded on demand
 *
 * GRAMMAR (RFC 5322 2.2, 3.6; lenient like Dovecot's header parser)
 *   header  = *field [empty-line]
 *   field   = name *WSP ":" value line-end *(WSP-line)
 *   a line beginning with SP or HTAB continues the field before it;
 *   line-end is LF or CRLF (files may have either; a lone CR is content).
 *   The name is what precedes the colon, blanks before it removed; the
 *   value begins after the colon and the blanks that follow it.
 *   A line without a colon (and not a continuation) is skipped, as is a
 *   continuation line before any field. The iteration stops at the first
 *   empty line or at the end of the bytes given.
 *
 * OUTPUT  struct mail_header_field points into the caller's bytes: the raw
 *         value (still folded, without the final line end) and the whole
 *         field (name through its last line end). mail_header_unfold()
 *         removes the CR and LF of the folding (RFC 5322 2.2.3): the blank
 *         that begins a continuation line stays.
 *
 * LIMITS  none of its own: linear in the header's size, no allocation.
 *
 *   struct mail_header_iter it;
 *   struct mail_header_field f;
 *   mail_header_iter_init(&it, hdr, len);
 *   while (mail_header_iter_next(&it, &f)) ...
 */
#ifndef POSTERN_MAIL_HEADER_H
#define POSTERN_MAIL_HEADER_H

#include <stddef.h>

struct str;

struct mail_header_field {
	const char *name;	/* not NUL-terminated */
	size_t name_len;
	const char *value;	/* raw, folded, without the final line end */
	size_t value_len;
	const char *field;	/* the whole field with its line end(s) */
	size_t field_len;
};

struct mail_header_iter {
	const char *p;
	size_t len, pos;
};

void mail_header_iter_init(struct mail_header_iter *it, const char *hdr,
			   size_t len);
/* 1 and the next field in *f, or 0 at the end of the header. */
int mail_header_iter_next(struct mail_header_iter *it,
			  struct mail_header_field *f);

/* The first field called name (ASCII case-insensitive) in hdr[0..len):
 * 1 and *f, or 0 if there is none. */
int mail_header_find(const char *hdr, size_t len, const char *name,
		     struct mail_header_field *f);

/* 1 if f is called name (ASCII case-insensitive), else 0. */
int mail_header_name_is(const struct mail_header_field *f, const char *name);

/* Append v[0..n) to out without its CR and LF bytes (unfolding).
 * 0, or -1 (EMSGSIZE) past out's cap. */
int mail_header_unfold(const char *v, size_t n, struct str *out);

#endif
