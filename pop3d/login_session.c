/*
 * login_session - one POP3 connection before login, in its own process
 *
 * AUTHORIZATION state of RFC 1939: CAPA, USER/PASS, AUTH PLAIN (RFC 5034,
 * initial response allowed, "*" cancels), STLS (RFC 2595), QUIT. Every
 * other command is "-ERR". Replies are flushed only when nothing more is
 * pipelined (RFC 2449 PIPELINING).
 *
 * Plaintext credentials are taken only under TLS or from a loopback
 * client. After "+OK Begin TLS negotiation now." whatever the client sent
 * in plaintext and we have not read is thrown away, and USER is
 * forgotten (STYLE.md 17).
 *
 * The session ends on QUIT, end of input, pop3_login_timeout,
 * pop3_max_bad_commands (failed logins count), a failed TLS handshake,
 * SIGTERM (the handler sets a flag and shuts the socket for reading, so
 * the read returns at once), or a login, which hands the client over
 * (login_proxy.c).
 */
#include "login.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pop3_cmd.h"
#include "daemon/session_server.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/sock.h"
#include "util/tls.h"

volatile sig_atomic_t login_stopping;

static void session_reply(struct login_session *s, const char *text)
{
	if (io_puts(&s->io, text) < 0 || io_puts(&s->io, "\r\n") < 0)
		s->quit = 1;
}

static void session_wipe(struct str *sb)
{
	if (sb->s != NULL)
		explicit_bzero(sb->s, sb->cap);
	str_free(sb);
}

static const char *session_esc(struct str *buf, const char *p, size_t n)
{
	str_clear(buf);
	log_escape(buf, p, n, 100);
	return str_c(buf);
}

static int session_plain_ok(const struct login_session *s)
{
	return s->tls || s->loopback;
}

static void session_capa(struct login_session *s)
{
	session_reply(s, "+OK Capability list follows");
	session_reply(s, "CAPA");
	session_reply(s, "TOP");
	session_reply(s, "UIDL");
	session_reply(s, "RESP-CODES");
	session_reply(s, "PIPELINING");
	session_reply(s, "AUTH-RESP-CODE");
	if (!s->tls && s->lg->tls != NULL)
		session_reply(s, "STLS");
	if (session_plain_ok(s)) {
		session_reply(s, "USER");
		session_reply(s, "SASL PLAIN");
	}
	session_reply(s, "IMPLEMENTATION postern");
	session_reply(s, ".");
}

/* Check the password with postern-auth; hand over on success (no
 * return). 1 if the client erred, 0 for a temporary failure. */
static int session_verify(struct login_session *s, const char *mech,
			  const struct str *user, const struct str *pass)
{
	struct str canon = STR_INIT(POP3_ADDRESS_MAX), esc = STR_INIT(0);
	const char *reason = NULL;
	int r;

	if (!s->ac_init) {
		auth_client_init(&s->ac, str_c(&s->lg->auth_socket),
				 LOGIN_AUTH_TIMEOUT_MS);
		s->ac_init = 1;
	}
	r = auth_verify(&s->ac, "pop3", s->ip, str_c(user), str_c(pass),
			&canon, &reason);
	session_esc(&esc, user->s, user->len);
	if (r == AUTH_OK) {
		log_info(s->id, "login: user=%s method=%s ip=%s tls=%d",
			 str_c(&esc), mech, s->ip, s->tls);
		str_free(&esc);
		login_handover(s, str_c(&canon));
	}
	if (r == AUTH_NO) {
		session_reply(s, "-ERR [AUTH] Authentication failed.");
		log_info(s->id, "auth failed: user=%s method=%s ip=%s",
			 str_c(&esc), mech, s->ip);
	} else {
		session_reply(s, "-ERR [SYS/TEMP] Temporary authentication "
			      "failure, try again later.");
		log_warn(s->id, "auth: user=%s: auth service: %s", str_c(&esc),
			 reason != NULL ? reason : "unavailable");
	}
	str_free(&canon);
	str_free(&esc);
	return r == AUTH_NO;
}

static int session_refuse_plain(struct login_session *s)
{
	session_reply(s, "-ERR [AUTH] Plaintext authentication disallowed "
		      "on non-secure connections.");
	return 1;
}

static int session_user(struct login_session *s, const struct pop3_cmd *c)
{
	if (!session_plain_ok(s))
		return session_refuse_plain(s);
	if (str_set(&s->user, c->arg, c->arg_len) < 0)
		log_panic("USER: cannot copy");
	session_reply(s, "+OK");
	return 0;
}

static int session_pass(struct login_session *s, const struct pop3_cmd *c)
{
	struct str pass = STR_INIT(0);
	int r;

	if (!session_plain_ok(s))
		return session_refuse_plain(s);
	if (s->user.len == 0) {
		session_reply(s, "-ERR No username given.");
		return 1;
	}
	if (str_set(&pass, c->arg, c->arg_len) < 0)
		log_panic("PASS: cannot copy");
	r = session_verify(s, "USER", &s->user, &pass);
	session_wipe(&pass);
	str_clear(&s->user);
	return r;
}

/* Read the client's answer to "+ ": decoded into out. 0; 1 cancelled or
 * bad (reply sent); -1 session lost. */
static int session_sasl_read(struct login_session *s, struct str *out)
{
	struct str line = STR_INIT(0);
	size_t len;
	int r;

	session_reply(s, "+ ");
	if (io_flush(&s->io) < 0)
		return -1;
	r = io_read_line(&s->io, &line, POP3_AUTH_LINE_MAX);
	if (r == IO_TOOLONG) {
		session_reply(s, "-ERR Authentication line too long.");
		session_wipe(&line);
		return 1;
	}
	if (r != IO_OK || login_stopping) {
		session_wipe(&line);
		return -1;
	}
	len = line.len;
	while (len > 0 && (line.s[len - 1] == '\n' || line.s[len - 1] == '\r'))
		len--;
	r = 0;
	if (len == 1 && line.s[0] == '*') {
		session_reply(s, "-ERR Authentication cancelled.");
		r = 1;
	} else if (base64_decode(out, line.s, len) < 0) {
		session_reply(s, "-ERR Invalid base64 data.");
		r = 1;
	}
	session_wipe(&line);
	return r;
}

/* authzid NUL authcid NUL password (RFC 4616); authzid empty or the
 * same as authcid. */
static int sasl_plain_split(const struct str *msg, struct str *user,
			    struct str *pass)
{
	const char *p = msg->s != NULL ? msg->s : "";
	const char *z1 = memchr(p, '\0', msg->len), *z2;
	size_t zl;

	if (z1 == NULL)
		return -1;
	z2 = memchr(z1 + 1, '\0', msg->len - (size_t)(z1 + 1 - p));
	if (z2 == NULL || memchr(z2 + 1, '\0', msg->len -
				 (size_t)(z2 + 1 - p)) != NULL)
		return -1;
	zl = (size_t)(z1 - p);
	if (zl != 0 && (zl != (size_t)(z2 - z1 - 1) ||
			memcmp(p, z1 + 1, zl) != 0))
		return -1;
	if (str_set(user, z1 + 1, (size_t)(z2 - z1 - 1)) < 0 ||
	    str_set(pass, z2 + 1, msg->len - (size_t)(z2 + 1 - p)) < 0)
		return -1;
	return 0;
}

static int session_auth(struct login_session *s, const struct pop3_cmd *c)
{
	struct str msg = STR_INIT(0), user = STR_INIT(0), pass = STR_INIT(0);
	int r = 0;

	if (c->mech[0] == '\0') {
		session_reply(s, "+OK");
		if (session_plain_ok(s))
			session_reply(s, "PLAIN");
		session_reply(s, ".");
		return 0;
	}
	if (!session_plain_ok(s))
		return session_refuse_plain(s);
	if (strcmp(c->mech, "PLAIN") != 0) {
		session_reply(s, "-ERR Unsupported authentication mechanism.");
		return 1;
	}
	if (c->ir == NULL)
		r = session_sasl_read(s, &msg);
	else if (!(c->ir_len == 1 && c->ir[0] == '=') &&
		 base64_decode(&msg, c->ir, c->ir_len) < 0) {
		session_reply(s, "-ERR Invalid base64 data.");
		r = 1;
	}
	if (r < 0) {
		s->quit = 1;
	} else if (r == 0 && sasl_plain_split(&msg, &user, &pass) < 0) {
		session_reply(s, "-ERR [AUTH] Authentication failed.");
		r = 1;
	} else if (r == 0) {
		r = session_verify(s, "PLAIN", &user, &pass);
	}
	session_wipe(&msg);
	session_wipe(&user);
	session_wipe(&pass);
	return r > 0;
}

static int session_stls(struct login_session *s)
{
	const char *error;

	if (s->tls) {
		session_reply(s, "-ERR TLS is already active.");
		return 1;
	}
	if (s->lg->tls == NULL) {
		session_reply(s, "-ERR TLS support is not enabled.");
		return 1;
	}
	session_reply(s, "+OK Begin TLS negotiation now.");
	if (io_pending(&s->io) > 0)
		log_info(s->id, "STLS: %zu pipelined plaintext bytes from %s "
			 "discarded", io_pending(&s->io), s->ip);
	if (io_tls_server(&s->io, s->lg->tls, &error) < 0) {
		log_info(s->id, "TLS handshake with %s failed: %s", s->ip,
			 error);
		s->quit = 1;
		return 0;
	}
	s->tls = 1;
	str_clear(&s->user);
	log_info(s->id, "TLS %s cipher=%s", SSL_get_version(s->io.ssl),
		 SSL_get_cipher_name(s->io.ssl));
	return 0;
}

/* Run one parsed command; 1 if it counts as a bad command. */
static int session_dispatch(struct login_session *s, const struct pop3_cmd *c)
{
	switch (c->kind) {
	case POP3_CAPA:
		session_capa(s);
		return 0;
	case POP3_USER:
		return session_user(s, c);
	case POP3_PASS:
		return session_pass(s, c);
	case POP3_AUTH:
		return session_auth(s, c);
	case POP3_STLS:
		return session_stls(s);
	case POP3_QUIT:
		session_server_ending();
		session_reply(s, "+OK Logging out.");
		s->quit = 1;
		return 0;
	case POP3_APOP:
		session_reply(s, "-ERR APOP is not supported.");
		return 1;
	default:
		session_reply(s, "-ERR Unknown command.");
		return 1;
	}
}

/* Read, parse and run one command line. */
static void session_command(struct login_session *s, struct str *line)
{
	struct pop3_cmd cmd;
	const char *error;
	int r = io_read_line(&s->io, line, POP3_AUTH_LINE_MAX);

	if (login_stopping) {
		session_reply(s, "-ERR Server shutting down.");
		s->quit = 1;
		return;
	}
	if (r == IO_TIMEOUT)
		session_reply(s, "-ERR Disconnected for inactivity.");
	if (r == IO_EOF || r == IO_TIMEOUT || r == IO_ERR) {
		s->quit = 1;
		return;
	}
	if (r == IO_TOOLONG || (line->len > POP3_LINE_MAX &&
				!cstr_case_prefix(str_c(line), "AUTH "))) {
		session_reply(s, "-ERR Line too long.");
		s->bad++;
	} else if (pop3_cmd_parse(line->s, line->len, &cmd, &error) < 0) {
		if (io_puts(&s->io, "-ERR ") < 0)
			s->quit = 1;
		session_reply(s, error);
		s->bad++;
	} else {
		s->bad += (unsigned)session_dispatch(s, &cmd);
	}
	if (s->bad >= s->lg->bad_max && !s->quit) {
		session_reply(s, "-ERR Too many bad commands.");
		s->quit = 1;
	}
}

static int ip_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

static void session_init(struct login_session *s, struct login *lg, int fd,
			 const char *ip)
{
	struct timespec ts;

	memset(s, 0, sizeof(*s));
	s->lg = lg;
	s->fd = fd;
	if (cstr_copy(s->ip, sizeof(s->ip), ip) < 0)
		log_panic("client address too long");
	s->loopback = ip_is_loopback(ip);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->id, sizeof(s->id), "%lx%05lx", (unsigned long)ts.tv_sec,
		 (unsigned long)getpid() & 0xfffff);
	str_init(&s->user, POP3_ADDRESS_MAX);
	io_init(&s->io, fd, lg->timeout_ms);
	session_stop_on(SIGTERM, &login_stopping, fd);
	session_stop_on(SIGINT, &login_stopping, fd);
}

_Noreturn void login_session_run(struct login *lg, int fd, const char *ip)
{
	struct login_session s;
	struct str line = STR_INIT(0);
	const char *error;

	session_init(&s, lg, fd, ip);
	if (sock_nodelay(fd) < 0)	/* kept by the socket after hand-over */
		log_warn(s.id, "TCP_NODELAY: %s", strerror(errno));
	log_info(s.id, "connect from %s", ip);
	if (lg->implicit_tls) {
		if (io_tls_server(&s.io, lg->tls, &error) < 0) {
			log_info(s.id, "TLS handshake with %s failed: %s", ip,
				 error);
			_exit(0);
		}
		s.tls = 1;
	}
	session_reply(&s, "+OK postern ready.");
	while (!s.quit) {
		if (io_pending(&s.io) == 0 && io_flush(&s.io) < 0)
			break;
		session_command(&s, &line);
	}
	io_flush(&s.io);
	log_info(s.id, "disconnect from %s: no login, bad=%u", ip, s.bad);
	session_wipe(&line);
	if (s.ac_init)
		auth_client_free(&s.ac);
	io_free(&s.io);
	_exit(0);
}
