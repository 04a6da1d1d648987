/*
 * fuzz_dsn - libFuzzer target for the DSN builder (queue/dsn.c):
 * the header-section extraction, the cleaning of untrusted reply text
 * and addresses, line folding, and the boundary choice
 *
 * Input: byte 0 flags (bit 0: return the whole original; bits 1-7 mod 6:
 * the action, success ones included; bit 3: the fuzzed text is also the
 * final recipient and sender; bit 4: the reply is a local reason instead;
 * bit 5: the text is also the Original-Recipient's type; bit 6: also the
 * envelope id), bytes 1-2 the length of
 * the reply text (big-endian, cut to what is there), the reply text, and
 * the rest is the original message. Besides memory safety it checks:
 * the header section has no empty line and never passes the cap; the
 * DSN has no CR or NUL, no line over 998 bytes, ends in LF, and in its
 * body the boundary occurs only as the delimiters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/dsn.h"

static void check_section(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t max = size / 2 + 1, n = dsn_header_section(p, size, max);

	if (n > size || n > max)
		abort();
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && (p[i + 1] == '\n' ||
				     (p[i + 1] == '\r' && i + 2 < n &&
				      p[i + 2] == '\n')))
			abort();
	if (n > 0 && p[0] == '\n')
		abort();
}

static void check_lines(const struct str *s)
{
	size_t col = 0;

	if (s->len == 0 || s->s[s->len - 1] != '\n')
		abort();
	for (size_t i = 0; i < s->len; i++) {
		if (s->s[i] == '\r' || s->s[i] == '\0')
			abort();
		col = s->s[i] == '\n' ? 0 : col + 1;
		if (col > DSN_LINE_MAX)
			abort();
	}
}

static size_t occurrences(const char *p, const char *end, const char *b)
{
	size_t n = 0, k = strlen(b);
	const char *q;

	while ((q = memmem(p, (size_t)(end - p), b, k)) != NULL) {
		n++;
		p = q + k;
	}
	return n;
}

static void check_boundary(const struct str *s)
{
	const char *p = strstr(s->s, "\n\tboundary=\""), *e;
	const char *body = strstr(s->s, "\n\n");
	size_t parts = 2;
	char b[128];

	if (p == NULL)
		abort();
	p += 12;
	e = strchr(p, '"');
	if (e == NULL || e == p || (size_t)(e - p) >= sizeof(b))
		abort();
	memcpy(b, p, (size_t)(e - p));
	b[e - p] = '\0';
	/* in the body: each part's delimiter and the closing one */
	if (body == NULL)
		abort();
	if (strstr(body, "\nContent-Description: Undelivered Message") != NULL ||
	    strstr(body, "\nContent-Description: Message") != NULL)
		parts = 3;
	if (occurrences(body, s->s + s->len, b) != parts + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_rcpt r;
	struct dsn_report d;
	struct str out = STR_INIT(0);
	const char *error;
	char *text;
	size_t tlen;
	int flags, eight;

	check_section(data, size);
	if (size < 3)
		return 0;
	flags = data[0];
	tlen = (size_t)data[1] << 8 | data[2];
	if (tlen > size - 3)
		tlen = size - 3;
	text = malloc(tlen + 1);
	if (text == NULL)
		abort();
	memcpy(text, data + 3, tlen);
	text[tlen] = '\0';
	memset(&r, 0, sizeof(r));
	r.final_rcpt = (flags & 8) && text[0] != '\0' ? text :
		       "someone@example.test";
	r.orig_rcpt = (flags & 8) ? "orig@example.test" : NULL;
	r.action = (enum dsn_action)((flags >> 1) % 6);
	r.orig_type = (flags & 32) ? text : NULL;
	if (flags & 16) {
		r.reason = text;
	} else {
		r.smtp_reply = text;
		r.remote_mta = "mx.example.test";
	}
	memset(&d, 0, sizeof(d));
	d.hostname = "mail.example.test";
	d.queue_id = "1JN7W800F2K3K7P";
	d.sender = r.final_rcpt;
	d.unique = "1JN7W800F2K3K7P.1.0";
	d.arrival = 1717322400;
	d.now = d.arrival + 3600;
	d.retry_until = d.arrival + 86400;
	d.rcpts = &r;
	d.nrcpts = 1;
	d.original = (const char *)data + 3 + tlen;
	d.original_len = size - 3 - tlen;
	d.original_whole = flags & 1;
	d.envid = (flags & 64) ? text : NULL;
	if (dsn_build(&d, &out, &eight, &error) < 0)
		abort();
	check_lines(&out);
	check_boundary(&out);
	str_free(&out);
	free(text);
	return 0;
}
