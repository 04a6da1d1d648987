/*
 * login_session - POP3 before login: the dialogue of one connection, in
 *                 its own process (login/login.h runs it)
 *
 * AUTHORIZATION state of RFC 1939: CAPA, USER/PASS, AUTH (RFC 5034) with
 * the mechanisms of mail/sasl.h (PLAIN, LOGIN; an initial response
 * allowed, "=" empty, "*" cancels), STLS (RFC 2595), QUIT. Every other
 * command is "-ERR". Replies are flushed only when nothing more is
 * pipelined (RFC 2449 PIPELINING).
 *
 * Plaintext credentials are taken only under TLS or from a loopback
 * client. After "+OK Begin TLS negotiation now." whatever the client sent
 * in plaintext and we have not read is thrown away, and USER is
 * forgotten (STYLE.md 17).
 *
 * The session ends on QUIT, end of input, pop3_login_timeout,
 * pop3_max_bad_commands (failed logins count), a failed TLS handshake,
 * SIGTERM, or a login, after which the layer hands the client over to
 * postern-pop3 (login/login.h, LOGIN).
 */
#include "login.h"

#include <string.h>

#include "pop3_cmd.h"
#include "mail/sasl.h"
#include "proto/authproto.h"
#include "daemon/session_server.h"
#include "util/log.h"

struct pop3_login_session {
	struct login_conn *c;
	const struct pop3_login *set;
	struct str user;		/* from USER */
	int quit;
};

static void session_reply(struct pop3_login_session *s, const char *text)
{
	if (io_puts(&s->c->io, text) < 0 || io_puts(&s->c->io, "\r\n") < 0)
		s->quit = 1;
}

static void session_wipe(struct str *sb)
{
	if (sb->s != NULL)
		explicit_bzero(sb->s, sb->cap);
	str_free(sb);
}

static void session_capa(struct pop3_login_session *s)
{
	struct login_conn *c = s->c;
	struct str sasl = STR_INIT(0);

	session_reply(s, "+OK Capability list follows");
	session_reply(s, "CAPA");
	session_reply(s, "TOP");
	session_reply(s, "UIDL");
	session_reply(s, "RESP-CODES");
	session_reply(s, "PIPELINING");
	session_reply(s, "AUTH-RESP-CODE");
	if (!c->tls && c->lg->tls != NULL)
		session_reply(s, "STLS");
	if (login_conn_plaintext_ok(c)) {
		session_reply(s, "USER");
		str_appendf(&sasl, "SASL %s", sasl_mechanisms());
		session_reply(s, str_c(&sasl));
	}
	session_reply(s, "IMPLEMENTATION postern");
	session_reply(s, ".");
	str_free(&sasl);
}

/* Check the password. Logged in: the session ends here without a word
 * (postern-pop3 answers "+OK Logged in."; the layer hands the client
 * over once run() has returned and wiped what it held). Otherwise the
 * reply; 1 if the client erred, 0 for a temporary failure. */
static int session_login(struct pop3_login_session *s, const char *mech,
			 const char *user, const char *pass)
{
	int r = login_conn_login(s->c, mech, user, pass, NULL);

	if (r == AUTH_OK) {
		s->quit = 1;
		return 0;
	}
	if (r == AUTH_NO)
		session_reply(s, "-ERR [AUTH] Authentication failed.");
	else
		session_reply(s, "-ERR [SYS/TEMP] Temporary authentication "
			      "failure, try again later.");
	return r == AUTH_NO;
}

static int session_refuse_plain(struct pop3_login_session *s)
{
	session_reply(s, "-ERR [AUTH] Plaintext authentication disallowed "
		      "on non-secure connections.");
	return 1;
}

static int session_user(struct pop3_login_session *s,
			const struct pop3_cmd *cmd)
{
	if (!login_conn_plaintext_ok(s->c))
		return session_refuse_plain(s);
	if (str_set(&s->user, cmd->arg, cmd->arg_len) < 0)
		log_panic("USER: cannot copy");
	session_reply(s, "+OK");
	return 0;
}

static int session_pass(struct pop3_login_session *s,
			const struct pop3_cmd *cmd)
{
	struct str pass = STR_INIT(0);
	int r;

	if (!login_conn_plaintext_ok(s->c))
		return session_refuse_plain(s);
	if (s->user.len == 0) {
		session_reply(s, "-ERR No username given.");
		return 1;
	}
	if (str_set(&pass, cmd->arg, cmd->arg_len) < 0)
		log_panic("PASS: cannot copy");
	r = session_login(s, "USER", str_c(&s->user), str_c(&pass));
	session_wipe(&pass);
	str_clear(&s->user);
	return r;
}

/* Send "+ challenge" and take the answer. A sasl result, or -10 for a
 * line too long (reply sent), -11 when the session is lost. */
static int session_sasl_ask(struct pop3_login_session *s, struct sasl *sa)
{
	struct str line = STR_INIT(0);
	int r;

	if (io_puts(&s->c->io, "+ ") < 0 ||
	    io_puts(&s->c->io, sa->challenge) < 0 ||
	    io_puts(&s->c->io, "\r\n") < 0 || io_flush(&s->c->io) < 0)
		return -11;
	if (str_reserve(&line, POP3_AUTH_LINE_MAX) < 0)	/* never moved */
		log_panic("AUTH line buffer: out of memory");
	r = io_read_line(&s->c->io, &line, POP3_AUTH_LINE_MAX);
	if (r == IO_TOOLONG) {
		session_reply(s, "-ERR Authentication line too long.");
		session_wipe(&line);
		return -10;
	}
	if (r != IO_OK || login_stopping) {
		session_wipe(&line);
		return -11;
	}
	r = sasl_step(sa, line.s, line.len);
	session_wipe(&line);
	return r;
}

/* The SASL exchange to its end: 0 credentials in sa, 1 the client erred
 * (reply sent), -1 the session is lost. */
static int session_sasl(struct pop3_login_session *s,
			const struct pop3_cmd *cmd, struct sasl *sa)
{
	int r = sasl_start(sa, cmd->mech, cmd->ir, cmd->ir_len);

	while (r == SASL_CONTINUE)
		r = session_sasl_ask(s, sa);
	switch (r) {
	case SASL_DONE:
		return 0;
	case SASL_CANCELLED:
		session_reply(s, "-ERR Authentication cancelled.");
		return 1;
	case SASL_BAD_BASE64:
		session_reply(s, "-ERR Invalid base64 data.");
		return 1;
	case -10:
		return 1;
	case -11:
		return -1;
	default:
		session_reply(s, "-ERR [AUTH] Authentication failed.");
		return 1;
	}
}

/* "AUTH" alone: the mechanisms, one per line (RFC 5034 section 6). */
static void session_auth_list(struct pop3_login_session *s)
{
	const char *m = sasl_mechanisms();

	session_reply(s, "+OK");
	while (login_conn_plaintext_ok(s->c) && *m != '\0') {
		size_t n = strcspn(m, " ");

		if (io_write(&s->c->io, m, n) < 0 ||
		    io_puts(&s->c->io, "\r\n") < 0)
			s->quit = 1;
		m += n + (m[n] == ' ');
	}
	session_reply(s, ".");
}

static int session_auth(struct pop3_login_session *s,
			const struct pop3_cmd *cmd)
{
	struct sasl sa;
	int r;

	if (cmd->mech[0] == '\0') {
		session_auth_list(s);
		return 0;
	}
	if (!login_conn_plaintext_ok(s->c))
		return session_refuse_plain(s);
	if (!sasl_mech_known(cmd->mech)) {
		session_reply(s, "-ERR Unsupported authentication mechanism.");
		return 1;
	}
	r = session_sasl(s, cmd, &sa);
	if (r == 0)
		r = session_login(s, cmd->mech, sa.user, sa.pass);
	else if (r < 0)
		s->quit = 1;
	sasl_free(&sa);
	return r > 0;
}

static int session_stls(struct pop3_login_session *s)
{
	struct login_conn *c = s->c;

	if (c->tls) {
		session_reply(s, "-ERR TLS is already active.");
		return 1;
	}
	if (c->lg->tls == NULL) {
		session_reply(s, "-ERR TLS support is not enabled.");
		return 1;
	}
	session_reply(s, "+OK Begin TLS negotiation now.");
	if (login_conn_starttls(c) < 0) {
		s->quit = 1;
		return 0;
	}
	str_clear(&s->user);
	return 0;
}

/* Run one parsed command; 1 if it counts as a bad command. */
static int session_dispatch(struct pop3_login_session *s,
			    const struct pop3_cmd *cmd)
{
	switch (cmd->kind) {
	case POP3_CAPA:
		session_capa(s);
		return 0;
	case POP3_USER:
		return session_user(s, cmd);
	case POP3_PASS:
		return session_pass(s, cmd);
	case POP3_AUTH:
		return session_auth(s, cmd);
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
static void session_command(struct pop3_login_session *s, struct str *line)
{
	struct login_conn *c = s->c;
	struct pop3_cmd cmd;
	const char *error;
	int r = io_read_line(&c->io, line, POP3_AUTH_LINE_MAX);

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
		c->bad++;
	} else if (pop3_cmd_parse(line->s, line->len, &cmd, &error) < 0) {
		if (io_puts(&c->io, "-ERR ") < 0)
			s->quit = 1;
		session_reply(s, error);
		c->bad++;
	} else {
		c->bad += (unsigned)session_dispatch(s, &cmd);
	}
	if (c->bad >= s->set->bad_max && !s->quit) {
		session_reply(s, "-ERR Too many bad commands.");
		s->quit = 1;
	}
}

static void pop3_login_run(struct login_conn *c)
{
	struct pop3_login_session s;
	struct str line = STR_INIT(0);

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.set = c->lg->proto_arg;
	str_init(&s.user, AUTHPROTO_ADDRESS_MAX);
	session_reply(&s, "+OK postern ready.");
	while (!s.quit) {
		if (io_pending(&c->io) == 0 && io_flush(&c->io) < 0)
			break;
		session_command(&s, &line);
	}
	session_wipe(&line);
	session_wipe(&s.user);
}

const struct login_protocol pop3_login_protocol = {
	.name = "pop3",
	.busy_reply = "-ERR [SYS/TEMP] Too busy, try again later.\r\n",
	.busy_why = "pop3_process_limit reached",
	.client_reply = "-ERR [SYS/TEMP] Too many connections from your "
			"address, try again later.\r\n",
	.client_why = "pop3_client_connection_limit reached",
	.unavailable_reply = "-ERR [SYS/TEMP] Mailbox service unavailable, "
			     "try again later.\r\n",
	.run = pop3_login_run,
};
