/*
 * fuzz_sendmail_msg - libFuzzer target for what sendmail(1) parses
 * (smtpd/sendmail_msg.c)
 *
 * The first input byte picks -i and a split point, the rest is the
 * message on standard input. Besides memory safety it checks:
 *   - the canonical text holds no CR, ends in LF when not empty, and is
 *     the same however the input is split into pieces;
 *   - a header section found on a prefix of the text is the one found on
 *     the whole text;
 *   - parsed headers never keep a Bcc: field, and every recipient is a
 *     non-empty string of at most SENDMAIL_ADDR_MAX bytes;
 *   - an added From: line is one line without control characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd/sendmail_msg.h"
#include "util/str.h"

static void canon(const char *p, size_t n, int dot_ends, size_t cut,
		  struct str *out)
{
	struct sendmail_input in;

	sendmail_input_init(&in, dot_ends);
	if (sendmail_input_feed(&in, p, cut, out) == 0)
		sendmail_input_feed(&in, p + cut, n - cut, out);
	if (sendmail_input_finish(&in, out) < 0)
		abort();
}

static void check_canon(const char *p, size_t n, int dot_ends, size_t cut,
			struct str *out)
{
	struct str other = STR_INIT(0);

	canon(p, n, dot_ends, cut, out);
	canon(p, n, dot_ends, 0, &other);
	if (other.len != out->len ||
	    (out->len > 0 && memcmp(other.s, out->s, out->len) != 0))
		abort();
	if (out->len > 0 && (memchr(out->s, '\r', out->len) != NULL ||
			     out->s[out->len - 1] != '\n'))
		abort();
	str_free(&other);
}

static void check_split(const struct str *text, size_t cut)
{
	struct sendmail_split whole, part;

	if (sendmail_msg_split(str_c(text), text->len, 1, &whole) != 1 ||
	    whole.skip + whole.header_len > text->len)
		abort();
	if (cut > text->len)
		cut = text->len;
	if (sendmail_msg_split(str_c(text), cut, 0, &part) == 1 &&
	    (part.skip != whole.skip || part.header_len != whole.header_len ||
	     part.blank != whole.blank))
		abort();
}

static void check_headers(const char *p, size_t n)
{
	struct sendmail_hdrs h;
	const char *error = NULL;
	const char *s;

	sendmail_hdrs_init(&h);
	if (sendmail_hdrs_parse(&h, p, n, 1, &error) < 0) {
		if (error == NULL)
			abort();
	} else {
		s = str_c(&h.text);
		if (strncasecmp(s, "bcc:", 4) == 0)
			abort();
		for (; (s = strchr(s, '\n')) != NULL; s++)
			if (strncasecmp(s + 1, "bcc:", 4) == 0)
				abort();
	}
	for (size_t i = 0; i < h.nrcpts; i++)
		if (h.rcpts[i][0] == '\0' ||
		    strlen(h.rcpts[i]) > SENDMAIL_ADDR_MAX)
			abort();
	sendmail_hdrs_free(&h);
}

static void check_from(const char *p, size_t n)
{
	char *name = strndup(p, n > 300 ? 300 : n);
	struct str out = STR_INIT(0);

	if (name == NULL)
		return;
	if (sendmail_msg_from(&out, name, "u@h") < 0)
		abort();
	for (size_t i = 0; i + 1 < out.len; i++)
		if ((unsigned char)out.s[i] < ' ' || out.s[i] == 0x7f)
			abort();
	if (out.s[out.len - 1] != '\n')
		abort();
	free(name);
	str_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str text = STR_INIT(0);
	struct sendmail_split split;
	const char *p;
	size_t cut;

	if (size == 0)
		return 0;
	p = (const char *)data + 1;
	size--;
	cut = size ? (data[0] >> 1) % (size + 1) : 0;
	check_canon(p, size, data[0] & 1, cut, &text);
	check_split(&text, cut);
	sendmail_msg_split(str_c(&text), text.len, 1, &split);
	check_headers(str_c(&text) + split.skip, split.header_len);
	check_headers(p, size);
	check_from(p, size);
	str_free(&text);
	return 0;
}
