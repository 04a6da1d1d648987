/*
 * mime - a message held in memory, parsed into its tree of MIME parts
 *        (RFC 2045, RFC 2046, RFC 2231), with the offsets and CRLF sizes
 *        IMAP's FETCH needs
 *
 * INPUT   the bytes of one message (the caller maps the file), untrusted;
 *         line ends LF or CRLF or a mix; a lone CR is content.
 *
 * TREE    Every part has a header (hdr_off, hdr_len: up to and including
 *         the empty line that ends it, or up to the end of the part when
 *         there is none) and a body (body_off, body_len). A multipart/...
 *         with a boundary parameter has its body parts as children; a
 *         message/rfc822 (or message/global) has one child, the
 *         encapsulated message, whose header begins at the parent's body.
 *
 * BOUNDARIES (RFC 2046 5.1.1) A line "--" boundary [ "--" ] ends the body
 *         before it; the line end before that line belongs to the
 *         delimiter, not to the body. The text before the first delimiter
 *         (preamble) and after the close delimiter (epilogue) belong to no
 *         part. The delimiters of every enclosing multipart are looked for
 *         at once, innermost first: an outer delimiter ends the inner
 *         multipart too (a missing close delimiter), and where boundaries
 *         are prefixes of each other a line that matches one exactly
 *         (nothing after it but "--" and blanks) wins over a line that only
 *         begins with another. Each byte is looked at a bounded number of
 *         times: no rescans, no quadratic input.
 *
 * LIKE DOVECOT (so that ENVELOPE and BODYSTRUCTURE agree with it)
 *         - Content-* fields count with or without MIME-Version (the
 *           flag MIME_PART_IS_MIME only tells whether the part had one or
 *           is a body part of a multipart).
 *         - The line end before a delimiter line belongs to the delimiter,
 *           except when it ends a close delimiter line ("--inner--" LF
 *           "--outer"): then it stays in the body that ends there.
 *         - No Content-Type: text/plain (charset us-ascii is added by the
 *           IMAP writer), in a multipart/digest message/rfc822.
 *         - Parameters are kept as they were written (unquoted), RFC 2231
 *           sections merged: "name*0" "name*1" become "name", and if any
 *           section was extended "name*" whose value stays encoded
 *           ("utf-8''%E2%82%AC"); mime_param_decode() gives the UTF-8.
 *           The plain parameters come first, in order, then the merged
 *           ones sorted by name. Sections with a missing index are kept
 *           one by one ("name*1").
 *         - The first of each Content-* field counts.
 *
 * SIZES   hdr_vsize/body_vsize are the sizes of the CRLF form (a bare LF
 *         counts 2), body_lines the number of LFs in the body.
 *
 * LIMITS  MIME_DEPTH_MAX nesting levels: a deeper multipart or message is
 *         an opaque leaf. MIME_PARTS_MAX parts per message: the body parts
 *         after that are not made parts (their bytes stay in the
 *         multipart's body). Content-* fields are read from the first
 *         MIME_HEADER_PARSE_MAX bytes of a part's header;
 *         MIME_PARAMS_MAX parameters per field.
 *
 *   struct mime_msg m;
 *   if (mime_parse(msg, len, &m, &error) < 0) ...
 *   ... m.root ...
 *   mime_free(&m);
 */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stddef.h>

struct str;

#define MIME_DEPTH_MAX 32
#define MIME_PARTS_MAX 10000
#define MIME_HEADER_PARSE_MAX (256 * 1024)
#define MIME_PARAMS_MAX 64
#define MIME_LANGUAGES_MAX 32

#define MIME_PART_MULTIPART 0x01u	/* has body parts as children */
#define MIME_PART_MESSAGE   0x02u	/* has the encapsulated message */
#define MIME_PART_TEXT      0x04u	/* text/... (or the default type) */
#define MIME_PART_IS_MIME   0x08u	/* its Content-* fields count */
#define MIME_PART_OPAQUE    0x10u	/* a limit stopped its parsing */

struct mime_param {
	char *name;	/* as written, "name*" for an RFC 2231 value */
	char *value;	/* unquoted; RFC 2231 sections merged */
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	unsigned nchildren;
	unsigned flags;		/* MIME_PART_* */
	size_t hdr_off, hdr_len;
	size_t body_off, body_len;
	size_t hdr_vsize, body_vsize;	/* CRLF sizes */
	size_t body_lines;
	/* Content-Type: NULL when there is none (or the part is not MIME) */
	char *type, *subtype;
	struct mime_param *params;
	unsigned nparams;
	/* the other Content-* fields, unfolded; NULL when absent */
	char *id, *description, *cte, *md5, *location;
	char *disposition;
	struct mime_param *disp_params;
	unsigned ndisp_params;
	char **language;
	unsigned nlanguage;
};

struct mime_msg {
	struct mime_part *root;
	unsigned nparts;
};

/* Parse msg[0..len). 0 (m->root is set), or -1 with *error_r. */
int mime_parse(const char *msg, size_t len, struct mime_msg *m,
	       const char **error_r);
void mime_free(struct mime_msg *m);

/* The value of the parameter called name (ASCII case-insensitive), or
 * NULL. */
const char *mime_param_get(const struct mime_param *p, unsigned n,
			   const char *name);
/* Append the UTF-8 form of a parameter's value: an RFC 2231 "name*"
 * value decoded from charset'language'%XX, any other value with its
 * RFC 2047 words decoded. 0, or -1 past out's cap. */
int mime_param_decode(const struct mime_param *p, struct str *out);
/* The value of parameter name ("filename", "name", "charset"...) in UTF-8,
 * whether written plain or as "name*": 1 and appended to out, 0 if there
 * is none, -1 past out's cap. */
int mime_param_find_decoded(const struct mime_param *p, unsigned n,
			    const char *name, struct str *out);

/* The CRLF form of p[0..n): every LF not preceded by CR becomes CRLF.
 * mime_crlf_size() counts it. 0, or -1 past out's cap. */
int mime_crlf_append(struct str *out, const char *p, size_t n);
size_t mime_crlf_size(const char *p, size_t n);

/* 1 if the part's type is type/subtype (subtype NULL: any), else 0;
 * a part without Content-Type is text/plain (message/rfc822 in a
 * digest). */
int mime_part_is(const struct mime_part *p, const char *type,
		 const char *subtype);

#endif
