/*
 * remote_smtp - one SMTP client session of postern-remote
 *
 * OPENING  connect(2) without blocking, bounded by remote_connect_timeout,
 * then the greeting (same bound), EHLO (HELO when EHLO is refused with
 * 5xx), and STARTTLS when the server offers it: opportunistic, the
 * certificate is not verified (a man in the middle can strip STARTTLS
 * anyway; RFC 7435), the version and cipher are logged. After the
 * handshake input buffered in plaintext is thrown away (STYLE.md 17) and
 * EHLO is sent again. A failed handshake leaves the connection useless;
 * the caller connects once more without STARTTLS, as Postfix does.
 *
 * Every reply after the greeting must come within remote_timeout. A
 * reply that does not parse (smtp_reply.h) is a protocol error: the
 * session is closed like a lost connection.
 */
#include "remote.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "util/event.h"
#include "util/log.h"

/* "host[ip]:port" of addr. */
static void relay_name(const char *host, const struct sockaddr_storage *ss,
		       char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	struct str s = STR_INIT(0);

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	}
	str_appendf(&s, "%s[%s]:%u", host, ip, port);
	if (cstr_copy(out, size, str_c(&s)) < 0)
		cstr_copy(out, size, "none");
	str_free(&s);
}

/* A non-blocking connect within timeout_ms: the socket or -1 (errno). */
static int connect_within(const struct sockaddr_storage *ss, int timeout_ms)
{
	socklen_t len = ss->ss_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC |
			SOCK_NONBLOCK, 0);
	struct pollfd p;
	int err = 0, r;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		goto fail;
	if (err == 0)
		return fd;
	errno = err;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int remote_smtp_cmd(struct remote_agent *ra, const char *fmt, ...)
{
	va_list ap;
	int r;

	str_clear(&ra->line);
	va_start(ap, fmt);
	r = str_vappendf(&ra->line, fmt, ap);
	va_end(ap);
	if (r < 0 || str_appends(&ra->line, "\r\n") < 0)
		return -1;
	return io_write(&ra->sess.io, ra->line.s, ra->line.len) == IO_OK ?
	       0 : -1;
}

static const char *io_why(int r)
{
	switch (r) {
	case IO_EOF: return "lost connection";
	case IO_TIMEOUT: return "timeout";
	case IO_TOOLONG: return "reply line too long";
	default: break;
	}
	return errno == EPROTO ? "TLS error" : strerror(errno);
}

int remote_smtp_reply(struct remote_agent *ra, const char *step,
		      struct str *reason)
{
	struct remote_session *s = &ra->sess;
	const char *error = NULL;
	int r = io_flush(&s->io), fed = 0;

	smtp_reply_reset(&ra->reply);
	while (r == IO_OK && fed == 0) {
		r = io_read_line(&s->io, &ra->line, SMTP_REPLY_LINE_MAX);
		if (r != IO_OK)
			break;
		if (ra->line.len == 0 || ra->line.s[ra->line.len - 1] != '\n') {
			r = IO_EOF;
			break;
		}
		str_truncate(&ra->line, ra->line.len - 1);
		if (ra->line.len > 0 && ra->line.s[ra->line.len - 1] == '\r')
			str_truncate(&ra->line, ra->line.len - 1);
		fed = smtp_reply_feed(&ra->reply, ra->line.s, ra->line.len,
				      &error);
	}
	if (r == IO_OK && fed > 0)
		return 0;
	str_clear(reason);
	str_appendf(reason, "4.4.2 %s: %s %s", s->relay,
		    fed < 0 ? error : io_why(r), step);
	return -1;
}

static int ehlo(struct remote_agent *ra, struct str *reason)
{
	struct remote_session *s = &ra->sess;

	if (remote_smtp_cmd(ra, "EHLO %s", ra->conf->hostname) < 0 ||
	    remote_smtp_reply(ra, "after EHLO", reason) < 0)
		return -1;
	if (smtp_reply_class(&ra->reply) == 5) {
		if (remote_smtp_cmd(ra, "HELO %s", ra->conf->hostname) < 0 ||
		    remote_smtp_reply(ra, "after HELO", reason) < 0)
			return -1;
		s->ext = 0;
		s->size_max = 0;
	} else {
		s->ext = ra->reply.ext;
		s->size_max = ra->reply.size_max;
	}
	if (smtp_reply_class(&ra->reply) != 2) {
		str_clear(reason);
		smtp_reply_reason(&ra->reply, s->relay, reason);
		return -1;
	}
	return 0;
}

/* STARTTLS on an open session. 0 up, 1 refused by the server (carry on
 * in plaintext), -1 handshake or connection failure. */
static int starttls(struct remote_agent *ra, const char *id,
		    const char *host, struct str *reason)
{
	struct remote_session *s = &ra->sess;
	const char *error;

	if (remote_smtp_cmd(ra, "STARTTLS") < 0 ||
	    remote_smtp_reply(ra, "after STARTTLS", reason) < 0)
		return -1;
	if (ra->reply.code != 220) {
		log_info(id, "relay=%s refused STARTTLS (%d); continuing "
			 "without TLS", s->relay, ra->reply.code);
		return 1;
	}
	if (io_pending(&s->io) > 0)
		log_warn(id, "relay=%s sent %zu bytes after 220 to STARTTLS; "
			 "discarded", s->relay, io_pending(&s->io));
	if (io_tls_client(&s->io, ra->tls, host, &error) < 0) {
		log_warn(id, "relay=%s TLS handshake failed: %s", s->relay,
			 error);
		str_clear(reason);
		str_appendf(reason, "4.7.5 %s: TLS handshake failed: %s",
			    s->relay, error);
		return -1;
	}
	s->tls = 1;
	log_info(id, "relay=%s TLS established: %s %s (certificate not "
		 "verified)", s->relay, SSL_get_version(s->io.ssl),
		 SSL_get_cipher_name(s->io.ssl));
	return 0;
}

static enum remote_open open_fail(struct remote_agent *ra,
				  enum remote_open r)
{
	remote_smtp_close(ra);
	return r;
}

enum remote_open remote_smtp_open(struct remote_agent *ra, const char *id,
				  const char *host,
				  const struct sockaddr_storage *addr,
				  int use_tls, struct str *reason)
{
	struct remote_session *s = &ra->sess;
	int connect_ms = (int)ra->conf->remote_connect_timeout * 1000;
	int t;

	remote_smtp_close(ra);
	relay_name(host, addr, s->relay, sizeof(s->relay));
	s->fd = connect_within(addr, connect_ms > 0 ? connect_ms : 1000);
	if (s->fd < 0) {
		str_clear(reason);
		str_appendf(reason, "4.4.1 connect to %s: %s", s->relay,
			    strerror(errno));
		return OPEN_FAIL;
	}
	io_init(&s->io, s->fd, connect_ms > 0 ? connect_ms : 1000);
	if (remote_smtp_reply(ra, "while waiting for the greeting",
			      reason) < 0)
		return open_fail(ra, OPEN_FAIL);
	s->io.timeout_ms = (int)ra->conf->remote_timeout * 1000;
	if (smtp_reply_class(&ra->reply) != 2) {
		str_clear(reason);
		smtp_reply_reason(&ra->reply, s->relay, reason);
		return open_fail(ra, OPEN_FAIL);
	}
	if (ehlo(ra, reason) < 0)
		return open_fail(ra, OPEN_FAIL);
	if (use_tls && ra->tls != NULL && (s->ext & SMTP_EXT_STARTTLS)) {
		t = starttls(ra, id, host, reason);
		if (t < 0)
			return open_fail(ra, s->io.ssl == NULL && ra->reply.code
					 == 220 ? OPEN_TLS_FAIL : OPEN_FAIL);
		if (t == 0 && ehlo(ra, reason) < 0)
			return open_fail(ra, OPEN_FAIL);
	}
	return OPEN_OK;
}

int remote_smtp_rset(struct remote_agent *ra)
{
	struct str reason = STR_INIT(0);
	int r = 0;

	if (remote_smtp_cmd(ra, "RSET") < 0 ||
	    remote_smtp_reply(ra, "after RSET", &reason) < 0 ||
	    smtp_reply_class(&ra->reply) != 2) {
		remote_smtp_close(ra);
		r = -1;
	}
	str_free(&reason);
	return r;
}

void remote_smtp_quit(struct remote_agent *ra)
{
	struct str reason = STR_INIT(0);

	if (ra->sess.fd < 0)
		return;
	ra->sess.io.timeout_ms = 2000;
	if (remote_smtp_cmd(ra, "QUIT") == 0)
		remote_smtp_reply(ra, "after QUIT", &reason);
	str_free(&reason);
	remote_smtp_close(ra);
}

void remote_smtp_close(struct remote_agent *ra)
{
	struct remote_session *s = &ra->sess;

	if (s->fd >= 0) {
		io_free(&s->io);
		close(s->fd);
	}
	s->fd = -1;
	s->nexthop[0] = '\0';
	s->ext = 0;
	s->size_max = 0;
	s->tls = 0;
}
