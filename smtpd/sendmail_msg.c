/*
 * sendmail_msg - the message text sendmail(1) reads (see sendmail_msg.h)
 */
#include "sendmail_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/mail_date.h"
#include "util/alloc.h"
#include "util/base64.h"

/* ---- line ends and the lone dot ---------------------------------------- */

void sendmail_input_init(struct sendmail_input *in, int dot_ends)
{
	memset(in, 0, sizeof(*in));
	in->dot_ends = dot_ends;
	in->bol = 1;
	in->last = '\n';
}

static int input_put(struct sendmail_input *in, struct str *out, char c)
{
	if (str_appendc(out, c) < 0)
		return -1;
	in->last = c;
	in->started = 1;
	in->bol = c == '\n';
	return 0;
}

/* One byte that may be special: CR, LF, a dot at the start of a line, or
 * the byte after a CR or after such a dot. */
static int input_byte(struct sendmail_input *in, char c, struct str *out)
{
	if (in->skip_lf) {
		in->skip_lf = 0;
		if (c == '\n')
			return 0;
	}
	if (in->dot) {
		in->dot = 0;
		if (c == '\n' || c == '\r') {
			in->done = 1;
			return 0;
		}
		if (input_put(in, out, '.') < 0)
			return -1;
	}
	if (c == '\r') {
		c = '\n';
		in->skip_lf = 1;
	}
	if (in->bol && in->dot_ends && c == '.') {
		in->dot = 1;
		in->bol = 0;
		return 0;
	}
	return input_put(in, out, c);
}

/* Length of the run of ordinary bytes at p that can be copied as is. */
static size_t input_run(const struct sendmail_input *in, const char *p,
			size_t n)
{
	size_t i = 0;

	if (in->bol || in->dot || in->skip_lf)
		return 0;
	while (i < n && p[i] != '\n' && p[i] != '\r')
		i++;
	return i;
}

int sendmail_input_feed(struct sendmail_input *in, const char *p, size_t n,
			struct str *out)
{
	size_t i = 0;

	while (i < n && !in->done) {
		size_t run = input_run(in, p + i, n - i);

		if (run > 0) {
			if (str_append(out, p + i, run) < 0)
				return -1;
			in->last = p[i + run - 1];
			in->started = 1;
			i += run;
			continue;
		}
		if (input_byte(in, p[i++], out) < 0)
			return -1;
	}
	return in->done;
}

int sendmail_input_finish(struct sendmail_input *in, struct str *out)
{
	if (in->done)
		return 0;
	if (in->dot) {
		in->dot = 0;
		in->done = 1;
		return 0;
	}
	in->done = 1;
	if (in->started && in->last != '\n')
		return input_put(in, out, '\n');
	return 0;
}

/* ---- the header section ------------------------------------------------- */

/* 1 if p[0..n) starts a header field "Name:", 0 if it cannot, -1 if
 * undecided (only name characters so far, no colon yet). */
static int field_start(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ':')
			return i > 0;
		if (c < 33 || c > 126)
			return 0;
	}
	return -1;
}

/* Bytes of a leading mbox "From " line: 0 if none, -1 if undecided. */
static long split_from_line(const char *p, size_t len, int at_eof)
{
	const char *lf;

	if (len < 5)
		return !at_eof && memcmp(p, "From ", len) == 0 ? -1 : 0;
	if (memcmp(p, "From ", 5) != 0)
		return 0;
	lf = memchr(p, '\n', len);
	if (lf == NULL)
		return at_eof ? (long)len : -1;
	return (long)(lf - p) + 1;
}

static int split_done(struct sendmail_split *s, size_t end, int blank)
{
	s->header_len = end - s->skip;
	s->blank = blank;
	return 1;
}

int sendmail_msg_split(const char *p, size_t len, int at_eof,
		       struct sendmail_split *split_r)
{
	long skip = split_from_line(p, len, at_eof);
	size_t pos;

	memset(split_r, 0, sizeof(*split_r));
	if (skip < 0)
		return 0;
	split_r->skip = (size_t)skip;
	for (pos = split_r->skip; pos < len;) {
		const char *lf = memchr(p + pos, '\n', len - pos);
		size_t n = (lf != NULL ? (size_t)(lf - p) : len) - pos;
		int cont = (p[pos] == ' ' || p[pos] == '\t') &&
			   pos > split_r->skip;
		int field = cont ? 1 : field_start(p + pos, n);

		if (lf != NULL && n == 0)
			return split_done(split_r, pos, 1);
		if (lf == NULL && !at_eof)
			return field == 0 ? split_done(split_r, pos, 0) : 0;
		if (field != 1)
			return split_done(split_r, pos, 0);
		pos += n + (lf != NULL);
	}
	return at_eof ? split_done(split_r, len, 0) : 0;
}

/* ---- address lists (To:, Cc:, Bcc:) -------------------------------------- */

struct alist {
	struct sendmail_hdrs *h;
	struct str plain;	/* element text outside <> and comments */
	struct str angle;	/* text inside <> */
	int plain_long;		/* plain grew past SENDMAIL_ADDR_MAX */
	int in_angle, had_angle, after_angle, in_group;
};

static int alist_fail(struct alist *a, const char *what)
{
	snprintf(a->h->error, sizeof(a->h->error), "%s", what);
	return -1;
}

static int hdrs_add_rcpt(struct sendmail_hdrs *h, const char *s, size_t n)
{
	if (h->nrcpts >= SENDMAIL_HDR_RCPT_MAX) {
		snprintf(h->error, sizeof(h->error), "more than %d recipients"
			 " in the header", SENDMAIL_HDR_RCPT_MAX);
		return -1;
	}
	if (h->nrcpts == h->alloc) {
		h->alloc = h->alloc ? 2 * h->alloc : 8;
		h->rcpts = xreallocarray(h->rcpts, h->alloc, sizeof(char *));
	}
	h->rcpts[h->nrcpts++] = xstrndup(s, n);
	return 0;
}

static int alist_put(struct alist *a, const char *s, size_t n)
{
	struct str *to = a->in_angle ? &a->angle : &a->plain;

	if (a->after_angle)
		return alist_fail(a, "text after a <address>");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return alist_fail(a, "control character in an "
					  "address");
	if (to->len + n > SENDMAIL_ADDR_MAX) {
		if (a->in_angle)
			return alist_fail(a, "address too long");
		a->plain_long = 1;
		return 0;
	}
	str_append(to, s, n);
	return 0;
}

/* The element so far is complete (at ',', ';' or the end). */
static int alist_element(struct alist *a)
{
	const struct str *addr = a->had_angle ? &a->angle : &a->plain;
	int r = 0;

	if (a->plain_long && !a->had_angle)
		return alist_fail(a, "address too long");
	if (addr->len > 0)
		r = hdrs_add_rcpt(a->h, addr->s, addr->len);
	str_clear(&a->plain);
	str_clear(&a->angle);
	a->plain_long = a->had_angle = a->after_angle = 0;
	return r;
}

/* A "quoted string" at p[*i], kept whole with its quotes and
 * backslashes; folding line ends inside it are dropped. */
static int alist_quoted(struct alist *a, const char *p, size_t len,
			size_t *i)
{
	size_t k = *i + 1;

	if (alist_put(a, "\"", 1) < 0)
		return -1;
	for (; k < len && p[k] != '"'; k++) {
		if (p[k] == '\n' || p[k] == '\r')
			continue;
		if (p[k] == '\\' && k + 1 < len) {
			if (alist_put(a, p + k, 1) < 0)
				return -1;
			k++;
		}
		if (alist_put(a, p + k, 1) < 0)
			return -1;
	}
	if (k >= len)
		return alist_fail(a, "unterminated quoted string");
	*i = k + 1;
	return alist_put(a, "\"", 1);
}

/* A (comment) at p[*i], nested, skipped. */
static int alist_comment(struct alist *a, const char *p, size_t len,
			 size_t *i)
{
	unsigned depth = 0;
	size_t k;

	for (k = *i; k < len; k++) {
		if (p[k] == '\\') {
			k++;
		} else if (p[k] == '(') {
			if (++depth > SENDMAIL_COMMENT_DEPTH)
				return alist_fail(a, "comments nested too "
						  "deeply");
		} else if (p[k] == ')' && --depth == 0) {
			*i = k + 1;
			return 0;
		}
	}
	return alist_fail(a, "unterminated comment");
}

/* A [domain literal] at p[*i], kept whole without blanks. */
static int alist_literal(struct alist *a, const char *p, size_t len,
			 size_t *i)
{
	size_t k;

	for (k = *i; k < len; k++) {
		if (p[k] == ' ' || p[k] == '\t' || p[k] == '\n' ||
		    p[k] == '\r')
			continue;
		if (p[k] == '\\' && k + 1 < len) {
			if (alist_put(a, p + k, 2) < 0)
				return -1;
			k++;
			continue;
		}
		if (alist_put(a, p + k, 1) < 0)
			return -1;
		if (p[k] == ']') {
			*i = k + 1;
			return 0;
		}
	}
	return alist_fail(a, "unterminated domain literal");
}

/* A structural character outside quotes, comments and literals. */
static int alist_special(struct alist *a, char c)
{
	int r;

	if (a->in_angle) {
		if (c == '>') {
			a->in_angle = 0;
			a->after_angle = 1;
			return 0;
		}
		return c == '<' ? alist_fail(a, "'<' inside <address>")
				: alist_put(a, &c, 1);
	}
	switch (c) {
	case '<':
		if (a->had_angle)
			return alist_fail(a, "two <addresses> in one element");
		a->in_angle = a->had_angle = 1;
		return 0;
	case '>':
		return alist_fail(a, "'>' without '<'");
	case ',':
		return alist_element(a);
	case ':':
		if (a->in_group)
			return alist_fail(a, "a group inside a group");
		if (a->had_angle)
			return alist_fail(a, "text after a <address>");
		a->in_group = 1;
		str_clear(&a->plain);
		a->plain_long = 0;
		return 0;
	case ';':
		r = alist_element(a);
		a->in_group = 0;
		return r;
	}
	return alist_put(a, &c, 1);
}

static int alist_step(struct alist *a, const char *p, size_t len, size_t *i)
{
	char c = p[*i];

	switch (c) {
	case '"':
		return alist_quoted(a, p, len, i);
	case '(':
		return alist_comment(a, p, len, i);
	case '[':
		return alist_literal(a, p, len, i);
	case ' ': case '\t': case '\n': case '\r':
		(*i)++;
		return 0;
	}
	(*i)++;
	return alist_special(a, c);
}

int sendmail_addr_list(struct sendmail_hdrs *h, const char *p, size_t len)
{
	struct alist a;
	size_t i = 0;
	int r = 0;

	memset(&a, 0, sizeof(a));
	a.h = h;
	str_init(&a.plain, 0);
	str_init(&a.angle, 0);
	while (r == 0 && i < len)
		r = alist_step(&a, p, len, &i);
	if (r == 0 && a.in_angle)
		r = alist_fail(&a, "missing '>'");
	if (r == 0)
		r = alist_element(&a);
	str_free(&a.plain);
	str_free(&a.angle);
	return r;
}

/* ---- header fields ------------------------------------------------------- */

void sendmail_hdrs_init(struct sendmail_hdrs *h)
{
	memset(h, 0, sizeof(*h));
	str_init(&h->text, 0);
}

void sendmail_hdrs_free(struct sendmail_hdrs *h)
{
	for (size_t i = 0; i < h->nrcpts; i++)
		free(h->rcpts[i]);
	free(h->rcpts);
	str_free(&h->text);
	memset(h, 0, sizeof(*h));
}

static int name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* The end of the field starting at p[pos]: its continuation lines and the
 * LF of its last line included. */
static size_t field_end(const char *p, size_t len, size_t pos)
{
	for (;;) {
		const char *lf = memchr(p + pos, '\n', len - pos);

		if (lf == NULL)
			return len;
		pos = (size_t)(lf - p) + 1;
		if (pos >= len || (p[pos] != ' ' && p[pos] != '\t'))
			return pos;
	}
}

static unsigned field_flag(const char *name, size_t n)
{
	if (name_is(name, n, "Date"))
		return SENDMAIL_HAS_DATE;
	if (name_is(name, n, "From"))
		return SENDMAIL_HAS_FROM;
	if (name_is(name, n, "Message-ID"))
		return SENDMAIL_HAS_MESSAGE_ID;
	if (name_is(name, n, "Sender"))
		return SENDMAIL_HAS_SENDER;
	return 0;
}

static int field_fail(struct sendmail_hdrs *h, const char *name, size_t n)
{
	char why[sizeof(h->error)];

	memcpy(why, h->error, sizeof(why));
	snprintf(h->error, sizeof(h->error), "malformed %.*s: header: %.130s",
		 (int)(n > 40 ? 40 : n), name, why);
	return -1;
}

static int hdrs_field(struct sendmail_hdrs *h, const char *f, size_t n,
		      int extract)
{
	const char *colon = memchr(f, ':', n);
	size_t nl = colon != NULL ? (size_t)(colon - f) : 0;
	int bcc;

	if (colon == NULL || field_start(f, n) != 1) {
		snprintf(h->error, sizeof(h->error), "a header line is not "
			 "a field (Name: value)");
		return -1;
	}
	h->seen |= field_flag(f, nl);
	bcc = name_is(f, nl, "Bcc");
	if (extract && (bcc || name_is(f, nl, "To") || name_is(f, nl, "Cc")) &&
	    sendmail_addr_list(h, colon + 1, n - nl - 1) < 0)
		return field_fail(h, f, nl);
	if (bcc)
		return 0;
	str_append(&h->text, f, n);
	if (f[n - 1] != '\n')
		str_appendc(&h->text, '\n');
	return 0;
}

int sendmail_hdrs_parse(struct sendmail_hdrs *h, const char *p, size_t len,
			int extract, const char **error_r)
{
	size_t pos = 0;

	while (pos < len) {
		size_t end = field_end(p, len, pos);

		if (hdrs_field(h, p + pos, end - pos, extract) < 0) {
			*error_r = h->error;
			return -1;
		}
		pos = end;
	}
	return 0;
}

/* ---- headers sendmail adds ----------------------------------------------- */

int sendmail_msg_date(struct str *out, time_t t)
{
	if (str_appends(out, "Date: ") < 0 ||
	    mail_date(out, t, MAIL_DATE_LOCAL) < 0)
		return -1;
	return str_appendc(out, '\n');
}

#define FROM_NAME_MAX 256

/* name without control characters and outer blanks, at most
 * FROM_NAME_MAX bytes, not cut inside a UTF-8 sequence. */
static void from_clean(struct str *out, const char *name)
{
	size_t n = strlen(name), start = 0;

	while (n > 0 && (unsigned char)name[n - 1] <= ' ')
		n--;
	while (start < n && (unsigned char)name[start] <= ' ')
		start++;
	if (n - start > FROM_NAME_MAX) {
		n = start + FROM_NAME_MAX;
		while (n > start && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = start; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		str_appendc(out, c < ' ' || c == 0x7f ? ' ' : (char)c);
	}
}

static int from_is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == ' ' ||
	       strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 2047 encoded words of at most 45 bytes of text each (75 chars). */
static void from_encoded(struct str *out, const char *s, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		size_t k = n - pos > 45 ? 45 : n - pos;

		while (pos + k < n && k > 1 &&
		       ((unsigned char)s[pos + k] & 0xc0) == 0x80)
			k--;
		str_appends(out, pos > 0 ? " =?UTF-8?B?" : "=?UTF-8?B?");
		base64_encode(out, s + pos, k);
		str_appends(out, "?=");
		pos += k;
	}
}

static void from_name(struct str *out, const struct str *name)
{
	int atoms = 1, ascii = 1;

	for (size_t i = 0; i < name->len; i++) {
		unsigned char c = (unsigned char)name->s[i];

		atoms &= from_is_atext(c);
		ascii &= c < 0x80;
	}
	if (!ascii) {
		from_encoded(out, name->s, name->len);
		return;
	}
	if (atoms) {
		str_append(out, name->s, name->len);
		return;
	}
	str_appendc(out, '"');
	for (size_t i = 0; i < name->len; i++) {
		if (name->s[i] == '"' || name->s[i] == '\\')
			str_appendc(out, '\\');
		str_appendc(out, name->s[i]);
	}
	str_appendc(out, '"');
}

int sendmail_msg_from(struct str *out, const char *name, const char *addr)
{
	struct str clean = STR_INIT(0);
	struct str line = STR_INIT(0);
	int r;

	from_clean(&clean, name != NULL ? name : "");
	str_appends(&line, "From: ");
	if (clean.len == 0) {
		str_appends(&line, addr);
	} else {
		from_name(&line, &clean);
		str_appendf(&line, " <%s>", addr);
	}
	str_appendc(&line, '\n');
	r = str_append(out, line.s, line.len);
	str_free(&clean);
	str_free(&line);
	return r;
}
