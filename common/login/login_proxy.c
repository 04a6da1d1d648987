/*
 * login_proxy - the TLS proxy that stays behind after a TLS login: the
 *               client's TLS session on one side, the mailbox side's end
 *               of a socketpair on the other (login.h)
 *
 * One poll() loop, nothing blocking. Each direction has one buffer of
 * PROXY_BUF bytes; a side that does not take what it is sent stops the
 * other from being read (memory stays bounded), and the TLS library's
 * non-blocking calls say which way the client socket must be ready next
 * (a TLS write may need to read, and a read to write). Records the
 * library already holds decrypted are drained before polling again.
 *
 * Stalls: a buffer with bytes waiting for a side that takes none for
 * session_timeout_ms (the mailbox side's idle limit, pop3_timeout for
 * POP3) ends the proxy; a client that pauses for less loses nothing,
 * however large the answer in flight (a 20 MB RETR to a reader that
 * stops for a few seconds). Idle time with nothing to send is the
 * mailbox side's to limit: it closes its end, and the proxy ends.
 *
 * Ends: the client closes or fails (what it sent is passed on first, then
 * the socketpair is closed); the mailbox side closes (what it sent is
 * written to the client first, then TLS close_notify); a stall; SIGTERM.
 */
#include "login/login.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>

#include "util/event.h"
#include "util/log.h"

#define PROXY_BUF 16384

struct proxy {
	struct login_conn *c;
	SSL *ssl;
	int peer;			/* our end of the socketpair */
	char c2s[PROXY_BUF];		/* client -> mailbox side */
	size_t c2s_len;
	char s2c[PROXY_BUF];		/* mailbox side -> client */
	size_t s2c_off, s2c_len;
	int client_eof;			/* the client sent its last byte */
	int client_gone;		/* nothing more can go to the client */
	int peer_eof;			/* the mailbox side closed */
	short read_wants, write_wants;	/* TLS: events the next try needs */
	int64_t stall_ms;		/* bytes waiting since, without moving */
	const char *end;
};

/* After an SSL call returned r <= 0: the events to wait for, or -1 when
 * the session is over (closed or failed). */
static int proxy_ssl_wants(SSL *ssl, int r, short *events)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*events = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*events = POLLOUT;
		return 0;
	default:
		return -1;
	}
}

static void proxy_progress(struct proxy *p)
{
	p->stall_ms = clock_ms();
}

/* Decrypt what the client sent into c2s (all that the library holds). */
static void proxy_client_read(struct proxy *p)
{
	while (!p->client_eof && p->c2s_len < sizeof(p->c2s)) {
		int r = SSL_read(p->ssl, p->c2s + p->c2s_len,
				 (int)(sizeof(p->c2s) - p->c2s_len));

		p->read_wants = 0;
		if (r > 0) {
			p->c2s_len += (size_t)r;
			proxy_progress(p);
			continue;
		}
		if (proxy_ssl_wants(p->ssl, r, &p->read_wants) < 0) {
			p->client_eof = 1;
			ERR_clear_error();
		}
		return;
	}
}

static void proxy_client_write(struct proxy *p)
{
	while (p->s2c_len > 0 && !p->client_gone) {
		int r = SSL_write(p->ssl, p->s2c + p->s2c_off,
				  (int)p->s2c_len);

		p->write_wants = 0;
		if (r > 0) {
			p->s2c_off += (size_t)r;
			p->s2c_len -= (size_t)r;
			proxy_progress(p);
			continue;
		}
		if (proxy_ssl_wants(p->ssl, r, &p->write_wants) < 0) {
			p->client_gone = 1;
			ERR_clear_error();
		}
		return;
	}
	if (p->s2c_len == 0)
		p->s2c_off = 0;
}

static void proxy_peer_write(struct proxy *p)
{
	while (p->c2s_len > 0) {
		ssize_t n = send(p->peer, p->c2s, p->c2s_len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			memmove(p->c2s, p->c2s + n, p->c2s_len - (size_t)n);
			p->c2s_len -= (size_t)n;
			proxy_progress(p);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		p->peer_eof = 1;	/* the session is gone */
		p->c2s_len = 0;
		return;
	}
}

static void proxy_peer_read(struct proxy *p)
{
	ssize_t n;

	if (p->peer_eof || p->s2c_len > 0)
		return;
	n = recv(p->peer, p->s2c, sizeof(p->s2c), MSG_DONTWAIT);
	if (n > 0) {
		p->s2c_off = 0;
		p->s2c_len = (size_t)n;
		proxy_progress(p);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
			      errno != EINTR)) {
		p->peer_eof = 1;
	}
}

/* Move what can move without waiting. */
static void proxy_pump(struct proxy *p)
{
	proxy_client_read(p);
	proxy_peer_write(p);
	proxy_peer_read(p);
	proxy_client_write(p);
}

/* 1 while the proxy has work, setting p->end when it has not. */
static int proxy_running(struct proxy *p)
{
	int64_t left;

	if (login_stopping)
		p->end = "shutdown";
	else if (p->client_gone)
		p->end = "client gone";
	else if (p->client_eof && p->c2s_len == 0)
		p->end = "client closed";
	else if (p->peer_eof && p->s2c_len == 0)
		p->end = "session ended";
	if (p->end != NULL)
		return 0;
	left = p->stall_ms + p->c->lg->set.session_timeout_ms - clock_ms();
	if ((p->s2c_len > 0 || p->c2s_len > 0) && left <= 0) {
		p->end = p->s2c_len > 0 ? "client took nothing for the "
			 "session timeout" : "session took nothing for the "
			 "session timeout";
		return 0;
	}
	return 1;
}

static void proxy_wait(struct proxy *p)
{
	struct pollfd pfd[2];
	int timeout = -1;
	int64_t left;

	pfd[0] = (struct pollfd){ .fd = p->c->fd, .events = 0 };
	if (!p->client_eof && p->c2s_len < sizeof(p->c2s))
		pfd[0].events |= p->read_wants ? p->read_wants : POLLIN;
	if (p->s2c_len > 0)
		pfd[0].events |= p->write_wants ? p->write_wants : POLLOUT;
	pfd[1] = (struct pollfd){ .fd = p->peer, .events = 0 };
	if (!p->peer_eof && p->s2c_len == 0)
		pfd[1].events |= POLLIN;
	if (p->c2s_len > 0)
		pfd[1].events |= POLLOUT;
	if (p->s2c_len > 0 || p->c2s_len > 0) {
		left = p->stall_ms + p->c->lg->set.session_timeout_ms -
		       clock_ms();
		timeout = left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
	}
	if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
		log_warn(p->c->id, "TLS proxy: poll: %s", strerror(errno));
		p->client_gone = 1;
	}
}

_Noreturn void login_proxy_run(struct login_conn *c, int peer)
{
	static struct proxy p;

	p.c = c;
	p.ssl = c->io.ssl;
	p.peer = peer;
	proxy_progress(&p);
	while (proxy_running(&p)) {
		proxy_pump(&p);
		if (!proxy_running(&p))
			break;
		if (SSL_pending(p.ssl) > 0 && p.c2s_len < sizeof(p.c2s))
			continue;
		proxy_wait(&p);
	}
	if (p.c2s_len > 0 && !p.peer_eof)
		proxy_peer_write(&p);
	close(peer);
	if (p.client_gone)
		SSL_set_quiet_shutdown(p.ssl, 1);
	io_free(&c->io);
	log_info(c->id, "TLS proxy for %s ended (%s)", c->ip, p.end);
	_exit(0);
}
