/*
 * imap_section - BODY[section] and BINARY[section] (see imap_section.h)
 */
#include "imapd/imap_section.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "mail/mail_header.h"
#include "mail/mime.h"
#include "util/str.h"

/* The part the numbers of sec name, or NULL, resolved as Dovecot 2.3 does
 * (and imaptest's fetch-body-message-rfc822* scripts check): a number
 * picks a body part of a multipart; a part without body parts accepts
 * "1" for itself ("3.1" is "3"); more numbers after a message/rfc822 part
 * (a body part, or the message itself when its whole body is one) count
 * inside the encapsulated message; but a single-part message that is not
 * message/rfc822 takes no more numbers after its "1" ("1.1" is nothing). */
static const struct mime_part *section_part(const struct mime_msg *m,
					    const struct imap_section *sec)
{
	const struct mime_part *p = m->root;

	for (unsigned i = 0; i < sec->nparts && p != NULL; i++) {
		uint32_t num = sec->part[i];
		int more = i + 1 < sec->nparts;

		if (num == 0)
			return NULL;
		if (p->flags & MIME_PART_MULTIPART) {
			p = p->children;
			for (uint32_t k = 1; k < num && p != NULL; k++)
				p = p->next;
		} else if (num != 1) {
			return NULL;
		}
		if (p == NULL || !more)
			continue;
		if ((p->flags & MIME_PART_MESSAGE) && p->children != NULL)
			p = p->children;	/* count inside the message */
		else if (p == m->root)
			return NULL;
	}
	return p;
}

static int field_wanted(const struct imap_section *sec,
			const struct mail_header_field *f)
{
	for (unsigned i = 0; i < sec->nfields; i++)
		if (sec->field_len[i] == f->name_len &&
		    strncasecmp(sec->field[i], f->name, f->name_len) == 0)
			return 1;
	return 0;
}

static int header_fields_get(const char *hdr, size_t len,
			     const struct imap_section *sec, struct str *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	int want_match = sec->kind == IMAP_SECTION_HEADER_FIELDS;

	mail_header_iter_init(&it, hdr, len);
	while (mail_header_iter_next(&it, &f)) {
		if (field_wanted(sec, &f) != want_match)
			continue;
		if (mime_crlf_append(out, f.field, f.field_len) < 0)
			return -1;
		if (f.field[f.field_len - 1] != '\n' &&
		    str_append(out, "\r\n", 2) < 0)
			return -1;
	}
	return str_append(out, "\r\n", 2);
}

int imap_section_get(const char *msg, size_t len, const struct mime_msg *m,
		     const struct imap_section *sec, struct str *out)
{
	const struct mime_part *p;
	size_t old = out->len;
	int r;

	if (sec->nparts == 0) {
		p = m->root;
		if (sec->kind == IMAP_SECTION_MIME)
			return 1;
		if (sec->kind == IMAP_SECTION_ALL) {
			if (mime_crlf_append(out, msg, len) == 0)
				return 0;
			str_truncate(out, old);
			errno = EMSGSIZE;
			return -1;
		}
	} else {
		p = section_part(m, sec);
		if (p == NULL)
			return 1;
		if (sec->kind != IMAP_SECTION_ALL &&
		    sec->kind != IMAP_SECTION_MIME) {
			/* HEADER, TEXT: only of a message/rfc822 part */
			if (!(p->flags & MIME_PART_MESSAGE) ||
			    p->children == NULL)
				return 1;
			p = p->children;
		}
	}
	switch (sec->kind) {
	case IMAP_SECTION_ALL:
	case IMAP_SECTION_TEXT:
		r = mime_crlf_append(out, msg + p->body_off, p->body_len);
		break;
	case IMAP_SECTION_HEADER:
	case IMAP_SECTION_MIME:
		r = mime_crlf_append(out, msg + p->hdr_off, p->hdr_len);
		break;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		r = header_fields_get(msg + p->hdr_off, p->hdr_len, sec, out);
		break;
	default:
		return 1;
	}
	if (r < 0) {
		str_truncate(out, old);
		errno = EMSGSIZE;
	}
	return r;
}

/* ---- BINARY -------------------------------------------------------------- */

static int b64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Lenient base64: bytes outside the alphabet are skipped, '=' ends. */
static int base64_body_decode(const char *s, size_t n, struct str *out)
{
	unsigned acc = 0, bits = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0)
			continue;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (str_appendc(out, (char)(acc >> bits & 0xff)) < 0)
				return -1;
		}
	}
	return 0;
}

/* One line of quoted-printable, without its line end (RFC 2045 6.7):
 * blanks at its end are dropped; a final '=' is a soft line break. */
static int qp_line_decode(const char *s, size_t n, int has_eol,
			  struct str *out)
{
	int soft = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n > 0 && s[n - 1] == '=') {
		soft = 1;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		int h, l;
		char ch = s[i];

		if (ch == '=' && i + 2 < n &&
		    (h = hex_digit_value((unsigned char)s[i + 1])) >= 0 &&
		    (l = hex_digit_value((unsigned char)s[i + 2])) >= 0) {
			ch = (char)(h * 16 + l);
			i += 2;
		}
		if (str_appendc(out, ch) < 0)
			return -1;
	}
	if (has_eol && !soft)
		return str_append(out, "\r\n", 2);
	return 0;
}

static int qp_body_decode(const char *s, size_t n, struct str *out)
{
	size_t i = 0;

	while (i < n) {
		const char *lf = memchr(s + i, '\n', n - i);
		size_t end = lf == NULL ? n : (size_t)(lf - s);
		size_t e = end;

		if (lf != NULL && e > i && s[e - 1] == '\r')
			e--;
		if (qp_line_decode(s + i, e - i, lf != NULL, out) < 0)
			return -1;
		i = lf == NULL ? n : end + 1;
	}
	return 0;
}

int imap_section_binary(const char *msg, size_t len, const struct mime_msg *m,
			const struct imap_section *sec, struct str *out,
			int *unknown_cte_r)
{
	const struct mime_part *p;
	const char *cte;
	size_t old = out->len;
	int r;

	*unknown_cte_r = 0;
	if (sec->kind != IMAP_SECTION_ALL)
		return 1;
	if (sec->nparts == 0)
		return imap_section_get(msg, len, m, sec, out);
	if ((p = section_part(m, sec)) == NULL)
		return 1;
	cte = p->cte;
	if (cte != NULL && strcasecmp(cte, "binary") == 0)
		/* binary content has no lines: its bytes as they are
		 * (RFC 3516; imaptest's append-binary) */
		r = str_append(out, msg + p->body_off, p->body_len);
	else if (cte == NULL || strcasecmp(cte, "7bit") == 0 ||
		 strcasecmp(cte, "8bit") == 0)
		r = mime_crlf_append(out, msg + p->body_off, p->body_len);
	else if (strcasecmp(cte, "base64") == 0)
		r = base64_body_decode(msg + p->body_off, p->body_len, out);
	else if (strcasecmp(cte, "quoted-printable") == 0)
		r = qp_body_decode(msg + p->body_off, p->body_len, out);
	else {
		*unknown_cte_r = 1;
		return 0;
	}
	if (r < 0) {
		str_truncate(out, old);
		errno = EMSGSIZE;
	}
	return r;
}

/* ---- a section from its text, for tests ---------------------------------- */

static int fields_from_text(const char *s, struct imap_section *sec)
{
	while (*s == ' ')
		s++;
	if (*s++ != '(')
		return -1;
	for (;;) {
		size_t n = 0;

		while (*s == ' ')
			s++;
		if (*s == ')')
			return s[1] == '\0' ? 0 : -1;
		while (s[n] != '\0' && s[n] != ' ' && s[n] != ')')
			n++;
		if (n == 0 || sec->nfields >= IMAP_SECTION_FIELDS_MAX)
			return -1;
		sec->field[sec->nfields] = s;
		sec->field_len[sec->nfields++] = n;
		s += n;
	}
}

int imap_section_from_text(const char *s, struct imap_section *sec)
{
	memset(sec, 0, sizeof(*sec));
	while (*s >= '0' && *s <= '9') {
		uint32_t v = 0;

		while (*s >= '0' && *s <= '9')
			v = v * 10 + (uint32_t)(*s++ - '0');
		if (sec->nparts >= IMAP_SECTION_PARTS_MAX)
			return -1;
		sec->part[sec->nparts++] = v;
		if (*s == '\0')
			return 0;
		if (*s++ != '.')
			return -1;
	}
	if (*s == '\0')
		return sec->nparts == 0 ? 0 : -1;
	if (strcasecmp(s, "HEADER") == 0)
		sec->kind = IMAP_SECTION_HEADER;
	else if (strcasecmp(s, "TEXT") == 0)
		sec->kind = IMAP_SECTION_TEXT;
	else if (strcasecmp(s, "MIME") == 0)
		sec->kind = IMAP_SECTION_MIME;
	else if (strncasecmp(s, "HEADER.FIELDS.NOT", 17) == 0) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
		return fields_from_text(s + 17, sec);
	} else if (strncasecmp(s, "HEADER.FIELDS", 13) == 0) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS;
		return fields_from_text(s + 13, sec);
	} else
		return -1;
	return 0;
}
