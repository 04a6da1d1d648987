/*
 * imap_login - IMAP before login: the dialogue of one connection, in its
 *              own process (login/login.h runs it)
 *
 * The not-authenticated state of RFC 9051 (and RFC 3501): CAPABILITY,
 * NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE with the mechanisms of
 * mail/sasl.h (PLAIN, LOGIN; SASL-IR, RFC 4959: "=" is an empty initial
 * response; "*" cancels), ID (RFC 2971: the client's fields logged,
 * escaped). ENABLE and the commands of later states are BAD here, as is
 * anything unknown or malformed. Commands are read whole, literals
 * included (imap_login_cmd.h): "+ " is sent for a synchronizing literal,
 * none for LITERAL+ ("{N+}"). Replies are flushed only when nothing more
 * is pipelined.
 *
 * Plaintext credentials are taken only under TLS or from a loopback
 * client: elsewhere CAPABILITY says LOGINDISABLED instead of AUTH=, and
 * LOGIN and AUTHENTICATE get "NO [PRIVACYREQUIRED]". After "OK Begin TLS
 * negotiation now." whatever the client pipelined in plaintext is thrown
 * away (STYLE.md 17).
 *
 * A right password ends the dialogue without a word: postern-imap answers
 * the command (its tag travels in the hand-over, imap_handover.h). A wrong
 * one is "NO [AUTHENTICATIONFAILED]" (postern-auth has delayed it), a
 * temporary failure "NO [UNAVAILABLE]".
 *
 * The session ends on LOGOUT, end of input, imap_login_timeout for a
 * command, imap_max_bad_commands (BAD replies and failed logins count;
 * "* BYE Too many invalid commands."), a non-synchronizing literal over
 * the command limit, a failed TLS handshake, SIGTERM, or a login.
 */
#include "login.h"

#include <string.h>

#include "imap_handover.h"
#include "imap_login_cmd.h"
#include "mail/sasl.h"
#include "daemon/session_server.h"
#include "util/log.h"

struct imap_login_session {
	struct login_conn *c;
	const struct imap_login *set;
	struct str in;			/* the command as read, literals too */
	struct str line;		/* one line of it */
	struct str tag;			/* for the replies: the tag, or "*" */
	struct imap_login_cmd cmd;
	unsigned flags;			/* IMAP_HANDOVER_*: the hand-over's */
	int quit;
};

static void session_write(struct imap_login_session *s, const char *p,
			  size_t n)
{
	if (io_write(&s->c->io, p, n) < 0)
		s->quit = 1;
}

static void session_untagged(struct imap_login_session *s, const char *text)
{
	session_write(s, "* ", 2);
	session_write(s, text, strlen(text));
	session_write(s, "\r\n", 2);
}

/* "TAG STATUS text" (the tag of the command being answered, or "*"). */
static void session_tagged(struct imap_login_session *s, const char *status,
			   const char *text)
{
	session_write(s, s->tag.s, s->tag.len);
	session_write(s, " ", 1);
	session_write(s, status, strlen(status));
	session_write(s, " ", 1);
	session_write(s, text, strlen(text));
	session_write(s, "\r\n", 2);
}

/* A BAD reply: it counts against imap_max_bad_commands. */
static void session_bad(struct imap_login_session *s, const char *text)
{
	session_tagged(s, "BAD", text);
	s->c->bad++;
}

static void session_wipe(struct str *sb)
{
	if (sb->s != NULL)
		explicit_bzero(sb->s, sb->cap);
	str_clear(sb);
}

/* The capabilities before login, for the greeting and CAPABILITY. */
static void session_capabilities(struct imap_login_session *s,
				 struct str *out)
{
	struct login_conn *c = s->c;
	const char *m = sasl_mechanisms();

	str_appends(out, "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE "
		    "IDLE");
	if (!c->tls && c->lg->tls != NULL)
		str_appends(out, " STARTTLS");
	if (!login_conn_plaintext_ok(c)) {
		str_appends(out, " LOGINDISABLED");
		return;
	}
	while (*m != '\0') {
		size_t n = strcspn(m, " ");

		str_appendf(out, " AUTH=%.*s", (int)n, m);
		m += n + (m[n] == ' ');
	}
}

static void session_greeting(struct imap_login_session *s)
{
	struct str text = STR_INIT(0);

	str_appends(&text, "OK [CAPABILITY ");
	session_capabilities(s, &text);
	str_appends(&text, "] postern ready.");
	session_untagged(s, str_c(&text));
	str_free(&text);
}

static void session_capability(struct imap_login_session *s)
{
	struct str text = STR_INIT(0);

	str_appends(&text, "CAPABILITY ");
	session_capabilities(s, &text);
	session_untagged(s, str_c(&text));
	session_tagged(s, "OK", "Capability completed.");
	str_free(&text);
}

/* RFC 2971: log what the client says it is ("id: name=Thunderbird,
 * version=115.0", each escaped, the log keeps no quotes), answer with our
 * name. */
static void session_id(struct imap_login_session *s)
{
	const struct imap_login_cmd *cmd = &s->cmd;
	struct str text = STR_INIT(0), esc = STR_INIT(0);

	for (unsigned k = 1; k + 1 < cmd->nargs; k += 2) {
		const struct imap_login_arg *v = &cmd->arg[k + 1];

		str_appendf(&text, "%s%s=", k > 1 ? ", " : "",
			    login_conn_esc(&esc, cmd->arg[k].s,
					   cmd->arg[k].len));
		if (v->type == IMAP_ARG_ATOM)		/* NIL */
			str_appends(&text, "NIL");
		else
			str_appends(&text, login_conn_esc(&esc, v->s, v->len));
	}
	log_info(s->c->id, "id: %s", cmd->nargs > 1 ? str_c(&text) : "NIL");
	s->flags |= IMAP_HANDOVER_ID;
	session_untagged(s, "ID (\"name\" \"postern\")");
	session_tagged(s, "OK", "ID completed.");
	str_free(&text);
	str_free(&esc);
}

static void session_starttls(struct imap_login_session *s)
{
	struct login_conn *c = s->c;

	if (c->tls) {
		session_bad(s, "TLS is already active.");
		return;
	}
	if (c->lg->tls == NULL) {
		session_bad(s, "TLS support is not enabled.");
		return;
	}
	session_tagged(s, "OK", "Begin TLS negotiation now.");
	if (login_conn_starttls(c) < 0)
		s->quit = 1;
}

/* Whether a login may go on: plaintext allowed here, a tag that fits the
 * hand-over. Otherwise the reply is sent and counted. */
static int session_may_login(struct imap_login_session *s,
			     struct str *param)
{
	if (!login_conn_plaintext_ok(s->c)) {
		session_tagged(s, "NO", "[PRIVACYREQUIRED] Plaintext "
			       "authentication disallowed on non-secure "
			       "connections.");
		s->c->bad++;
		return 0;
	}
	if (imap_handover_format(param, s->cmd.tag, s->cmd.tag_len,
				 s->flags) < 0) {
		session_bad(s, "Tag too long to log in with.");
		return 0;
	}
	return 1;
}

/* Check the password. Logged in: the dialogue ends here without a word
 * (postern-imap answers the tag; the layer hands the client over once
 * run() has returned and wiped what it held). */
static void session_check(struct imap_login_session *s, const char *mech,
			  const char *user, const char *pass,
			  const struct str *param)
{
	int r = login_conn_login(s->c, mech, user, pass, str_c(param));

	if (r == AUTH_OK) {
		s->quit = 1;
	} else if (r == AUTH_NO) {
		session_tagged(s, "NO", "[AUTHENTICATIONFAILED] "
			       "Authentication failed.");
		s->c->bad++;
	} else {
		session_tagged(s, "NO", "[UNAVAILABLE] Temporary "
			       "authentication failure, try again later.");
	}
}

static void session_login(struct imap_login_session *s)
{
	struct str param = STR_INIT(LOGIN_HANDOVER_PARAM_MAX);

	if (session_may_login(s, &param))
		session_check(s, "LOGIN", s->cmd.arg[0].s, s->cmd.arg[1].s,
			      &param);
	str_free(&param);
}

/* Send "+ challenge" and take the answer line: a sasl result, or -10 for
 * a line too long (reply sent), -11 when the session is lost. */
static int session_sasl_ask(struct imap_login_session *s, struct sasl *sa)
{
	struct io *io = &s->c->io;
	int r;

	if (io_puts(io, "+ ") < 0 || io_puts(io, sa->challenge) < 0 ||
	    io_puts(io, "\r\n") < 0 || io_flush(io) < 0)
		return -11;
	r = io_read_line(io, &s->line, IMAP_LOGIN_CMD_MAX);
	if (r == IO_TOOLONG) {
		session_bad(s, "Authentication line too long.");
		return -10;
	}
	if (r != IO_OK || login_stopping || s->line.len == 0 ||
	    s->line.s[s->line.len - 1] != '\n')
		return -11;
	r = sasl_step(sa, s->line.s, s->line.len);
	session_wipe(&s->line);
	return r;
}

/* The SASL exchange to its end: 0 credentials in sa, 1 the client erred
 * (reply sent), -1 the session is lost. */
static int session_sasl(struct imap_login_session *s, struct sasl *sa)
{
	const struct imap_login_cmd *cmd = &s->cmd;
	const char *ir = cmd->nargs > 1 ? cmd->arg[1].s : NULL;
	int r = sasl_start(sa, cmd->arg[0].s, ir, ir ? cmd->arg[1].len : 0);

	while (r == SASL_CONTINUE)
		r = session_sasl_ask(s, sa);
	switch (r) {
	case SASL_DONE:
		return 0;
	case SASL_CANCELLED:
		session_bad(s, "Authentication cancelled.");
		return 1;
	case SASL_BAD_BASE64:
		session_bad(s, "Invalid base64 data.");
		return 1;
	case -10:
		return 1;
	case -11:
		return -1;
	default:
		session_tagged(s, "NO", "[AUTHENTICATIONFAILED] "
			       "Authentication failed.");
		s->c->bad++;
		return 1;
	}
}

static void session_authenticate(struct imap_login_session *s)
{
	struct str param = STR_INIT(LOGIN_HANDOVER_PARAM_MAX);
	const char *mech = s->cmd.arg[0].s;
	char name[SASL_MECH_MAX + 1];
	struct sasl sa;
	int r;

	if (!session_may_login(s, &param)) {
		str_free(&param);
		return;
	}
	if (!sasl_mech_known(mech) || cstr_copy(name, sizeof(name), mech) < 0) {
		session_tagged(s, "NO", "Unsupported authentication "
			       "mechanism.");
		s->c->bad++;
		str_free(&param);
		return;
	}
	for (char *p = name; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r = session_sasl(s, &sa);
	if (r == 0)
		session_check(s, name, sa.user, sa.pass, &param);
	else if (r < 0)
		s->quit = 1;
	sasl_free(&sa);
	str_free(&param);
}

static void session_logout(struct imap_login_session *s)
{
	session_server_ending();
	session_untagged(s, "BYE Logging out.");
	session_tagged(s, "OK", "Logout completed.");
	s->quit = 1;
}

static void session_dispatch(struct imap_login_session *s)
{
	switch (s->cmd.verb) {
	case IMAP_LOGIN_CAPABILITY:
		session_capability(s);
		break;
	case IMAP_LOGIN_NOOP:
		session_tagged(s, "OK", "NOOP completed.");
		break;
	case IMAP_LOGIN_LOGOUT:
		session_logout(s);
		break;
	case IMAP_LOGIN_STARTTLS:
		session_starttls(s);
		break;
	case IMAP_LOGIN_LOGIN:
		session_login(s);
		break;
	case IMAP_LOGIN_AUTHENTICATE:
		session_authenticate(s);
		break;
	case IMAP_LOGIN_ID:
		session_id(s);
		break;
	case IMAP_LOGIN_ENABLE:
		session_bad(s, "ENABLE is only valid after login.");
		break;
	case IMAP_LOGIN_LATER:
		session_bad(s, "Log in first.");
		break;
	default:
		session_bad(s, "Unknown command.");
		break;
	}
}

/* The tag of what was read so far, for a reply before the parse. */
static void session_set_tag(struct imap_login_session *s, const char *p,
			    size_t n)
{
	size_t k = imap_login_cmd_tag(p, n);

	if (k == 0)
		str_sets(&s->tag, "*");
	else
		str_set(&s->tag, p, k);
}

/* Read the literal of size bytes announced at the end of s->in. 0, or -1
 * the session is lost. */
static int session_literal(struct imap_login_session *s, size_t size,
			   int sync)
{
	struct io *io = &s->c->io;
	char chunk[1024];
	size_t got;
	int r = IO_OK;

	if (sync && (io_puts(io, "+ Ready for literal data.\r\n") < 0 ||
		     io_flush(io) < 0))
		return -1;
	while (size > 0 && r == IO_OK) {
		r = io_read(io, chunk, size < sizeof(chunk) ? size :
			    sizeof(chunk), &got);
		if (r == IO_OK && str_append(&s->in, chunk, got) < 0)
			log_panic("IMAP literal: out of memory");
		if (r == IO_OK)
			size -= got;
	}
	explicit_bzero(chunk, sizeof(chunk));
	return r == IO_OK ? 0 : -1;
}

/* Read one command, literals included, into s->in. 0: a command; 1: it
 * was refused before parsing (reply sent, counted); -1: the session
 * ends (r_io: the io result, or IO_OK when a reply said why). */
static int session_read(struct imap_login_session *s, int *r_io)
{
	struct io *io = &s->c->io;
	uint64_t size;
	int sync;

	str_clear(&s->in);
	*r_io = IO_OK;
	for (;;) {
		int r = io_read_line(io, &s->line,
				     IMAP_LOGIN_CMD_MAX - s->in.len);

		if (r == IO_TOOLONG) {
			session_set_tag(s, s->in.s, s->in.len);
			session_bad(s, "Command line too long.");
			return 1;
		}
		if (r != IO_OK || s->line.len == 0 ||
		    s->line.s[s->line.len - 1] != '\n') {
			*r_io = r == IO_OK ? IO_EOF : r;
			return -1;
		}
		if (str_append(&s->in, s->line.s, s->line.len) < 0)
			log_panic("IMAP command: out of memory");
		session_wipe(&s->line);
		if (imap_login_cmd_frame(s->in.s, s->in.len, &size, &sync) ==
		    IMAP_FRAME_DONE)
			return 0;
		/* room for the literal and at least a line end after it */
		if (size + 2 > IMAP_LOGIN_CMD_MAX - s->in.len) {
			session_set_tag(s, s->in.s, s->in.len);
			session_bad(s, "Literal too large.");
			if (sync)
				return 1;
			/* its bytes are coming anyway: no way to resync */
			session_untagged(s, "BYE Command line too long.");
			return -1;
		}
		if (session_literal(s, (size_t)size, sync) < 0) {
			*r_io = IO_EOF;
			return -1;
		}
	}
}

/* Read, parse and run one command. */
static void session_command(struct imap_login_session *s)
{
	struct login_conn *c = s->c;
	const char *error;
	int r_io, r = session_read(s, &r_io);

	if (login_stopping) {
		session_untagged(s, "BYE Server shutting down.");
		s->quit = 1;
	} else if (r < 0) {
		if (r_io == IO_TIMEOUT)
			session_untagged(s, "BYE Disconnected for "
					 "inactivity.");
		s->quit = 1;
	} else if (r == 0) {
		if (imap_login_cmd_parse(s->in.s, s->in.len, &s->cmd,
					 &error) < 0) {
			session_set_tag(s, s->in.s, s->in.len);
			session_bad(s, error);
		} else {
			str_set(&s->tag, s->cmd.tag, s->cmd.tag_len);
			session_dispatch(s);
		}
	}
	imap_login_cmd_wipe(&s->cmd);
	session_wipe(&s->in);
	session_wipe(&s->line);
	if (c->bad >= s->set->bad_max && !s->quit) {
		session_untagged(s, "BYE Too many invalid commands.");
		s->quit = 1;
	}
}

static void imap_login_run(struct login_conn *c)
{
	static struct imap_login_session s;	/* one per process */

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.set = c->lg->proto_arg;
	/* reserved once, never moved: no copy of a secret is left behind */
	str_init(&s.in, 0);
	str_init(&s.line, 0);
	str_init(&s.tag, 0);
	if (str_reserve(&s.in, IMAP_LOGIN_CMD_MAX + 1) < 0 ||
	    str_reserve(&s.line, IMAP_LOGIN_CMD_MAX + 1) < 0)
		log_panic("IMAP command buffers: out of memory");
	session_greeting(&s);
	while (!s.quit) {
		if (io_pending(&c->io) == 0 && io_flush(&c->io) < 0)
			break;
		session_command(&s);
	}
	imap_login_cmd_wipe(&s.cmd);
	session_wipe(&s.in);
	session_wipe(&s.line);
	str_free(&s.in);
	str_free(&s.line);
	str_free(&s.tag);
}

const struct login_protocol imap_login_protocol = {
	.name = "imap",
	.busy_reply = "* BYE [UNAVAILABLE] Too busy, try again later.\r\n",
	.busy_why = "imap_process_limit reached",
	.client_reply = "* BYE [UNAVAILABLE] Too many connections from "
			"your address, try again later.\r\n",
	.client_why = "imap_client_connection_limit reached",
	.unavailable_reply = "* BYE [UNAVAILABLE] Mailbox service "
			     "unavailable, try again later.\r\n",
	.run = imap_login_run,
};
