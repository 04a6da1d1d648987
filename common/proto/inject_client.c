/*
 * inject_client - the client half of inject.h, for smtpd and sendmail
 *
 * Blocking, with io.h's deadline on every read and flush. The envelope is
 * checked before anything is sent (a field the injector would refuse is a
 * PERM without a connection), then sent at once so that the injector can
 * open the queue file while the message is still coming.
 *
 * Chunks: message bytes collect in the io's output buffer (which holds
 * nothing else once the envelope has been flushed) until INJECT_CHUNK_MAX
 * bytes or the commit; then the length line is put in front of them and
 * the whole chunk is flushed. So a caller may write line by line and the
 * injector still sees 64 KiB chunks. A slow sender (an SMTP client that
 * sends a line every minute, within smtpd_timeout) would leave the
 * injector without a byte for as long as a chunk takes to fill: so what
 * is buffered also goes out once the last chunk is a quarter of the
 * timeout old (one clock read per write; nothing more on a fast path),
 * and a caller that knows its data comes slowly (smtpd after 5 s of its
 * client's silence) sends a shorter chunk at once with inject_flush().
 *
 * Answers: the injector answers once and closes, also early (a message
 * over the size limit, a full disk). A write that fails is therefore not
 * yet an error: inject_commit reads what the injector said and reports
 * that; only when there is no answer is it "queue service unavailable".
 */
#include "proto/inject.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/inject_proto.h"
#include "util/sock.h"

static int client_fail(struct str *reason_r, int status, const char *what,
		       int err)
{
	str_clear(reason_r);
	if (err != 0)
		str_appendf(reason_r, "%s: %s", what, strerror(err));
	else
		str_appends(reason_r, what);
	return status;
}

static int64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int inject_begin(struct inject_client *ic, const char *socket_path,
		 const struct inject_env *env, int timeout_ms,
		 struct str *reason_r)
{
	struct str req = STR_INIT(0);
	const char *error;
	int r;

	ic->fd = -1;
	ic->failed = 0;
	ic->flush_ms = timeout_ms > 4 ? timeout_ms / 4 : 1;
	ic->sent_ms = client_now_ms();
	if (inject_proto_envelope(env, &req, &error) < 0) {
		str_free(&req);
		return client_fail(reason_r, INJECT_PERM, error, 0);
	}
	ic->fd = sock_connect_unix(socket_path);
	if (ic->fd < 0) {
		str_free(&req);
		return client_fail(reason_r, INJECT_TEMP,
				   "queue service unavailable", errno);
	}
	io_init(&ic->io, ic->fd, timeout_ms);
	r = io_write(&ic->io, req.s, req.len);
	if (r == IO_OK)
		r = io_flush(&ic->io);
	str_free(&req);
	if (r != IO_OK)
		ic->failed = 1;	/* inject_commit reads the reason, if any */
	return INJECT_OK;
}

/* Put the length line in front of the buffered bytes and send them. */
static int client_send_chunk(struct inject_client *ic)
{
	struct str *w = &ic->io.wbuf;
	char hdr[24];
	int hl;

	if (w->len == 0)
		return 0;
	ic->sent_ms = client_now_ms();
	hl = snprintf(hdr, sizeof(hdr), "%zu\n", w->len);
	if (hl < 0 || (size_t)hl >= sizeof(hdr) ||
	    str_reserve(w, (size_t)hl) < 0)
		return -1;
	memmove(w->s + hl, w->s, w->len + 1);
	memcpy(w->s, hdr, (size_t)hl);
	w->len += (size_t)hl;
	return io_flush(&ic->io) == IO_OK ? 0 : -1;
}

int inject_write(struct inject_client *ic, const void *p, size_t n)
{
	const char *s = p;
	size_t room, k;

	if (ic->failed || ic->fd < 0)
		return -1;
	while (n > 0) {
		room = INJECT_CHUNK_MAX - ic->io.wbuf.len;
		k = n < room ? n : room;
		if (str_append(&ic->io.wbuf, s, k) < 0)
			goto fail;
		s += k;
		n -= k;
		if (ic->io.wbuf.len == INJECT_CHUNK_MAX &&
		    client_send_chunk(ic) < 0)
			goto fail;
	}
	if (ic->io.wbuf.len > 0 &&
	    client_now_ms() - ic->sent_ms >= ic->flush_ms &&
	    client_send_chunk(ic) < 0)
		goto fail;
	return 0;
fail:
	ic->failed = 1;
	return -1;
}

size_t inject_buffered(const struct inject_client *ic)
{
	return ic->fd < 0 || ic->failed ? 0 : ic->io.wbuf.len;
}

int inject_flush(struct inject_client *ic)
{
	if (ic->failed || ic->fd < 0)
		return -1;
	if (client_send_chunk(ic) < 0) {
		ic->failed = 1;
		return -1;
	}
	return 0;
}

static void client_close(struct inject_client *ic)
{
	if (ic->fd < 0)
		return;
	io_free(&ic->io);
	close(ic->fd);
	ic->fd = -1;
}

/* The injector's one answer line. */
static int client_answer(struct inject_client *ic, int send_err,
			 struct str *id_r, struct str *reason_r)
{
	struct str line = STR_INIT(0);
	int r = io_read_line(&ic->io, &line, INJECT_LINE_MAX + 1);
	int status = -1;

	if (r == IO_OK && line.len > 0 && line.s[line.len - 1] == '\n')
		status = inject_proto_answer(line.s, line.len - 1, reason_r);
	str_free(&line);
	if (status == INJECT_OK) {
		str_clear(id_r);
		str_append(id_r, reason_r->s, reason_r->len);
		str_clear(reason_r);
		return INJECT_OK;
	}
	if (status > 0)
		return status;
	if (r == IO_TIMEOUT)
		return client_fail(reason_r, INJECT_TEMP, "queue service "
				   "unavailable: timed out", 0);
	if (r == IO_OK || r == IO_TOOLONG)
		return client_fail(reason_r, INJECT_TEMP, "queue service "
				   "unavailable: bad answer", 0);
	return client_fail(reason_r, INJECT_TEMP, "queue service "
			   "unavailable: connection lost",
			   r == IO_ERR ? errno : send_err);
}

int inject_commit(struct inject_client *ic, struct str *id_r,
		  struct str *reason_r)
{
	int send_err = 0, status;

	if (ic->fd < 0)
		return client_fail(reason_r, INJECT_TEMP, "queue service "
				   "unavailable: not connected", 0);
	if (!ic->failed &&
	    (client_send_chunk(ic) < 0 || io_puts(&ic->io, "0\n") != IO_OK ||
	     io_flush(&ic->io) != IO_OK)) {
		send_err = errno;
		ic->failed = 1;
	}
	/* whatever we could not send is of no use any more */
	str_clear(&ic->io.wbuf);
	status = client_answer(ic, send_err, id_r, reason_r);
	client_close(ic);
	return status;
}

void inject_abort(struct inject_client *ic)
{
	client_close(ic);
}

/* 1 to 3 digits, then stop at stop (or the end when stop is 0). */
static size_t code_part(const char *s, size_t max, char stop)
{
	size_t n = 0;

	while (n < max && s[n] >= '0' && s[n] <= '9')
		n++;
	return n > 0 && s[n] == stop ? n : 0;
}

size_t inject_reason_code(const char *reason, char cls)
{
	size_t a, b;

	if (reason[0] != cls || reason[1] != '.')
		return 0;
	a = code_part(reason + 2, 3, '.');
	if (a == 0)
		return 0;
	b = code_part(reason + 3 + a, 3, ' ');
	return b == 0 ? 0 : 3 + a + b;
}
