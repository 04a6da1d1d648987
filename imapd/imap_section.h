/*
 * imap_section - the bytes of BODY[section] and BINARY[section]
 *                (RFC 3501 6.4.5, RFC 9051 6.4.5, RFC 3516)
 *
 * INPUT   the message bytes, its MIME tree (common/mail/mime.h) and a
 *         section already parsed from the FETCH arguments (imap_parse).
 *
 * PARTS   As Dovecot 2.3 resolves them: each number picks a body part of
 *         the current multipart; when more numbers follow a message/rfc822
 *         part, they count inside the encapsulated message; a body part
 *         without body parts accepts "1" for itself ("3.1" is "3"), and a
 *         single-part message's "1" is its body but takes no more numbers
 *         ("1.1" does not exist). HEADER, HEADER.FIELDS(.NOT) and TEXT
 *         exist for the message and for message/rfc822 parts (those of the
 *         encapsulated message), not for other parts. MIME is the part's
 *         own header ("1.MIME" of a single-part message: its header).
 *
 * OUTPUT  the CRLF form of those bytes (a bare LF becomes CRLF), appended.
 *         HEADER.FIELDS(.NOT) gives the fields in message order, each with
 *         its continuation lines, then the empty line "\r\n" (always;
 *         Dovecot leaves it out in one corner: a header without an empty
 *         line of which no field is left).
 *         BINARY decodes base64 and quoted-printable (hard line breaks as
 *         CRLF); 7bit, 8bit and binary bodies are passed in CRLF form.
 *
 * RETURNS 0 done; 1 the section does not exist (out unchanged; the
 *         caller sends ""); -1 out's cap was reached (errno EMSGSIZE).
 */
#ifndef POSTERN_IMAP_SECTION_H
#define POSTERN_IMAP_SECTION_H

#include <stddef.h>
#include <stdint.h>

struct str;
struct mime_msg;

#define IMAP_SECTION_PARTS_MAX 32
#define IMAP_SECTION_FIELDS_MAX 64

struct imap_section {
	uint32_t part[IMAP_SECTION_PARTS_MAX];
	unsigned nparts;
	enum imap_section_kind {
		IMAP_SECTION_ALL,
		IMAP_SECTION_HEADER,
		IMAP_SECTION_HEADER_FIELDS,
		IMAP_SECTION_HEADER_FIELDS_NOT,
		IMAP_SECTION_TEXT,
		IMAP_SECTION_MIME
	} kind;
	const char *field[IMAP_SECTION_FIELDS_MAX];
	size_t field_len[IMAP_SECTION_FIELDS_MAX];
	unsigned nfields;
};

int imap_section_get(const char *msg, size_t len, const struct mime_msg *m,
		     const struct imap_section *sec, struct str *out);

/* BINARY[section]: the part's content with its Content-Transfer-Encoding
 * undone. An encoding other than 7bit, 8bit, binary, base64 and
 * quoted-printable sets *unknown_cte_r (and appends nothing): the caller
 * answers NO [UNKNOWN-CTE]. Only IMAP_SECTION_ALL exists for BINARY.
 * Returns as imap_section_get(). */
int imap_section_binary(const char *msg, size_t len, const struct mime_msg *m,
			const struct imap_section *sec, struct str *out,
			int *unknown_cte_r);

/* For tests: parse "1.2.HEADER.FIELDS (A B)" (the text between the
 * brackets) into sec; field names point into s. 0, or -1 if malformed. */
int imap_section_from_text(const char *s, struct imap_section *sec);

#endif
