/*
 * hopcount - count the Received: fields of a header section as it streams
 *
 * The grammar and why the body is not looked at are in hopcount.h. One
 * state per position in a line; the rest of a field's line is skipped
 * with memchr, so the cost is a few bytes per header line and nothing per
 * body byte.
 */
#include "hopcount.h"

#include <string.h>

void hopcount_init(struct hopcount *h)
{
	memset(h, 0, sizeof(*h));
	h->state = HOP_LINE_START;
}

int hopcount_done(const struct hopcount *h)
{
	return h->state == HOP_BODY;
}

int hopcount_exceeds(const struct hopcount *h, unsigned limit)
{
	return limit != 0 && h->count > limit;
}

/* RFC 5322 ftext: printable US-ASCII but ':'. */
static int name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* The name ended with its ':': count it if it is Received. */
static void field_end(struct hopcount *h)
{
	if (h->name_len == 8 && memcmp(h->name, "received", 8) == 0 &&
	    h->count < HOPCOUNT_MAX)
		h->count++;
	h->state = HOP_LINE;
}

static void at_line_start(struct hopcount *h, unsigned char c)
{
	if (c == ' ' || c == '\t') {
		h->state = HOP_LINE;		/* a folded continuation */
	} else if (c == '\r') {
		h->state = HOP_CR;
	} else if (name_char(c)) {
		h->name[0] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		h->name_len = 1;
		h->state = HOP_NAME;
	} else {
		h->state = HOP_BODY;		/* empty line, or no field */
	}
}

static void in_name(struct hopcount *h, unsigned char c)
{
	if (name_char(c)) {
		if (h->name_len < HOPCOUNT_NAME_MAX)
			h->name[h->name_len] =
				(char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		if (h->name_len < HOPCOUNT_NAME_MAX + 1)
			h->name_len++;
	} else if (c == ':') {
		field_end(h);
	} else if (c == ' ' || c == '\t') {
		h->state = HOP_NAME_BLANKS;
	} else {
		h->state = HOP_BODY;		/* a line that is no field */
	}
}

void hopcount_feed(struct hopcount *h, const char *p, size_t n)
{
	const char *end = p + n, *lf;

	while (p < end && h->state != HOP_BODY) {
		unsigned char c = (unsigned char)*p;

		switch (h->state) {
		case HOP_LINE:
			lf = memchr(p, '\n', (size_t)(end - p));
			if (lf == NULL)
				return;
			p = lf;
			h->state = HOP_LINE_START;
			break;
		case HOP_LINE_START:
			at_line_start(h, c);
			break;
		case HOP_NAME:
			in_name(h, c);
			break;
		case HOP_NAME_BLANKS:
			if (c == ':')
				field_end(h);
			else if (c != ' ' && c != '\t')
				h->state = HOP_BODY;
			break;
		case HOP_CR:
			h->state = HOP_BODY;	/* CR LF, or a bare CR */
			break;
		case HOP_BODY:
			break;
		}
		p++;
	}
}
