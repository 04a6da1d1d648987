/*
 * pop3_session - one logged-in POP3 session, in its own process
 *
 * Start: open the user's Maildir, move new/ to cur/, confine the process
 * to the Maildir (Landlock and seccomp, the "pop3-session" profile), list
 * cur/ through the folder index IMAP keeps (UID order), answer
 * "+OK Logged in." (pop3_mbox.c). Then the
 * TRANSACTION state of RFC 1939: STAT, LIST, UIDL, TOP, RETR, DELE, RSET,
 * NOOP, CAPA, QUIT. Message numbers are fixed for the session; a deleted
 * message answers "-ERR Message is deleted." Nothing changes on disk
 * before QUIT (UPDATE state): a dropped connection, a timeout or SIGTERM
 * deletes nothing and marks nothing seen.
 *
 * The first bytes read are the client's pipelined input that the login
 * process forwarded; then the descriptor (the client socket, or the login
 * process's TLS proxy). Replies are flushed when no input is pending.
 */
#include "pop3.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pop3_cmd.h"
#include "mail/maildir_name.h"
#include "mail/maildir_open.h"
#include "daemon/session_server.h"
#include "util/log.h"
#include "util/sock.h"

volatile sig_atomic_t pop3_stopping;

struct session {
	struct pop3 *p3;
	struct io io;
	struct pop3_mbox mb;
	const struct login_user *h;	/* proven by postern-auth */
	char id[32];
	unsigned bad;
	int quit, update;
	unsigned long retr, top;
	uint64_t retr_bytes;
	const char *end;
};

static void reply(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply(struct session *s, const char *fmt, ...)
{
	struct str text = STR_INIT(0);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = str_vappendf(&text, fmt, ap);
	va_end(ap);
	if (r < 0 || str_appends(&text, "\r\n") < 0)
		log_panic("reply text: %s", strerror(errno));
	if (io_write(&s->io, text.s, text.len) < 0 && !s->quit) {
		s->quit = 1;
		s->end = "write failed";
	}
	str_free(&text);
}

/* The message numbered n, or NULL with the reply sent. */
static struct pop3_msg *session_msg(struct session *s, unsigned long n)
{
	if (n == 0 || n > s->mb.n) {
		reply(s, "-ERR There's no message %lu.", n);
		return NULL;
	}
	if (s->mb.msgs[n - 1].deleted) {
		reply(s, "-ERR Message is deleted.");
		return NULL;
	}
	return &s->mb.msgs[n - 1];
}

static void session_stat(struct session *s)
{
	uint32_t n = 0;
	uint64_t total = 0;

	for (uint32_t i = 0; i < s->mb.n; i++) {
		if (s->mb.msgs[i].deleted)
			continue;
		n++;
		total += s->mb.msgs[i].vsize;
	}
	reply(s, "+OK %lu %llu", (unsigned long)n, (unsigned long long)total);
}

static void session_uidl_one(struct session *s, uint32_t i, int single)
{
	struct maildir_name m;
	const char *name = pop3_mbox_name(&s->mb, i);
	int len = maildir_name_parse(name, &m) == 0 ? (int)m.base_len
						    : (int)strlen(name);

	reply(s, "%s%lu %.*s", single ? "+OK " : "", (unsigned long)i + 1,
	      len, name);
}

static void session_list(struct session *s, const struct pop3_cmd *c,
			 int uidl)
{
	struct pop3_msg *m;

	if (c->nnums == 1) {
		if ((m = session_msg(s, c->num[0])) == NULL)
			return;
		if (uidl)
			session_uidl_one(s, (uint32_t)(c->num[0] - 1), 1);
		else
			reply(s, "+OK %lu %llu", c->num[0],
			      (unsigned long long)m->vsize);
		return;
	}
	reply(s, "+OK");
	for (uint32_t i = 0; i < s->mb.n && !s->quit; i++) {
		if (s->mb.msgs[i].deleted)
			continue;
		if (uidl)
			session_uidl_one(s, i, 0);
		else
			reply(s, "%lu %llu", (unsigned long)i + 1,
			      (unsigned long long)s->mb.msgs[i].vsize);
	}
	reply(s, ".");
}

static void session_send(struct session *s, const struct pop3_cmd *c)
{
	unsigned long n = c->num[0];
	long lines = c->kind == POP3_TOP ? (long)c->num[1] : -1;
	struct pop3_msg *m = session_msg(s, n);
	int r;

	if (m == NULL)
		return;
	r = pop3_mbox_send(&s->mb, (uint32_t)(n - 1), lines, &s->io, s->id);
	if (r == -1) {
		log_warn(s->id, "open cur/%s: %s",
			 pop3_mbox_name(&s->mb, (uint32_t)(n - 1)),
			 strerror(errno));
		reply(s, "-ERR [SYS/TEMP] Message can't be read, it may have "
		      "been deleted by another session.");
		return;
	}
	if (r == -2) {
		s->quit = 1;
		s->end = "write failed";
		return;
	}
	if (lines < 0) {
		m->seen = 1;
		s->retr++;
		s->retr_bytes += m->vsize;
	} else {
		s->top++;
	}
}

static void session_capa(struct session *s)
{
	static const char *const caps[] = { "CAPA", "TOP", "UIDL",
		"RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER",
		"IMPLEMENTATION postern", "." };

	reply(s, "+OK Capability list follows");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		reply(s, "%s", caps[i]);
}

/* Run a parsed command; 1 if it counts as a bad command. */
static int session_dispatch(struct session *s, const struct pop3_cmd *c)
{
	struct pop3_msg *m;

	switch (c->kind) {
	case POP3_STAT:
		session_stat(s);
		return 0;
	case POP3_LIST:
	case POP3_UIDL:
		session_list(s, c, c->kind == POP3_UIDL);
		return 0;
	case POP3_RETR:
	case POP3_TOP:
		session_send(s, c);
		return 0;
	case POP3_DELE:
		if ((m = session_msg(s, c->num[0])) == NULL)
			return 0;
		m->deleted = 1;
		reply(s, "+OK Marked to be deleted.");
		return 0;
	case POP3_RSET:
		for (uint32_t i = 0; i < s->mb.n; i++)
			s->mb.msgs[i].deleted = 0;
		session_stat(s);
		return 0;
	case POP3_NOOP:
		reply(s, "+OK");
		return 0;
	case POP3_CAPA:
		session_capa(s);
		return 0;
	case POP3_QUIT:
		s->quit = 1;
		s->update = 1;
		return 0;
	default:
		reply(s, "-ERR Unknown command.");
		return 1;
	}
}

static void session_command(struct session *s, struct str *line)
{
	struct pop3_cmd cmd;
	const char *error;
	int r = io_read_line(&s->io, line, POP3_LINE_MAX);

	if (pop3_stopping) {
		reply(s, "-ERR Server shutting down.");
		s->quit = 1;
		s->end = "shutdown";
		return;
	}
	if (r == IO_TIMEOUT)
		reply(s, "-ERR Disconnected for inactivity.");
	if (r == IO_EOF || r == IO_TIMEOUT || r == IO_ERR) {
		s->quit = 1;
		s->end = r == IO_TIMEOUT ? "timeout" : "lost connection";
		return;
	}
	if (r == IO_TOOLONG) {
		reply(s, "-ERR Line too long.");
		s->bad++;
	} else if (pop3_cmd_parse(line->s, line->len, &cmd, &error) < 0) {
		reply(s, "-ERR %s", error);
		s->bad++;
	} else {
		s->bad += (unsigned)session_dispatch(s, &cmd);
	}
	if (s->bad >= s->p3->bad_max && !s->quit) {
		reply(s, "-ERR Too many bad commands.");
		s->quit = 1;
		s->end = "too many bad commands";
	}
}

static _Noreturn void session_fail(struct session *s, const char *what)
{
	log_warn(s->id, "user=%s: %s: %s", s->h->address, what,
		 strerror(errno));
	reply(s, "-ERR [SYS/TEMP] Mailbox can't be opened.");
	io_flush(&s->io);
	_exit(0);
}

static void session_open(struct session *s)
{
	struct sandbox_report sb;
	const char *error;
	char sandbox[160];

	/* with imap_index_root the index lives apart: POP3 reads cur/ and
	 * IMAP's index sees its deletions as any other program's */
	if (pop3_mbox_open(&s->mb, s->p3->conf->mail_root, s->h->address,
			   s->id, s->p3->conf->imap_index_root == NULL ||
			   s->p3->conf->imap_index_root[0] == '\0',
			   &sb, &error) < 0)
		session_fail(s, error);
	maildir_confine_describe(POP3_SANDBOX_PROFILE, &sb, sandbox,
				 sizeof(sandbox));
	log_info(s->id, "session: user=%s ip=%s tls=%d messages=%lu "
		 "size=%llu moved=%u %s", s->h->address, s->h->ip,
		 s->h->tls, (unsigned long)s->mb.n,
		 (unsigned long long)s->mb.total, s->mb.moved, sandbox);
}

static void session_init(struct session *s, struct pop3 *p3, int fd,
			 const struct login_user *h, const char *pending,
			 size_t npending)
{
	struct timespec ts;

	memset(s, 0, sizeof(*s));
	s->p3 = p3;
	s->h = h;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->id, sizeof(s->id), "%lx%05lx", (unsigned long)ts.tv_sec,
		 (unsigned long)getpid() & 0xfffff);
	io_init(&s->io, fd, p3->timeout_ms);
	if (io_preload(&s->io, pending, npending) < 0)
		log_panic("pending input larger than the read buffer");
	session_stop_on(SIGTERM, &pop3_stopping, fd);
	session_stop_on(SIGINT, &pop3_stopping, fd);
}

static void session_update(struct session *s)
{
	unsigned deleted = 0, failed;

	failed = pop3_mbox_commit(&s->mb, s->id, &deleted);
	if (failed > 0)
		reply(s, "-ERR [SYS/TEMP] %u message(s) could not be "
		      "updated.", failed);
	else
		reply(s, "+OK Logging out, messages deleted.");
	log_info(s->id, "update: deleted=%u failed=%u", deleted, failed);
}

_Noreturn void pop3_session_run(struct pop3 *p3, int fd,
				const struct login_user *h,
				const char *pending, size_t npending)
{
	static struct session s;
	struct str line = STR_INIT(0);

	session_init(&s, p3, fd, h, pending, npending);
	if (sock_nodelay(fd) < 0)
		log_warn(NULL, "TCP_NODELAY: %s", strerror(errno));
	session_open(&s);
	reply(&s, "+OK Logged in.");
	while (!s.quit) {
		if (io_pending(&s.io) == 0 && io_flush(&s.io) < 0) {
			s.end = "write failed";
			break;
		}
		session_command(&s, &line);
	}
	if (s.update)
		session_update(&s);
	io_flush(&s.io);
	log_info(s.id, "logout: user=%s reason=%s retr=%lu/%llu top=%lu "
		 "bad=%u", h->address, s.update ? "quit" :
		 s.end != NULL ? s.end : "ended", s.retr,
		 (unsigned long long)s.retr_bytes, s.top, s.bad);
	str_free(&line);
	io_free(&s.io);
	pop3_mbox_close(&s.mb);
	_exit(0);
}
