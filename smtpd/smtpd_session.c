/*
 * smtpd_session - one SMTP session, in its own process
 *
 * The session reads one command line at a time (at most 1000 bytes with
 * CRLF), parses it with smtp_cmd and dispatches it. Every reply goes out
 * through smtp_reply(), with an RFC 3463 enhanced status code on every
 * reply but the greeting, the EHLO/HELO answer and the 334/354
 * intermediate replies (RFC 2034 section 3). Replies are written to the
 * io buffer and flushed only when the client has nothing more pipelined
 * (smtpd_input.c).
 *
 * A session ends on QUIT, end of input, a deadline (421 4.4.2: smtpd_timeout,
 * smtpd_session_time_limit, smtpd_min_data_rate; smtpd_input.c),
 * smtpd_error_limit or smtpd_junk_command_limit (421 4.7.0), a failed TLS
 * handshake, or SIGTERM: the handler only sets a flag and shuts the socket
 * for reading (both are async-signal-safe), so the blocked read returns at
 * once, the session answers 421 4.3.2 and leaves, abandoning a message it
 * was receiving.
 *
 * JUNK COMMANDS. NOOP, RSET, VRFY, HELP and a HELO/EHLO after the first
 * cost the client nothing and move no mail; a client that sends more than
 * smtpd_junk_command_limit of them since its last accepted message is
 * keeping a process busy for nothing, and is sent away (as Postfix's
 * smtpd_junk_command_limit, but closing instead of counting errors).
 *
 * A process serves several sessions (smtpd_max_use): at the end of each,
 * everything that held AUTH data (the command buffers, the parsed
 * command, the io read buffer, the user name; after a session that sent
 * AUTH also SMTPD_STACK_SCRUB bytes of dead stack below session_end,
 * where the commands' frames and log lines were; TLS plaintext is
 * cleansed by OpenSSL, SSL_OP_CLEANSE_PLAINTEXT) is wiped with
 * explicit_bzero.
 *
 * STARTTLS (RFC 3207, STYLE.md 17): after "220 2.0.0 Ready to start TLS"
 * everything the client sent in plaintext and we have not yet read is
 * thrown away, and the session forgets EHLO, AUTH and the transaction.
 */
#include "smtpd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/session_server.h"
#include "util/log.h"
#include "util/sock.h"
#include "util/tls.h"

volatile sig_atomic_t smtpd_session_stopping;

/* The command being served; file-wide so that session_end can wipe it
 * (AUTH PLAIN's initial response is its argument). */
static struct smtp_cmd session_cmd;

const char *smtpd_esc(struct str *buf, const char *p, size_t n)
{
	str_clear(buf);
	log_escape(buf, p, n, 200);
	return str_c(buf);
}

void smtp_reply(struct smtpd_session *s, int code, const char *enhanced,
		const char *fmt, ...)
{
	struct str text = STR_INIT(0);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = str_vappendf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		log_panic("reply text: %s", strerror(errno));
	if (enhanced != NULL)
		r = io_printf(&s->io, "%d %s %s\r\n", code, enhanced,
			      str_c(&text));
	else
		r = io_printf(&s->io, "%d %s\r\n", code, str_c(&text));
	if (r < 0 && !s->quit) {
		s->quit = 1;
		s->end_reason = "write failed";
	}
	str_free(&text);
}

void smtp_reply_lines(struct smtpd_session *s, int code,
		      const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (io_printf(&s->io, "%d%c%s\r\n", code,
			      i + 1 < n ? '-' : ' ', lines[i]) < 0 &&
		    !s->quit) {
			s->quit = 1;
			s->end_reason = "write failed";
		}
}

void smtpd_session_lost(struct smtpd_session *s, int r)
{
	s->quit = 1;
	if (smtpd_session_stopping) {
		smtp_reply(s, 421, "4.3.2", "shutting down");
		s->end_reason = "shutdown";
	} else if (r == IO_TIMEOUT) {
		static const char *const why[] = {
			[SMTPD_WAIT_IDLE] = "timeout",
			[SMTPD_WAIT_RATE] = "data rate too low",
			[SMTPD_WAIT_SESSION] = "session time limit reached",
		};

		smtp_reply(s, 421, "4.4.2", "%s", why[s->wait_limit]);
		s->end_reason = why[s->wait_limit];
	} else if (r == IO_EOF) {
		s->end_reason = "lost connection";
	} else {
		s->end_reason = errno == EPROTO ? tls_error() : strerror(errno);
	}
}

void smtpd_txn_reset(struct smtpd_session *s)
{
	smtpd_data_abort(s);
	for (size_t i = 0; i < s->nrcpts; i++) {
		free(s->rcpts[i]);
		free(s->orcpts[i]);
	}
	free(s->rcpts);
	free(s->orcpts);
	free(s->notify);
	s->rcpts = s->orcpts = NULL;
	s->notify = NULL;
	s->nrcpts = 0;
	s->have_mail = 0;
	str_clear(&s->sender);
	s->qflags = 0;
	s->envid[0] = '\0';
	s->smtputf8 = 0;
	s->bdat_octets = 0;
}

/* ---- HELO, EHLO and the simple commands ---------------------------------- */

/* One more junk command; 1 if that was one too many (the session ends). */
static int session_junk(struct smtpd_session *s)
{
	if (++s->junk <= s->srv->junk_limit)
		return 0;
	smtp_reply(s, 421, "4.7.0", "too many commands that move no mail");
	log_warn(s->id, "client %s: smtpd_junk_command_limit (%u) reached",
		 s->ip, s->srv->junk_limit);
	s->quit = 1;
	s->end_reason = "too many junk commands";
	return 1;
}

static void session_ehlo_reply(struct smtpd_session *s)
{
	const char *lines[10];
	struct str size = STR_INIT(0);
	size_t n = 0;

	str_appendf(&size, "SIZE %llu",
		    (unsigned long long)s->srv->conf->message_size_limit);
	lines[n++] = s->srv->conf->hostname;
	lines[n++] = "PIPELINING";
	lines[n++] = str_c(&size);
	lines[n++] = "8BITMIME";
	lines[n++] = "ENHANCEDSTATUSCODES";
	if (!s->tls && s->srv->tls != NULL)
		lines[n++] = "STARTTLS";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "CHUNKING";
	lines[n++] = "DSN";
	if (smtpd_auth_offered(s))
		lines[n++] = "AUTH PLAIN LOGIN";
	smtp_reply_lines(s, 250, lines, n);
	str_free(&size);
}

static int session_helo(struct smtpd_session *s, const struct smtp_cmd *cmd,
			int esmtp)
{
	if (s->have_helo && session_junk(s))
		return 0;
	smtpd_txn_reset(s);
	if (cstr_copy(s->helo, sizeof(s->helo), cmd->arg) < 0) {
		smtp_reply(s, 501, "5.5.4", "host name too long");
		return 1;
	}
	s->have_helo = 1;
	s->esmtp = esmtp;
	if (esmtp)
		session_ehlo_reply(s);
	else
		smtp_reply(s, 250, NULL, "%s", s->srv->conf->hostname);
	return 0;
}

static int session_help(struct smtpd_session *s)
{
	smtp_reply(s, 214, "2.0.0", "commands: HELO EHLO MAIL RCPT DATA BDAT "
		   "RSET NOOP QUIT VRFY HELP STARTTLS AUTH; see RFC 5321");
	return 0;
}

/* ---- STARTTLS ------------------------------------------------------------ */

/* Forget everything learnt before TLS: EHLO, AUTH, the transaction. */
static void session_forget(struct smtpd_session *s)
{
	smtpd_txn_reset(s);
	s->have_helo = 0;
	s->esmtp = 0;
	s->helo[0] = '\0';
	s->authed = 0;
	str_clear(&s->auth_user);
}

static int session_tls_handshake(struct smtpd_session *s)
{
	const char *error;

	if (io_tls_server(&s->io, s->srv->tls, &error) < 0) {
		log_info(s->id, "TLS handshake with %s failed: %s", s->ip,
			 error);
		s->quit = 1;
		s->end_reason = "TLS handshake failed";
		return -1;
	}
	s->tls = 1;
	/* a later session of this process must find no AUTH line in
	 * OpenSSL's record buffers */
	SSL_set_options(s->io.ssl, SSL_OP_CLEANSE_PLAINTEXT);
	log_info(s->id, "TLS %s cipher=%s", SSL_get_version(s->io.ssl),
		 SSL_get_cipher_name(s->io.ssl));
	return 0;
}

static int session_starttls(struct smtpd_session *s)
{
	size_t pending;

	if (s->tls) {
		smtp_reply(s, 503, "5.5.1", "TLS is already active");
		return 1;
	}
	if (s->srv->tls == NULL) {
		smtp_reply(s, 454, "4.7.0", "TLS not available");
		return 0;
	}
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (io_flush(&s->io) < 0) {
		smtpd_session_lost(s, IO_ERR);
		return 0;
	}
	pending = smtpd_in_pending(s);
	if (pending > 0)
		log_info(s->id, "STARTTLS: discarded %zu byte(s) sent before "
			 "the handshake", pending);
	smtpd_in_discard(s);
	if (session_tls_handshake(s) == 0)
		session_forget(s);
	return 0;
}

/* ---- the command loop ---------------------------------------------------- */

static int session_dispatch(struct smtpd_session *s,
			    const struct smtp_cmd *cmd)
{
	switch (cmd->verb) {
	case SMTP_HELO: return session_helo(s, cmd, 0);
	case SMTP_EHLO: return session_helo(s, cmd, 1);
	case SMTP_MAIL: return smtpd_cmd_mail(s, cmd);
	case SMTP_RCPT: return smtpd_cmd_rcpt(s, cmd);
	case SMTP_DATA: return smtpd_cmd_data(s, cmd);
	case SMTP_BDAT: return smtpd_cmd_bdat(s, cmd);
	case SMTP_AUTH: return smtpd_cmd_auth(s, cmd);
	case SMTP_STARTTLS: return session_starttls(s);
	case SMTP_HELP:
		return session_junk(s) ? 0 : session_help(s);
	case SMTP_RSET:
		if (session_junk(s))
			return 0;
		smtpd_txn_reset(s);
		smtp_reply(s, 250, "2.0.0", "Ok");
		return 0;
	case SMTP_NOOP:
		if (!session_junk(s))
			smtp_reply(s, 250, "2.0.0", "Ok");
		return 0;
	case SMTP_VRFY:
		if (!session_junk(s))
			smtp_reply(s, 252, "2.5.0", "VRFY is disabled; send "
				   "mail and it will be tried");
		return 0;
	case SMTP_QUIT:
		session_server_ending();
		smtp_reply(s, 221, "2.0.0", "Bye");
		s->quit = 1;
		s->end_reason = "quit";
		return 0;
	default:
		smtp_reply(s, 500, "5.5.1", "command unrecognized");
		return 1;
	}
}

static void session_command(struct smtpd_session *s)
{
	struct smtp_cmd *cmd = &session_cmd;
	const char *error;
	size_t len = s->line.len;

	if (len > 0 && s->line.s[len - 1] == '\n')
		len--;
	if (len > 0 && s->line.s[len - 1] == '\r')
		len--;
	s->commands++;
	if (len >= 4 && strncasecmp(s->line.s, "AUTH", 4) == 0)
		s->auth_seen = 1;
	if (smtp_cmd_parse(s->line.s != NULL ? s->line.s : "", len,
			   SMTP_CMD_ALLOW_UTF8 | SMTP_CMD_RELAY_TRICKS |
			   (s->smtputf8 ? SMTP_CMD_TXN_UTF8 : 0),
			   cmd, &error) == 0) {
		s->errors += (unsigned)session_dispatch(s, cmd);
		return;
	}
	smtp_reply(s, cmd->code, cmd->enhanced, "%s", error);
	s->errors++;
	if (cmd->verb == SMTP_BDAT) {
		/* the chunk size is unknown: its bytes would be read as
		 * commands, so the session cannot go on */
		s->quit = 1;
		s->end_reason = "bad BDAT command";
	}
}

static void session_loop(struct smtpd_session *s)
{
	int r;

	while (!s->quit) {
		if (s->errors >= s->srv->error_limit) {
			smtp_reply(s, 421, "4.7.0", "too many errors");
			s->end_reason = "too many errors";
			break;
		}
		if (smtpd_now_ms() >= s->end_ms) {
			/* a client that never lets a read wait */
			s->wait_limit = SMTPD_WAIT_SESSION;
			smtpd_session_lost(s, IO_TIMEOUT);
			break;
		}
		r = smtpd_read_line(s, &s->line, SMTPD_LINE_MAX);
		if (r == IO_OK && !smtpd_session_stopping) {
			session_command(s);
		} else if (r == IO_TOOLONG && !smtpd_session_stopping) {
			smtp_reply(s, 500, "5.5.2", "line too long");
			s->errors++;
		} else {
			smtpd_session_lost(s, r);
		}
	}
}

/* ---- start and end ------------------------------------------------------- */

static void session_init(struct smtpd_session *s, struct smtpd *srv, int fd,
			 const char *ip)
{
	struct str id = STR_INIT(0);

	memset(s, 0, sizeof(*s));
	s->srv = srv;
	s->fd = fd;
	io_init(&s->io, fd, srv->timeout_ms);
	str_init(&s->in, 0);
	str_init(&s->line, 0);
	/* the line buffer holds AUTH PLAIN's argument: sized once, so that
	 * no copy of it is left behind by a realloc */
	if (str_reserve(&s->line, SMTPD_LINE_MAX) < 0)
		log_panic("line buffer: out of memory");
	str_init(&s->sender, 0);
	str_init(&s->auth_user, 0);
	if (cstr_copy(s->ip, sizeof(s->ip), ip) < 0)
		log_panic("client address '%s' too long", ip);
	s->loopback = strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
	s->trusted = cidr_list_match(&srv->trusted, ip);
	s->end_ms = smtpd_now_ms() + srv->session_limit_ms;
	/* unique per session: the time, the pid, and the sessions this
	 * process served before (a process may serve several) */
	str_appendf(&id, "%08llX%06X%04X", (unsigned long long)time(NULL),
		    (unsigned)getpid() & 0xffffffu,
		    ++srv->sessions_served & 0xffffu);
	if (cstr_copy(s->id, sizeof(s->id), str_c(&id)) < 0)
		log_panic("session id too long");
	str_free(&id);
	s->end_reason = "quit";
	session_stop_on(SIGTERM, &smtpd_session_stopping, fd);
}

static void session_wipe(struct str *sb)
{
	if (sb->s != NULL)
		explicit_bzero(sb->s, sb->cap);
	str_free(sb);
}

/* Wipe the stack below the caller: the dead frames of the session's
 * commands (log lines built on the stack name the user). */
static __attribute__((noinline)) void session_scrub_stack(void)
{
	char dead[SMTPD_STACK_SCRUB];

	explicit_bzero(dead, sizeof(dead));
}

/* Everything the session held is freed: the process may serve another. */
static void session_end(struct smtpd_session *s)
{
	session_server_ending();
	/* the last replies get smtpd_timeout, whatever deadline has passed */
	s->io.timeout_ms = s->srv->timeout_ms;
	if (io_flush(&s->io) < 0 && strcmp(s->end_reason, "quit") == 0)
		s->end_reason = "write failed";
	smtpd_txn_reset(s);
	log_info(s->id, "disconnect from %s commands=%u messages=%u errors=%u "
		 "reason=%s", s->ip, s->commands, s->messages, s->errors,
		 s->end_reason);
	if (s->ac_init)
		auth_client_free(&s->ac);
	explicit_bzero(&s->ac, sizeof(s->ac));
	s->ac_init = 0;
	io_free(&s->io);
	session_stop_release();
	if (close(s->fd) < 0)
		log_warn(s->id, "close: %s", strerror(errno));
	/* the next session in this process must find no trace of this
	 * one's credentials: AUTH PLAIN's argument is a command line, parsed
	 * into session_cmd, read through the io buffer */
	session_wipe(&s->line);
	session_wipe(&s->in);
	session_wipe(&s->auth_user);
	str_free(&s->sender);
	explicit_bzero(&session_cmd, sizeof(session_cmd));
	explicit_bzero(s->io.rbuf, sizeof(s->io.rbuf));
	if (s->auth_seen)
		session_scrub_stack();
}

void smtpd_session_run(struct smtpd *srv, int fd, const char *ip)
{
	struct smtpd_session s;

	session_init(&s, srv, fd, ip);
	if (sock_nodelay(fd) < 0)
		log_warn(s.id, "TCP_NODELAY: %s", strerror(errno));
	log_info(s.id, "connect from %s service=%s", ip, srv->sc->def->name);
	if (srv->mode == SMTPD_SMTPS && session_tls_handshake(&s) < 0) {
		session_end(&s);
		return;
	}
	if (smtpd_session_stopping) {
		smtpd_session_lost(&s, IO_EOF);
		session_end(&s);
		return;
	}
	smtp_reply(&s, 220, NULL, "%s ESMTP postern", srv->conf->hostname);
	session_loop(&s);
	session_end(&s);
}
