/*
 * login_conn - what a login program's dialogue asks of the layer: TLS,
 *              the password check, the hand-over (login.h)
 *
 * HAND-OVER  connect to queue_dir/private/NAME and send, with the
 *            descriptor, the hand-over line followed by the client's
 *            pipelined input that this process already read
 *            (proto/login_handover.h), then close that connection. The
 *            token is wiped from this process as soon as it is sent.
 *   plaintext  the descriptor is the client socket: this process exits,
 *              nothing of the login side stays with the session.
 *   TLS        the descriptor is one end of a socketpair; this process
 *              keeps the TLS session and relays (login_proxy.c).
 * If the mailbox side cannot be reached the client gets the protocol's
 * "unavailable" line and the process exits.
 */
#include "login/login.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/authproto.h"
#include "util/log.h"
#include "util/sock.h"

const char *login_conn_esc(struct str *buf, const char *p, size_t n)
{
	str_clear(buf);
	log_escape(buf, p, n, 100);
	return str_c(buf);
}

int login_conn_plaintext_ok(const struct login_conn *c)
{
	return c->tls || c->loopback;
}

int login_conn_starttls(struct login_conn *c)
{
	const char *error;

	if (io_pending(&c->io) > 0)
		log_info(c->id, "STARTTLS: %zu pipelined plaintext bytes from "
			 "%s discarded", io_pending(&c->io), c->ip);
	if (io_tls_server(&c->io, c->lg->tls, &error) < 0) {
		log_info(c->id, "TLS handshake with %s failed: %s", c->ip,
			 error);
		return -1;
	}
	c->tls = 1;
	log_info(c->id, "TLS %s cipher=%s", SSL_get_version(c->io.ssl),
		 SSL_get_cipher_name(c->io.ssl));
	return 0;
}

static _Noreturn void login_handover_fail(struct login_conn *c,
					  const char *why)
{
	log_warn(c->id, "hand-over to the mailbox side (%s) failed: %s",
		 str_c(&c->lg->handover_socket), why);
	io_puts(&c->io, c->lg->proto->unavailable_reply);
	io_flush(&c->io);
	io_free(&c->io);
	_exit(0);
}

/* Send the hand-over message with fd; 0 or -1 (errno). */
static int login_handover_send(struct login_conn *c, int fd)
{
	struct str msg = STR_INIT(0);
	int conn, r;

	if (login_handover_format(&msg, c->token, c->ip, c->tls,
				  c->param) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (str_append(&msg, c->io.rbuf + c->io.rpos, io_pending(&c->io)) < 0)
		log_panic("hand-over message: %s", strerror(errno));
	/* the buffer held the login command: nothing of it stays here */
	explicit_bzero(c->io.rbuf, sizeof(c->io.rbuf));
	c->io.rpos = c->io.rend = 0;
	conn = sock_connect_unix(str_c(&c->lg->handover_socket));
	if (conn < 0) {
		explicit_bzero(msg.s, msg.cap);
		str_free(&msg);
		return -1;
	}
	r = sock_send_fd(conn, fd, msg.s, msg.len);
	if (r == 0 && shutdown(conn, SHUT_WR) < 0)
		r = -1;
	explicit_bzero(msg.s, msg.cap);
	str_free(&msg);
	close(conn);
	return r;
}

_Noreturn void login_conn_handover(struct login_conn *c)
{
	int sp[2], r;

	if (io_flush(&c->io) < 0)
		_exit(0);
	if (c->ac_init) {
		auth_client_free(&c->ac);
		explicit_bzero(&c->ac, sizeof(c->ac));	/* its answer */
		c->ac_init = 0;
	}
	if (!c->tls) {
		r = login_handover_send(c, c->fd);
		explicit_bzero(c->token, sizeof(c->token));
		if (r < 0)
			login_handover_fail(c, strerror(errno));
		io_free(&c->io);
		_exit(0);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		login_handover_fail(c, strerror(errno));
	r = login_handover_send(c, sp[1]);
	explicit_bzero(c->token, sizeof(c->token));
	if (r < 0)
		login_handover_fail(c, strerror(errno));
	close(sp[1]);
	login_proxy_run(c, sp[0]);
}

int login_conn_login(struct login_conn *c, const char *mech,
		     const char *user, const char *password,
		     const char *param)
{
	struct str canon = STR_INIT(AUTHPROTO_ADDRESS_MAX), esc = STR_INIT(0);
	char id[LOGIN_TOKEN_ID_LEN + 1];
	const char *reason = NULL;
	int r;

	if (!c->ac_init) {
		auth_client_init(&c->ac, str_c(&c->lg->auth_socket),
				 c->lg->set.timeout_ms);
		c->ac_init = 1;
	}
	r = auth_login(&c->ac, c->lg->proto->name, c->ip, user, password,
		       &canon, c->token, &reason);
	login_conn_esc(&esc, user, strlen(user));
	if (r == AUTH_OK && param != NULL &&
	    cstr_copy(c->param, sizeof(c->param), param) < 0) {
		explicit_bzero(c->token, sizeof(c->token));
		r = AUTH_TEMPFAIL;
		reason = "hand-over parameter too long";
	}
	if (r == AUTH_OK)
		log_info(c->id, "login: user=%s method=%s ip=%s tls=%d "
			 "token=%s", str_c(&esc), mech, c->ip, c->tls,
			 login_handover_token_id(c->token, id));
	else if (r == AUTH_NO)
		log_info(c->id, "auth failed: user=%s method=%s ip=%s",
			 str_c(&esc), mech, c->ip);
	else
		log_warn(c->id, "auth: user=%s: auth service: %s", str_c(&esc),
			 reason != NULL ? reason : "unavailable");
	str_free(&canon);
	str_free(&esc);
	return r;
}
