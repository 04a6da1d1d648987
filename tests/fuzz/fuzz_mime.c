/*
 * fuzz_mime - the MIME tree (mime.h) and FETCH body formatting
 *             (imap_fetch_body.h, imap_section.h) of arbitrary input
 *
 * The input is a message. Invariants, abort() otherwise:
 *   - every part's header and body lie inside the message, the body
 *     after the header, children inside their parent's body;
 *   - hdr_vsize/body_vsize are the lengths of the CRLF form, i.e. of
 *     imap_section_get() of HEADER/TEXT (the root) and MIME/ALL (a part);
 *   - the root covers the whole message: hdr_vsize + body_vsize is the
 *     length of BODY[];
 *   - the same message with LF line ends turned into CRLF gives the same
 *     ENVELOPE, BODYSTRUCTURE and sections;
 *   - at most MIME_PARTS_MAX parts, at most MIME_DEPTH_MAX deep.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_mime -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_mime
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/imap_fetch_body.h"
#include "imapd/imap_section.h"
#include "mail/mime.h"
#include "util/str.h"

static void check_part(const struct mime_part *p, size_t lo, size_t hi,
		       unsigned depth, const char *msg, size_t len,
		       const struct mime_msg *m, const struct imap_section *path)
{
	struct str s = STR_INIT(0);
	struct imap_section sec = *path;
	unsigned n = 0;

	if (depth > MIME_DEPTH_MAX + 1 || p->hdr_off < lo ||
	    p->body_off != p->hdr_off + p->hdr_len ||
	    p->body_off + p->body_len > hi || hi > len)
		abort();
	if (mime_crlf_size(msg + p->body_off, p->body_len) != p->body_vsize ||
	    mime_crlf_size(msg + p->hdr_off, p->hdr_len) != p->hdr_vsize)
		abort();
	/* a body part of a multipart: its MIME header and body by number */
	if (p->parent != NULL && (p->parent->flags & MIME_PART_MULTIPART) &&
	    sec.nparts > 0 && sec.nparts <= IMAP_SECTION_PARTS_MAX) {
		sec.kind = IMAP_SECTION_MIME;
		if (imap_section_get(msg, len, m, &sec, &s) != 0 ||
		    s.len != p->hdr_vsize)
			abort();
		str_clear(&s);
		sec.kind = IMAP_SECTION_ALL;
		if (imap_section_get(msg, len, m, &sec, &s) != 0 ||
		    s.len != p->body_vsize)
			abort();
	}
	for (const struct mime_part *c = p->children; c != NULL; c = c->next) {
		struct imap_section child = *path;

		/* a body part gets the next number; the message of a
		 * message/rfc822 part keeps its part's numbers (its body parts
		 * count on from there); past the limit nothing is addressable */
		n++;
		if ((p->flags & MIME_PART_MULTIPART) &&
		    child.nparts < IMAP_SECTION_PARTS_MAX)
			child.part[child.nparts++] = n;
		else if ((p->flags & MIME_PART_MULTIPART) ||
			 p->parent == NULL ||
			 !(p->parent->flags & MIME_PART_MULTIPART))
			/* (a message directly in a message is "1" of it) */
			child.nparts = IMAP_SECTION_PARTS_MAX + 1;
		check_part(c, p->body_off, p->body_off + p->body_len,
			   depth + 1, msg, len, m, &child);
	}
	if (n != p->nchildren)
		abort();
	str_free(&s);
}

static void render(const char *msg, size_t len, struct str *out)
{
	static const char *const secs[] = {
		"", "HEADER", "TEXT", "1", "2", "1.1", "1.MIME", "2.HEADER",
		"2.TEXT", "1.2.3", "HEADER.FIELDS (From Subject)",
		"HEADER.FIELDS.NOT (Content-Type)", "2.1.HEADER.FIELDS (To)"
	};
	struct mime_msg m;
	const char *error;

	if (mime_parse(msg, len, &m, &error) < 0)
		abort();
	if (imap_envelope_write(msg, m.root, out) < 0 ||
	    imap_bodystructure_write(msg, m.root, 1, out) < 0 ||
	    imap_bodystructure_write(msg, m.root, 0, out) < 0)
		abort();
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		struct imap_section sec;
		size_t before = out->len;
		int unknown, r;

		if (imap_section_from_text(secs[i], &sec) < 0)
			abort();
		r = imap_section_get(msg, len, &m, &sec, out);
		if (r < 0 || (r == 1 && out->len != before))
			abort();
		str_appendc(out, '|');
		if (sec.kind == IMAP_SECTION_ALL &&
		    imap_section_binary(msg, len, &m, &sec, out, &unknown) < 0)
			abort();
		str_appendc(out, '|');
	}
	mime_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct mime_msg m;
	struct imap_section top;
	struct str a = STR_INIT(0), b = STR_INIT(0), crlf = STR_INIT(0);
	const char *error;

	if (mime_parse(msg, size, &m, &error) < 0 || m.nparts > MIME_PARTS_MAX)
		abort();
	memset(&top, 0, sizeof(top));
	check_part(m.root, 0, size, 0, msg, size, &m, &top);
	if (m.root->hdr_off != 0 ||
	    m.root->body_off + m.root->body_len != size ||
	    m.root->hdr_vsize + m.root->body_vsize != mime_crlf_size(msg, size))
		abort();
	top.kind = IMAP_SECTION_TEXT;
	if (imap_section_get(msg, size, &m, &top, &a) != 0 ||
	    a.len != m.root->body_vsize)
		abort();
	str_clear(&a);
	top.kind = IMAP_SECTION_HEADER;
	if (imap_section_get(msg, size, &m, &top, &a) != 0 ||
	    a.len != m.root->hdr_vsize)
		abort();
	mime_free(&m);
	str_clear(&a);

	/* LF and CRLF files give the same answers */
	render(msg, size, &a);
	if (mime_crlf_append(&crlf, msg, size) < 0)
		abort();
	render(crlf.s == NULL ? "" : crlf.s, crlf.len, &b);
	if (a.len != b.len || memcmp(a.s, b.s, a.len) != 0) {
		/* a lone CR before LF in the input makes the two differ
		 * (CR CR LF is not CR CRLF's LF form); only compare when the
		 * input has no CR at all */
		if (memchr(msg, '\r', size) == NULL)
			abort();
	}
	str_free(&a);
	str_free(&b);
	str_free(&crlf);
	return 0;
}
