/*
 * smtpd_input - the client's bytes: command lines, message data, pushback,
 *               and the deadlines every wait for them is under
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
 *
 * DEADLINES. Every wait for the client ends at the earliest of:
 *   - smtpd_timeout from the start of the wait ("421 4.4.2 timeout");
 *   - the end of the session, smtpd_session_time_limit after it began
 *     ("421 4.4.2 session time limit reached");
 *   - while message bytes are read (DATA, a BDAT chunk), the data
 *     deadline: smtpd_timeout after the DATA command or the BDAT command
 *     line, and each read of N bytes moves it N / smtpd_min_data_rate
 *     seconds later, but never more than smtpd_timeout ahead of now
 *     (Postfix's smtpd_min_data_rate). A client that sends its message at
 *     least that fast is never cut; one that dribbles a byte now and then
 *     to keep smtpd_timeout from expiring (slow loris) is cut after about
 *     smtpd_timeout ("421 4.4.2 data rate too low", logged).
 * s->wait_limit names the deadline that limited the last wait, for
 * smtpd_session_lost().
 *
 * THE INJECTOR'S SILENCE. Message bytes are handed to postern-inject(8)
 * in chunks of 64 KiB, and the injector drops a connection that has been
 * silent for its idle limit (smtpd_timeout). A slow client can take far
 * longer than that to fill a chunk, so while a read waits, bytes held for
 * the injector for SMTPD_INJECT_FLUSH_MS are sent as a short chunk
 * (smtpd_data_flush), and a read that starts after that has passed sends
 * them first. The injector then never waits much longer for smtpd than
 * smtpd waits for its client; a fast client, whose reads never wait,
 * still makes full chunks.
 */
#include "smtpd.h"

#include <string.h>
#include <time.h>

#include "util/log.h"

/* A data-deadline wait shorter than smtpd_timeout by more than this was
 * cut by the minimum data rate, not by silence alone. */
#define INPUT_RATE_SLACK_MS 1000

int64_t smtpd_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		log_panic("clock_gettime: CLOCK_MONOTONIC failed");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t smtpd_in_pending(const struct smtpd_session *s)
{
	return s->in.len + io_pending(&s->io);
}

/* Set the io timeout for the next wait (and flush) from the deadlines. */
static void input_arm(struct smtpd_session *s)
{
	int64_t now = smtpd_now_ms();
	int64_t t = s->srv->timeout_ms;
	enum smtpd_wait_limit why = SMTPD_WAIT_IDLE;

	if (s->data_deadline_us > 0) {
		int64_t d = s->data_deadline_us / 1000 - now;

		if (d < t - INPUT_RATE_SLACK_MS)
			why = SMTPD_WAIT_RATE;
		if (d < t)
			t = d;
	}
	if (s->end_ms - now < t) {
		t = s->end_ms - now;
		why = SMTPD_WAIT_SESSION;
	}
	s->io.timeout_ms = t > 0 ? (int)t : 0;
	s->wait_limit = why;
}

/* Flush the replies if the next read may block. */
static int input_flush(struct smtpd_session *s)
{
	if (smtpd_in_pending(s) > 0)
		return IO_OK;
	return io_flush(&s->io);
}

/* Free a buffer that may have held an AUTH line. */
static void input_wipe(struct str *sb)
{
	if (sb->s != NULL)
		explicit_bzero(sb->s, sb->cap);
	str_free(sb);
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
	input_wipe(&s->in);
	s->in = both;
}

/* ---- message bytes ------------------------------------------------------ */

void smtpd_data_clock_start(struct smtpd_session *s)
{
	s->data_start_ms = smtpd_now_ms();
	s->data_deadline_us = (s->data_start_ms + s->srv->timeout_ms) * 1000;
	s->data_read = 0;
}

void smtpd_data_clock_stop(struct smtpd_session *s)
{
	s->data_deadline_us = 0;
}

/* n bytes arrived: move the data deadline (see DEADLINES above). */
static void input_data_credit(struct smtpd_session *s, size_t n)
{
	int64_t cap = (smtpd_now_ms() + s->srv->timeout_ms) * 1000;
	unsigned rate = s->srv->min_data_rate;

	s->data_read += n;
	if (rate == 0)
		s->data_deadline_us = cap;
	else
		s->data_deadline_us += (int64_t)n * 1000000 / rate;
	if (s->data_deadline_us > cap)
		s->data_deadline_us = cap;
}

/* io_read under the deadlines; while it waits, held injector bytes that
 * fall due are sent. */
static int input_read_data(struct smtpd_session *s, char *buf, size_t n,
			   size_t *got_r)
{
	for (;;) {
		int64_t due = smtpd_data_flush_due(s), now;
		int r;

		input_arm(s);
		now = smtpd_now_ms();
		if (due >= 0 && due <= now) {
			smtpd_data_flush(s);
			continue;
		}
		if (due < 0 || due - now >= s->io.timeout_ms)
			return io_read(&s->io, buf, n, got_r);
		s->io.timeout_ms = (int)(due - now);
		r = io_read(&s->io, buf, n, got_r);
		if (r != IO_TIMEOUT)
			return r;
	}
}

int smtpd_read_data(struct smtpd_session *s, char *buf, size_t n,
		    size_t *got_r)
{
	int r;

	*got_r = 0;
	if (s->in.len > 0) {
		*got_r = n < s->in.len ? n : s->in.len;
		memcpy(buf, s->in.s, *got_r);
		str_consume(&s->in, *got_r);
		input_data_credit(s, *got_r);
		return IO_OK;
	}
	input_arm(s);
	r = input_flush(s);
	if (r != IO_OK)
		return r;
	r = input_read_data(s, buf, n, got_r);
	if (r == IO_OK)
		input_data_credit(s, *got_r);
	else if (r == IO_TIMEOUT && s->wait_limit == SMTPD_WAIT_RATE)
		log_warn(s->id, "slow data from %s: %llu bytes in %lld s "
			 "(smtpd_min_data_rate %u)", s->ip,
			 (unsigned long long)s->data_read,
			 (long long)(smtpd_now_ms() - s->data_start_ms) / 1000,
			 s->srv->min_data_rate);
	return r;
}

/* ---- command lines ------------------------------------------------------ */

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
	input_wipe(&rest);
	return r;
}

int smtpd_read_line(struct smtpd_session *s, struct str *line,
		    size_t maxlen)
{
	const char *lf;
	size_t n;
	int r;

	str_clear(line);
	input_arm(s);
	if (s->in.len == 0) {
		r = input_flush(s);
		return r != IO_OK ? r : io_read_line(&s->io, line, maxlen);
	}
	lf = memchr(s->in.s, '\n', s->in.len);
	if (lf == NULL) {
		struct str prefix = s->in;

		str_init(&s->in, 0);
		r = input_line_rest(s, line, maxlen, &prefix);
		input_wipe(&prefix);
		return r;
	}
	n = (size_t)(lf - s->in.s) + 1;
	r = n > maxlen || str_set(line, s->in.s, n) < 0 ? IO_TOOLONG : IO_OK;
	str_consume(&s->in, n);
	if (r != IO_OK)
		str_clear(line);
	return r;
}
