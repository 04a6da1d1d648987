/*
 * smtp_reply - SMTP reply lines and EHLO extensions (see smtp_reply.h)
 */
#include "smtp_reply.h"

#include <string.h>

void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	str_init(&r->text, SMTP_REPLY_TEXT_MAX);
}

void smtp_reply_reset(struct smtp_reply *r)
{
	struct str keep = r->text;

	memset(r, 0, sizeof(*r));
	r->text = keep;
	str_clear(&r->text);
}

void smtp_reply_free(struct smtp_reply *r)
{
	str_free(&r->text);
	memset(r, 0, sizeof(*r));
}

int smtp_reply_class(const struct smtp_reply *r)
{
	return r->code / 100;
}

int smtp_enhanced_ok(const char *s, size_t len, char cls)
{
	size_t i = 0;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    (cls != 0 && s[0] != cls) || s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0 && (i >= len || s[i++] != '.'))
			return 0;
	}
	return i == len;
}

static int code_parse(const char *line, size_t len)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Length of a leading "x.y.z" of class cls followed by a space or the
 * end; 0 when there is none. */
static size_t enhanced_len(const char *s, size_t len, char cls)
{
	size_t n = 0;

	while (n < len && n < 11 && s[n] != ' ')
		n++;
	return smtp_enhanced_ok(s, n, cls) ? n : 0;
}

/* Append text to r->text, joined by a space, control bytes as spaces;
 * beyond the cap the text is cut (only the log and bounce text). */
static void text_add(struct smtp_reply *r, const char *s, size_t len)
{
	if (len == 0)
		return;
	if (r->text.len > 0)
		str_appendc(&r->text, ' ');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (str_appendc(&r->text, c < 0x20 || c == 0x7f ? ' ' :
				(char)c) < 0)
			return;
	}
}

static int word_is(const char *s, size_t len, const char *kw)
{
	size_t n = strlen(kw);

	return len == n && strncasecmp(s, kw, n) == 0;
}

static uint64_t size_value(const char *s, size_t len)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v;
}

/* An EHLO line's text: "KEYWORD [params]". */
static void ehlo_line(struct smtp_reply *r, const char *s, size_t len)
{
	static const struct { const char *kw; unsigned bit; } ext[] = {
		{ "STARTTLS", SMTP_EXT_STARTTLS },
		{ "PIPELINING", SMTP_EXT_PIPELINING },
		{ "SIZE", SMTP_EXT_SIZE },
		{ "8BITMIME", SMTP_EXT_8BITMIME },
		{ "SMTPUTF8", SMTP_EXT_SMTPUTF8 },
		{ "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCED },
		{ "CHUNKING", SMTP_EXT_CHUNKING },
		{ "DSN", SMTP_EXT_DSN },
	};
	size_t kwlen = 0;

	while (kwlen < len && s[kwlen] != ' ')
		kwlen++;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if (!word_is(s, kwlen, ext[i].kw))
			continue;
		r->ext |= ext[i].bit;
		if (ext[i].bit == SMTP_EXT_SIZE && kwlen < len)
			r->size_max = size_value(s + kwlen + 1,
						 len - kwlen - 1);
	}
}

int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len,
		    const char **error_r)
{
	int code = code_parse(line, len);
	const char *text = len > 4 ? line + 4 : "";
	size_t tlen = len > 4 ? len - 4 : 0, elen;

	if (r->done) {
		*error_r = "line after the end of a reply";
		return -1;
	}
	if (code < 0 || (r->lines > 0 && code != r->code)) {
		*error_r = code < 0 ? "malformed reply line"
				    : "reply code changes within a reply";
		return -1;
	}
	if (++r->lines > SMTP_REPLY_LINES_MAX) {
		*error_r = "reply has too many lines";
		return -1;
	}
	r->code = code;
	elen = enhanced_len(text, tlen, line[0]);
	if (elen > 0 && r->lines == 1)
		memcpy(r->enhanced, text, elen);
	if (elen > 0 && strncmp(r->enhanced, text, elen) == 0 &&
	    r->enhanced[elen] == '\0') {
		text += elen;
		tlen -= elen;
		while (tlen > 0 && *text == ' ') {
			text++;
			tlen--;
		}
	}
	if (r->lines > 1)
		ehlo_line(r, text, tlen);
	text_add(r, text, tlen);
	r->done = len == 3 || line[3] == ' ';
	return r->done;
}

void smtp_reply_reason(const struct smtp_reply *r, const char *host,
		       struct str *out)
{
	if (r->enhanced[0] != '\0')
		str_appends(out, r->enhanced);
	else
		str_appendf(out, "%d.0.0", smtp_reply_class(r));
	str_appendf(out, " %s said: %d", host, r->code);
	if (r->enhanced[0] != '\0')
		str_appendf(out, " %s", r->enhanced);
	if (r->text.len > 0)
		str_appendf(out, " %s", str_c(&r->text));
}
