/*
 * login_proxy - handing a logged-in client to postern-pop3, and the TLS
 *               proxy that stays behind for TLS sessions
 *
 * HAND-OVER  connect to queue_dir/private/pop3 and send, with the
 *            descriptor, "LOGIN\taddress\tip\ttls\n" followed by the
 *            client's pipelined input that this process already read
 *            (pop3_handover.h), then close that connection.
 *   plaintext  the descriptor is the client socket: this process exits,
 *              nothing of the login side stays with the session.
 *   TLS        the descriptor is one end of a socketpair; this process
 *              keeps the TLS session and relays bytes both ways.
 * PROXY      one poll() loop; each direction has one buffer of
 *            PROXY_BUF bytes, so a side that does not read stops the
 *            other from being read (no unbounded memory). TLS records the
 *            library holds decrypted are drained before polling again. The
 *            proxy ends when either side closes or fails; postern-pop3
 *            applies the idle timeout, and its end closes the socketpair.
 */
#include "login.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sock.h"

#define PROXY_BUF 16384
#define PROXY_SLICE_MS 1000

struct proxy {
	struct login_session *s;
	int peer;			/* our end of the socketpair */
	char c2s[PROXY_BUF];		/* client -> postern-pop3 */
	size_t c2s_len;
	char s2c[PROXY_BUF];		/* postern-pop3 -> client */
	size_t s2c_len;
	int client_eof, peer_eof;
};

static _Noreturn void handover_fail(struct login_session *s, const char *why)
{
	log_warn(s->id, "hand-over to postern-pop3 failed: %s", why);
	io_puts(&s->io, "-ERR [SYS/TEMP] Mailbox service unavailable, try "
		"again later.\r\n");
	io_flush(&s->io);
	io_free(&s->io);
	_exit(0);
}

/* Send the hand-over message with fd; 0 or -1 (errno). */
static int handover_send(struct login_session *s, const char *address,
			 int fd)
{
	struct str msg = STR_INIT(0);
	int conn, r;

	if (pop3_handover_format(&msg, address, s->ip, s->tls) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (str_append(&msg, s->io.rbuf + s->io.rpos, io_pending(&s->io)) < 0)
		log_panic("hand-over message: %s", strerror(errno));
	s->io.rpos = s->io.rend = 0;
	conn = sock_connect_unix(str_c(&s->lg->pop3_socket));
	if (conn < 0) {
		str_free(&msg);
		return -1;
	}
	r = sock_send_fd(conn, fd, msg.s, msg.len);
	if (r == 0 && shutdown(conn, SHUT_WR) < 0)
		r = -1;
	str_free(&msg);
	close(conn);
	return r;
}

/* Fill the client -> peer buffer from the TLS session. */
static void proxy_from_client(struct proxy *p)
{
	size_t got = 0;
	int r;

	if (p->c2s_len == sizeof(p->c2s) || p->client_eof)
		return;
	r = io_read(&p->s->io, p->c2s + p->c2s_len,
		    sizeof(p->c2s) - p->c2s_len, &got);
	if (r == IO_OK)
		p->c2s_len += got;
	else if (r != IO_TIMEOUT)
		p->client_eof = 1;
}

static void proxy_to_peer(struct proxy *p)
{
	ssize_t n = send(p->peer, p->c2s, p->c2s_len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n > 0) {
		memmove(p->c2s, p->c2s + n, p->c2s_len - (size_t)n);
		p->c2s_len -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		p->peer_eof = 1;
	}
}

/* Read from postern-pop3 and write it to the client (flushed under the
 * io's deadline). */
static void proxy_from_peer(struct proxy *p)
{
	ssize_t n = recv(p->peer, p->s2c, sizeof(p->s2c), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		p->peer_eof = 1;
		return;
	}
	if (n < 0)
		return;
	if (io_write(&p->s->io, p->s2c, (size_t)n) < 0 ||
	    io_flush(&p->s->io) < 0)
		p->client_eof = 1;
}

static void proxy_poll(struct proxy *p)
{
	struct pollfd pfd[2];

	if (p->s->io.ssl != NULL && SSL_pending(p->s->io.ssl) > 0 &&
	    p->c2s_len < sizeof(p->c2s)) {
		proxy_from_client(p);
		return;
	}
	pfd[0] = (struct pollfd){ .fd = p->s->fd,
		.events = p->c2s_len < sizeof(p->c2s) ? POLLIN : 0 };
	pfd[1] = (struct pollfd){ .fd = p->peer,
		.events = (short)(POLLIN | (p->c2s_len > 0 ? POLLOUT : 0)) };
	if (poll(pfd, 2, -1) < 0) {
		if (errno != EINTR)
			p->peer_eof = 1;
		return;
	}
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		proxy_from_client(p);
	if (pfd[1].revents & POLLOUT)
		proxy_to_peer(p);
	if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
		proxy_from_peer(p);
}

static _Noreturn void proxy_run(struct login_session *s, int peer)
{
	static struct proxy p;

	p.s = s;
	p.peer = peer;
	s->io.timeout_ms = PROXY_SLICE_MS;
	while (!p.client_eof && !p.peer_eof && !login_stopping)
		proxy_poll(&p);
	if (p.c2s_len > 0 && !p.peer_eof)
		proxy_to_peer(&p);
	close(peer);
	io_free(&s->io);
	log_info(s->id, "TLS proxy for %s ended (%s)", s->ip,
		 login_stopping ? "shutdown" : p.client_eof ? "client closed"
		 : "session ended");
	_exit(0);
}

_Noreturn void login_handover(struct login_session *s, const char *address)
{
	int sp[2];

	if (io_flush(&s->io) < 0)
		_exit(0);
	if (s->ac_init) {
		auth_client_free(&s->ac);
		s->ac_init = 0;
	}
	if (!s->tls) {
		if (handover_send(s, address, s->fd) < 0)
			handover_fail(s, strerror(errno));
		io_free(&s->io);
		_exit(0);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		handover_fail(s, strerror(errno));
	if (handover_send(s, address, sp[1]) < 0)
		handover_fail(s, strerror(errno));
	close(sp[1]);
	proxy_run(s, sp[0]);
}
