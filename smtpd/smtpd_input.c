/*
 * smtpd_input - the client's bytes: command lines, raw data, pushback
 *
 * The DATA decoder reads in blocks and must stop exactly after the end
 * marker; what it read beyond belongs to the client's next (pipelined)
 * command. Those bytes are put back into s->in, and every read here takes
 * from s->in before it asks the io layer. s->in never holds more than one
 * block, and STARTTLS empties it along with the io buffer.
 *
 * PIPELINING (RFC 2920): replies collect in the io write buffer and go
 * out when the session is about to wait for input, that is when nothing
 * it has already received remains to be processed.
 */
#include "smtpd.h"

#include <string.h>

#include "util/log.h"

size_t smtpd_in_pending(const struct smtpd_session *s)
{
	return s->in.len + io_pending(&s->io);
}

/* Flush the replies if the next read may block. */
static int input_flush(struct smtpd_session *s)
{
	if (smtpd_in_pending(s) > 0)
		return IO_OK;
	return io_flush(&s->io);
}

void smtpd_in_discard(struct smtpd_session *s)
{
	str_clear(&s->in);
	io_discard_input(&s->io);
}

void smtpd_unread(struct smtpd_session *s, const char *p, size_t n)
{
	struct str both = STR_INIT(0);

	if (n == 0)
		return;
	if (str_append(&both, p, n) < 0 ||
	    str_append(&both, s->in.s, s->in.len) < 0)
		log_panic("pushback of %zu bytes refused", n);
	str_free(&s->in);
	s->in = both;
}

int smtpd_read_some(struct smtpd_session *s, char *buf, size_t n,
		    size_t *got_r)
{
	int r;

	*got_r = 0;
	if (s->in.len > 0) {
		*got_r = n < s->in.len ? n : s->in.len;
		memcpy(buf, s->in.s, *got_r);
		str_consume(&s->in, *got_r);
		return IO_OK;
	}
	r = input_flush(s);
	if (r != IO_OK)
		return r;
	return io_read(&s->io, buf, n, got_r);
}

/* The rest of a line whose beginning (prefix, no LF) was pushed back. */
static int input_line_rest(struct smtpd_session *s, struct str *line,
			   size_t maxlen, const struct str *prefix)
{
	struct str rest = STR_INIT(0);
	int r;

	r = input_flush(s);
	if (r == IO_OK)
		r = io_read_line(&s->io, &rest, prefix->len < maxlen
				 ? maxlen - prefix->len : 1);
	if (r == IO_OK && prefix->len >= maxlen)
		r = IO_TOOLONG;		/* drained; the beginning was too long */
	if (r == IO_EOF)
		r = IO_OK;		/* the prefix is the last, partial line */
	if (r == IO_OK && (str_set(line, prefix->s, prefix->len) < 0 ||
			   str_append(line, rest.s, rest.len) < 0))
		r = IO_TOOLONG;
	str_free(&rest);
	return r;
}

int smtpd_read_line(struct smtpd_session *s, struct str *line,
		    size_t maxlen)
{
	const char *lf;
	size_t n;
	int r;

	str_clear(line);
	if (s->in.len == 0) {
		r = input_flush(s);
		return r != IO_OK ? r : io_read_line(&s->io, line, maxlen);
	}
	lf = memchr(s->in.s, '\n', s->in.len);
	if (lf == NULL) {
		struct str prefix = s->in;

		str_init(&s->in, 0);
		r = input_line_rest(s, line, maxlen, &prefix);
		str_free(&prefix);
		return r;
	}
	n = (size_t)(lf - s->in.s) + 1;
	r = n > maxlen || str_set(line, s->in.s, n) < 0 ? IO_TOOLONG : IO_OK;
	str_consume(&s->in, n);
	if (r != IO_OK)
		str_clear(line);
	return r;
}
