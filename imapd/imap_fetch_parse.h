/*
 * imap_fetch_parse - the arguments of FETCH and UID FETCH after the
 * sequence set (RFC 3501/9051 6.4.5, RFC 3516 BINARY, RFC 7162
 * CONDSTORE/QRESYNC)
 *
 * GRAMMAR
 *   fetch-args = ("ALL" / "FULL" / "FAST" / fetch-att /
 *                 "(" fetch-att *(SP fetch-att) ")") [SP modifiers]
 *   fetch-att  = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" /
 *                "RFC822.HEADER" / "RFC822.SIZE" / "RFC822.TEXT" /
 *                "BODY" / "BODYSTRUCTURE" / "UID" / "MODSEQ" /
 *                "BODY" [".PEEK"] "[" [section] "]" [partial] /
 *                "BINARY" [".PEEK"] "[" [section-part] "]" [partial] /
 *                "BINARY.SIZE" "[" [section-part] "]"
 *   section    = section-part ["." section-text] / section-msgtext
 *   section-part = nz-number *("." nz-number)
 *   section-text = section-msgtext / "MIME"        (MIME needs a part)
 *   section-msgtext = "HEADER" / "TEXT" /
 *                "HEADER.FIELDS" [".NOT"] SP "(" astring *(SP astring) ")"
 *   partial    = "<" number "." nz-number ">"       (32-bit numbers)
 *   modifiers  = "(" modifier *(SP modifier) ")"
 *   modifier   = "CHANGEDSINCE" SP mod-sequence-value / "VANISHED"
 *
 * Names are case-insensitive. The macros stand alone (not in a list).
 * The reader (imap_parse.h) delivers each BODY[...]... as one atom; the
 * field names inside may be quoted (no escapes: a field name has no
 * DQUOTE or backslash) and must be RFC 5322 field names.
 *
 * ECHO. Each body item keeps the name its response must carry: ".PEEK"
 * dropped, the section text as the client wrote it, and of a partial only
 * the origin: BODY.PEEK[HEADER.FIELDS (From To)]<0.100> is answered as
 * BODY[HEADER.FIELDS (From To)]<0>. RFC822, RFC822.HEADER and RFC822.TEXT
 * keep their own names.
 *
 * IMPLIED. UID FETCH always returns UID; CHANGEDSINCE implies MODSEQ
 * (RFC 7162 3.1.4.1); VANISHED needs UID FETCH and CHANGEDSINCE (RFC 7162
 * 3.2.6), BAD otherwise. `seen` is set when an item marks the message
 * \Seen (BODY[...] and BINARY[...] without .PEEK, RFC822, RFC822.TEXT).
 *
 * LIMITS  IMAP_FETCH_BODY_MAX body items; a section's limits are those of
 * struct imap_section (imap_section.h). Field names point into the
 * command's arguments (valid while they are).
 */
#ifndef POSTERN_IMAP_FETCH_PARSE_H
#define POSTERN_IMAP_FETCH_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "imapd/imap_parse.h"
#include "imapd/imap_section.h"

#define IMAP_FETCH_BODY_MAX 64

enum imap_fetch_att {
	IMAP_FETCH_FLAGS = 1 << 0,
	IMAP_FETCH_INTERNALDATE = 1 << 1,
	IMAP_FETCH_RFC822_SIZE = 1 << 2,
	IMAP_FETCH_ENVELOPE = 1 << 3,
	IMAP_FETCH_BODY = 1 << 4,		/* BODY without section */
	IMAP_FETCH_BODYSTRUCTURE = 1 << 5,
	IMAP_FETCH_UID = 1 << 6,
	IMAP_FETCH_MODSEQ = 1 << 7,
};

enum imap_fetch_body_type {
	IMAP_FETCH_BODY_SECTION,	/* BODY[...], RFC822* */
	IMAP_FETCH_BINARY,		/* BINARY[...] */
	IMAP_FETCH_BINARY_SIZE,		/* BINARY.SIZE[...] */
};

struct imap_fetch_body {
	enum imap_fetch_body_type type;
	int peek;
	struct imap_section section;
	int partial;
	uint32_t partial_offset, partial_length;
	char *name;		/* the response's item name (ECHO) */
};

struct imap_fetch_items {
	unsigned atts;		/* enum imap_fetch_att bits */
	struct imap_fetch_body *body;	/* nbody items, allocated */
	unsigned nbody, body_cap;
	int seen;		/* some item sets \Seen */
	int changedsince_set;
	uint64_t changedsince;
	int vanished;
};

/* Parse args[0..nargs) (the arguments after the sequence set) into items.
 * uid: UID FETCH. 0, or -1 with *error_r (answer BAD). Free with
 * imap_fetch_items_free() either way. */
int imap_fetch_parse(const struct imap_arg *args, unsigned nargs, int uid,
		     struct imap_fetch_items *items, const char **error_r);
void imap_fetch_items_free(struct imap_fetch_items *items);

/* The text between "[" and "]" into sec (BINARY: part numbers only).
 * Field names point into s. 0, or -1 with *error_r. */
int imap_fetch_section_parse(const char *s, size_t len, int binary,
			     struct imap_section *sec, const char **error_r);

#endif
