/*
 * maildir_crlf - the CRLF form of a message file (see maildir_crlf.h)
 *
 * The converter walks the input a line at a time: at a line start it
 * decides on the TOP limit and the stuffed dot, then memchr() finds the
 * LF and the bytes up to it are copied as one run. Per line it keeps only
 * whether the line is so far empty, a lone CR, or text, and whether the
 * last byte was CR, so a piece may end anywhere.
 */
#include "mail/maildir_crlf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum {
	CRLF_LINE_START,	/* nothing of this line seen yet */
	CRLF_LINE_CR,		/* the line so far is one CR */
	CRLF_LINE_TEXT,		/* anything else */
};

/* on the stack: callers may be threads */
#define SIZE_CHUNK 32768

void maildir_crlf_init(struct maildir_crlf *c, unsigned flags,
		       long body_lines)
{
	memset(c, 0, sizeof(*c));
	c->flags = flags;
	c->body_lines = body_lines;
	c->line = CRLF_LINE_START;
}

/* Append p[0..n) to out at *o (or only count). */
static void put(char *out, size_t *o, const char *p, size_t n)
{
	if (out != NULL)
		memcpy(out + *o, p, n);
	*o += n;
}

/* At a line start with byte b to come: 0 go on, 1 the limit is reached. */
static int line_start(struct maildir_crlf *c, char b, char *out, size_t *o)
{
	if (c->in_body && c->body_lines >= 0 && c->body_lines-- == 0) {
		c->done = 1;
		return 1;
	}
	if ((c->flags & MAILDIR_CRLF_DOTS) && b == '.')
		put(out, o, ".", 1);
	return 0;
}

/* The line's bytes in[0..n) (no LF among them) were seen. */
static void line_text(struct maildir_crlf *c, const char *in, size_t n)
{
	if (n == 0)
		return;
	if (c->line == CRLF_LINE_START && n == 1 && in[0] == '\r')
		c->line = CRLF_LINE_CR;
	else
		c->line = CRLF_LINE_TEXT;
	c->prev_cr = in[n - 1] == '\r';
}

size_t maildir_crlf_convert(struct maildir_crlf *c, const char *in,
			    size_t n, char *out, size_t *used_r)
{
	size_t i = 0, o = 0;

	while (i < n && !c->done) {
		const char *lf;
		size_t end;

		if (c->line == CRLF_LINE_START && line_start(c, in[i], out, &o))
			break;
		lf = memchr(in + i, '\n', n - i);
		end = lf != NULL ? (size_t)(lf - in) : n;
		put(out, &o, in + i, end - i);
		line_text(c, in + i, end - i);
		if (lf == NULL) {
			i = n;
			break;
		}
		put(out, &o, c->prev_cr ? "\n" : "\r\n", c->prev_cr ? 1 : 2);
		if (!c->in_body && c->line != CRLF_LINE_TEXT)
			c->in_body = 1;	/* that was the empty line */
		c->line = CRLF_LINE_START;
		c->prev_cr = 0;
		i = end + 1;
	}
	*used_r = i;
	return o;
}

int maildir_crlf_mid_line(const struct maildir_crlf *c)
{
	return !c->done && c->line != CRLF_LINE_START;
}

uint64_t maildir_crlf_size(const char *p, size_t n, int *prev_cr)
{
	const char *end = p + n, *lf;
	uint64_t v = n;

	if (n == 0)
		return 0;
	for (const char *q = p; (lf = memchr(q, '\n', (size_t)(end - q)));
	     q = lf + 1) {
		int cr = lf > p ? lf[-1] == '\r' : *prev_cr;

		if (!cr)
			v++;
	}
	*prev_cr = end[-1] == '\r';
	return v;
}

int maildir_crlf_size_fd(int fd, uint64_t *size_r)
{
	char buf[SIZE_CHUNK];
	uint64_t v = 0;
	off_t off = 0;
	int cr = 0;

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		v += maildir_crlf_size(buf, (size_t)n, &cr);
		off += n;
	}
	*size_r = v;
	return 0;
}
