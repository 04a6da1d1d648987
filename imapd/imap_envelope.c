/*
 * imap_envelope - FETCH ENVELOPE, and the IMAP string writers
 *                 (see imap_fetch_body.h)
 */
#include "imapd/imap_fetch_body.h"

#include <string.h>

#include "mail/mail_address.h"
#include "mail/mail_header.h"
#include "mail/mime.h"
#include "util/str.h"

static int imap_literal_write(struct str *out, const char *s, size_t n)
{
	int err = str_appendf(out, "{%zu}\r\n", n);

	for (size_t i = 0; i < n && err == 0; i++)
		err = str_appendc(out, s[i] == '\0' ? (char)0x80 : s[i]);
	return err;
}

int imap_string_write(struct str *out, const char *s, size_t n)
{
	int err;

	/* Dovecot 2.3 sends a literal for any quoted-special too */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\' || ch == '\r' || ch == '\n' ||
		    ch == 0 || ch >= 0x80)
			return imap_literal_write(out, s, n);
	}
	err = str_appendc(out, '"');
	for (size_t i = 0; i < n && err == 0; i++) {
		if (s[i] == '"' || s[i] == '\\')
			err = str_appendc(out, '\\');
		if (err == 0)
			err = str_appendc(out, s[i]);
	}
	return err | str_appendc(out, '"');
}

int imap_nstring_write(struct str *out, const char *s)
{
	if (s == NULL)
		return str_appends(out, "NIL");
	return imap_string_write(out, s, strlen(s));
}

/* The Subject "for humans" (Dovecot's rule): CR and LF dropped, runs of
 * blanks one space, none at either end, NUL as 0x80; as a quoted string
 * when nothing changed, else as a literal. */
static int imap_subject_write(struct str *out, const char *s, size_t n)
{
	struct str t = STR_INIT(0);
	int modify = 0, lwsp = 1, err;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' || ch == '\n') {
			modify = 1;
			continue;
		}
		if (ch == ' ' || ch == '\t') {
			if (lwsp || ch == '\t')
				modify = 1;
			if (!lwsp)
				str_appendc(&t, ' ');
			lwsp = 1;
			continue;
		}
		if (ch == 0 || ch == '"' || ch == '\\' || ch >= 0x80)
			modify = 1;
		str_appendc(&t, ch == 0 ? (char)0x80 : (char)ch);
		lwsp = 0;
	}
	if (t.len > 0 && t.s[t.len - 1] == ' ') {
		str_truncate(&t, t.len - 1);
		modify = 1;
	}
	if (!modify)
		err = str_appendc(out, '"') | str_append(out, s, n) |
		      str_appendc(out, '"');
	else if (t.len == 0)
		err = str_appends(out, "\"\"");
	else
		err = str_appendf(out, "{%zu}\r\n", t.len) |
		      str_append(out, t.s, t.len);
	str_free(&t);
	return err;
}

static int imap_address_write(struct str *out, const char *v, size_t n)
{
	struct str u = STR_INIT(0);
	struct mail_address_list l;
	int err = 0;

	mail_header_unfold(v, n, &u);
	mail_address_parse(str_c(&u), u.len, &l);
	str_free(&u);
	if (l.n == 0)
		err = str_appends(out, "NIL");
	else {
		err = str_appendc(out, '(');
		for (size_t i = 0; i < l.n; i++) {
			const struct mail_address *a = &l.a[i];

			err |= str_appendc(out, '(');
			err |= imap_nstring_write(out, a->name);
			err |= str_appendc(out, ' ');
			err |= imap_nstring_write(out, a->route);
			err |= str_appendc(out, ' ');
			err |= imap_nstring_write(out, a->mailbox);
			err |= str_appendc(out, ' ');
			err |= imap_nstring_write(out, a->domain);
			err |= str_appendc(out, ')');
		}
		err |= str_appendc(out, ')');
	}
	mail_address_list_free(&l);
	return err;
}

/* 1 if the address field v[0..n) holds no address. */
static int imap_address_empty(const char *v, size_t n)
{
	struct mail_address_list l;
	size_t count;

	mail_address_parse(v, n, &l);
	count = l.n;
	mail_address_list_free(&l);
	return count == 0;
}

/* A string field, unfolded; NIL when absent. */
static int imap_field_write(struct str *out, const struct mail_header_field *f)
{
	struct str u = STR_INIT(0);
	int err;

	if (f == NULL)
		return str_appends(out, "NIL");
	mail_header_unfold(f->value, f->value_len, &u);
	err = imap_string_write(out, str_c(&u), u.len);
	str_free(&u);
	return err;
}

enum env_field {
	ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO,
	ENV_CC, ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_COUNT
};

static const char *const env_names[ENV_COUNT] = {
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"In-Reply-To", "Message-ID"
};

int imap_envelope_write(const char *msg, const struct mime_part *p,
			struct str *out)
{
	struct mail_header_field f[ENV_COUNT], cur;
	int have[ENV_COUNT] = { 0 }, err = 0;
	struct mail_header_iter it;

	mail_header_iter_init(&it, msg + p->hdr_off, p->hdr_len);
	while (mail_header_iter_next(&it, &cur))
		for (int i = 0; i < ENV_COUNT; i++)
			if (mail_header_name_is(&cur, env_names[i])) {
				f[i] = cur;	/* the last one counts */
				have[i] = 1;
			}
	err |= str_appendc(out, '(');
	err |= imap_field_write(out, have[ENV_DATE] ? &f[ENV_DATE] : NULL);
	err |= str_appendc(out, ' ');
	if (have[ENV_SUBJECT])
		err |= imap_subject_write(out, f[ENV_SUBJECT].value,
					  f[ENV_SUBJECT].value_len);
	else
		err |= str_appends(out, "NIL");
	for (int i = ENV_FROM; i <= ENV_BCC; i++) {
		int src = i;

		if ((i == ENV_SENDER || i == ENV_REPLY_TO) &&
		    (!have[i] || imap_address_empty(f[i].value,
						    f[i].value_len)))
			src = ENV_FROM;
		err |= str_appendc(out, ' ');
		if (have[src])
			err |= imap_address_write(out, f[src].value,
						  f[src].value_len);
		else
			err |= str_appends(out, "NIL");
	}
	for (int i = ENV_IN_REPLY_TO; i <= ENV_MESSAGE_ID; i++) {
		err |= str_appendc(out, ' ');
		err |= imap_field_write(out, have[i] ? &f[i] : NULL);
	}
	err |= str_appendc(out, ')');
	return err ? -1 : 0;
}
