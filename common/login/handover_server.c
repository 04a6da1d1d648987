/*
 * handover_server - the mailbox side's acceptor; see handover_server.h
 *
 * A hand-over connection goes READING -> REDEEMING -> closed:
 *   READING    non-blocking reads (the descriptor comes with the first
 *              bytes) until the login process closes its end, under a
 *              timer of HANDOVER_READ_MS. Then the line is parsed and the
 *              descriptor checked against it.
 *   REDEEMING  a REDEEM line is queued on the connection to postern-auth
 *              and the hand-over joins the FIFO of those waiting for an
 *              answer (postern-auth answers in order). On OK the session
 *              is started; on anything else the client is refused.
 * A hand-over that is closed while REDEEMING (SIGTERM) stays in the FIFO,
 * marked dead, until its answer comes and is thrown away; its count in
 * the server is dropped at once.
 */
#include "login/handover_server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/event.h"
#include "util/log.h"
#include "util/sigfd.h"
#include "util/sock.h"

#define HANDOVER_BUF (LOGIN_HANDOVER_LINE_MAX + LOGIN_HANDOVER_PENDING_MAX)
#define HANDOVER_RESUME_MS 1000
#define HANDOVER_STOP_MS 3000

_Static_assert(AUTHPROTO_ADDRESS_MAX <= CHILD_KEY_MAX,
	       "a user's address fits the session table's key");

enum handover_state { HO_READING, HO_REDEEMING };

struct handover_conn {
	struct unix_conn uc;
	struct handover_server *hs;
	enum handover_state state;
	int fd;				/* from the login process; -1 closed */
	int client_fd;			/* the descriptor it passed, or -1 */
	pid_t peer_pid;
	char *buf;			/* line and pending input */
	size_t len, used;
	struct ev_timer *timer;		/* the read deadline */
	struct login_handover h;
	int dead;			/* closed while in the FIFO */
	struct handover_conn *next;	/* the redeem FIFO */
};

static const struct unix_policy handover_policy = {
	.name = "hand-over",
};

static void handover_auth_events(struct handover_server *hs);

/* ---- a hand-over connection ------------------------------------------ */

static void conn_close_fds(struct handover_conn *c)
{
	if (c->timer != NULL)
		ev_timer_cancel(c->hs->loop, c->timer);
	c->timer = NULL;
	if (c->fd >= 0) {
		ev_fd_del(c->hs->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (c->client_fd >= 0)
		close(c->client_fd);
	c->client_fd = -1;
}

static void conn_free(struct handover_conn *c)
{
	login_handover_clear(&c->h);
	if (c->buf != NULL) {
		explicit_bzero(c->buf, HANDOVER_BUF + 1);
		free(c->buf);
	}
	free(c);
}

/* Done with c: close, uncount, free (later if it waits in the FIFO). */
static void conn_end(struct handover_conn *c)
{
	struct handover_server *hs = c->hs;

	conn_close_fds(c);
	if (c->dead)
		return;
	c->dead = 1;
	unix_server_closed(&hs->us, &c->uc);
	if (c->state != HO_REDEEMING)
		conn_free(c);
}

static void conn_user(const struct handover_conn *c, struct login_user *u)
{
	memset(u, 0, sizeof(*u));
	memcpy(u->ip, c->h.ip, sizeof(u->ip));
	u->tls = c->h.tls;
	memcpy(u->param, c->h.param, sizeof(u->param));
	login_handover_token_id(c->h.token, u->token_id);
}

/* The client hears why it is refused: one line, best effort, never
 * blocking. */
static void conn_refuse_send(const struct handover_conn *c,
			     enum handover_refusal why)
{
	const char *line = c->hs->svc.refusal[why];
	size_t n = strlen(line);

	if (send(c->client_fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)n)
		log_info(NULL, "refused hand-over: could not send the reply: "
			 "%s", strerror(errno));
}

/* Refuse: the client hears why, the log says more; c ends. */
static void conn_refuse(struct handover_conn *c, enum handover_refusal why,
			const char *reason)
{
	struct login_user u;
	struct str esc = STR_INIT(0);

	conn_user(c, &u);
	log_escape(&esc, reason, strlen(reason), 100);
	log_warn(NULL, "hand-over refused: %s (login pid=%ld client=%s "
		 "token=%s)", str_c(&esc), (long)c->peer_pid,
		 u.ip[0] != '\0' ? u.ip : "?",
		 u.token_id[0] != '\0' ? u.token_id : "none");
	str_free(&esc);
	if (c->client_fd >= 0)
		conn_refuse_send(c, why);
	conn_end(c);
}

/* ---- sessions -------------------------------------------------------- */

/* In the new session process: nothing of the parent's but the client. */
static void session_child_setup(struct handover_server *hs,
				struct handover_conn *mine)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn(NULL, "prctl: %s", strerror(errno));
	if (getppid() == 1)
		_exit(0);		/* the parent is already gone */
	for (struct unix_conn *uc = hs->us.conns; uc != NULL; uc = uc->next) {
		struct handover_conn *c = UNIX_CONN_OWNER(uc,
						struct handover_conn, uc);

		if (c->fd >= 0)
			close(c->fd);
		if (c != mine && c->client_fd >= 0)
			close(c->client_fd);
	}
	close(hs->auth_fd);
	close(hs->chld_fd);
	/* closed, not unregistered: the epoll set is the parent's too, and
	 * epoll_ctl() here would change it there */
	for (size_t i = 0; i < hs->us.nlisten; i++)
		if (hs->us.listeners[i].fd >= 0)
			close(hs->us.listeners[i].fd);
	close(hs->us.sig_fd);
	ev_free(hs->us.loop);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);	/* a retiring parent lets us finish */
	if (sigfd_unblock_all() < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
}

static void session_start(struct handover_conn *c, const char *address)
{
	struct handover_server *hs = c->hs;
	struct login_user u;
	pid_t pid;

	conn_user(c, &u);
	if (cstr_copy(u.address, sizeof(u.address), address) < 0) {
		conn_refuse(c, HANDOVER_REFUSED_LOGIN, "address too long");
		return;
	}
	child_table_reap(&hs->sessions);
	if (child_table_full(&hs->sessions)) {
		conn_refuse(c, HANDOVER_REFUSED_BUSY, "process limit reached");
		return;
	}
	if (child_table_count(&hs->sessions, u.address) >= hs->svc.user_max) {
		conn_refuse(c, HANDOVER_REFUSED_USER, "the user's session "
			    "limit reached");
		return;
	}
	pid = fork();
	if (pid == 0) {
		session_child_setup(hs, c);
		hs->svc.session(hs->svc.arg, c->client_fd, &u,
				c->buf + c->used, c->len - c->used);
		_exit(0);
	}
	if (pid < 0) {
		conn_refuse(c, HANDOVER_REFUSED_TEMP, strerror(errno));
		return;
	}
	if (child_table_add(&hs->sessions, pid, u.address) < 0)
		log_panic("session table: no slot after the limit check");
	service_child_busy(hs->sc);
	conn_end(c);
}

/* ---- the connection to postern-auth ------------------------------------ */

static void redeem_push(struct handover_server *hs, struct handover_conn *c)
{
	c->next = NULL;
	if (hs->redeem_tail != NULL)
		hs->redeem_tail->next = c;
	else
		hs->redeem_head = c;
	hs->redeem_tail = c;
}

static struct handover_conn *redeem_pop(struct handover_server *hs)
{
	struct handover_conn *c = hs->redeem_head;

	if (c != NULL) {
		hs->redeem_head = c->next;
		if (hs->redeem_head == NULL)
			hs->redeem_tail = NULL;
		c->next = NULL;
	}
	return c;
}

/* One answer, for the oldest hand-over waiting. */
static void redeem_answer(struct handover_server *hs, const char *line,
			  size_t n)
{
	struct handover_conn *c = redeem_pop(hs);
	struct authproto_reply rep;
	struct str address = STR_INIT(AUTHPROTO_ADDRESS_MAX);
	int ok = authproto_reply_parse(&rep, line, n) == 0;

	if (c == NULL || !ok || rep.status == AUTHPROTO_R_ERROR ||
	    rep.status == AUTHPROTO_R_NOUSER) {
		log_warn(NULL, "postern-auth: %s answer to a REDEEM",
			 c == NULL ? "unasked" : "unexpected");
		if (c != NULL)
			redeem_push(hs, c);	/* refused with the rest */
		hs->auth_lost = 1;
		return;
	}
	c->state = HO_READING;		/* out of the FIFO */
	if (c->dead) {
		conn_free(c);
		return;
	}
	if (rep.status == AUTHPROTO_R_OK &&
	    str_set(&address, rep.arg, rep.arg_len) == 0)
		session_start(c, str_c(&address));
	else if (rep.status == AUTHPROTO_R_TEMPFAIL)
		conn_refuse(c, HANDOVER_REFUSED_TEMP, "postern-auth could not "
			    "redeem the token");
	else
		conn_refuse(c, HANDOVER_REFUSED_LOGIN, "postern-auth did not "
			    "take the token (unknown, used, expired, or for "
			    "another service or client address)");
	str_free(&address);
}

static void redeem_read(struct handover_server *hs)
{
	char buf[4096];
	ssize_t n = recv(hs->auth_fd, buf, sizeof(buf), MSG_DONTWAIT);
	char *lf;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return;
	if (n <= 0 || str_append(&hs->auth_in, buf, (size_t)n) < 0) {
		hs->auth_lost = 1;
		return;
	}
	while (!hs->auth_lost && hs->auth_in.len > 0 &&
	       (lf = memchr(hs->auth_in.s, '\n', hs->auth_in.len)) != NULL) {
		size_t len = (size_t)(lf - hs->auth_in.s);

		redeem_answer(hs, hs->auth_in.s, len);
		str_consume(&hs->auth_in, len + 1);
	}
}

static void redeem_write(struct handover_server *hs)
{
	while (hs->auth_out.len > 0) {
		ssize_t n = send(hs->auth_fd, hs->auth_out.s, hs->auth_out.len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			str_consume(&hs->auth_out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		hs->auth_lost = 1;
		return;
	}
}

/* Lost: nothing can be redeemed any more. Refuse what waits, retire. */
static void redeem_lost(struct handover_server *hs)
{
	struct handover_conn *c;
	size_t n = 0;

	ev_fd_del(hs->loop, hs->auth_fd);
	hs->auth_events = 0;
	while ((c = redeem_pop(hs)) != NULL) {
		c->state = HO_READING;
		if (c->dead)
			conn_free(c);
		else
			conn_refuse(c, HANDOVER_REFUSED_TEMP, "the "
				    "connection to postern-auth is lost");
		n++;
	}
	log_warn(NULL, "the connection to postern-auth (%s) is lost; %zu "
		 "hand-over(s) refused; retiring so that the master starts a "
		 "new %s", HANDOVER_REDEEM_SOCKET, n, log_program());
	if (write(SERVICE_STATUS_FD, "retiring\n", 9) != 9)
		log_warn(NULL, "cannot tell the master: %s", strerror(errno));
	unix_server_retire(&hs->us);
}

static void on_auth(void *arg, int fd, unsigned revents)
{
	struct handover_server *hs = arg;

	(void)fd;
	if (revents & (EV_READ | EV_ERROR))
		redeem_read(hs);
	if (!hs->auth_lost && (revents & EV_WRITE))
		redeem_write(hs);
	if (hs->auth_lost)
		redeem_lost(hs);
	else
		handover_auth_events(hs);
}

static void handover_auth_events(struct handover_server *hs)
{
	unsigned want = EV_READ | (hs->auth_out.len > 0 ? EV_WRITE : 0);

	if (want == hs->auth_events || hs->auth_lost)
		return;
	if (ev_fd_mod(hs->loop, hs->auth_fd, want) < 0)
		log_fatal("event loop: %s", strerror(errno));
	hs->auth_events = want;
}

static void conn_redeem(struct handover_conn *c)
{
	struct handover_server *hs = c->hs;
	const char *error;

	if (hs->auth_lost) {
		conn_refuse(c, HANDOVER_REFUSED_TEMP, "the connection to "
			    "postern-auth is lost");
		return;
	}
	if (authproto_redeem_format(&hs->auth_out, hs->svc.protocol, c->h.ip,
				    c->h.token, &error) < 0) {
		conn_refuse(c, HANDOVER_REFUSED_LOGIN, error);
		return;
	}
	c->state = HO_REDEEMING;
	redeem_push(hs, c);
	redeem_write(hs);
	if (hs->auth_lost)
		redeem_lost(hs);
	else
		handover_auth_events(hs);
}

/* ---- reading a hand-over ---------------------------------------------- */

/* The descriptor must be what the line says it is. NULL, or why not. */
static const char *conn_check_fd(struct handover_conn *c)
{
	char ip[LOGIN_HANDOVER_IP_MAX + 1];

	if (c->client_fd < 0)
		return "no descriptor";
	if (sock_peer_addr(c->client_fd, ip, sizeof(ip)) < 0)
		return "the descriptor is not a connected socket";
	if (c->h.tls)
		return strcmp(ip, "unix") == 0 ? NULL :
		       "a TLS hand-over whose descriptor is not a unix socket";
	if (strcmp(ip, c->h.ip) != 0)
		return "the descriptor's peer is not the client address named";
	return NULL;
}

static void conn_complete(struct handover_conn *c)
{
	const char *error;

	ev_timer_cancel(c->hs->loop, c->timer);
	c->timer = NULL;
	ev_fd_del(c->hs->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (login_handover_parse(c->buf, c->len, &c->h, &c->used,
				 &error) < 0) {
		conn_refuse(c, HANDOVER_REFUSED_LOGIN, error);
		return;
	}
	if (c->len - c->used > LOGIN_HANDOVER_PENDING_MAX) {
		conn_refuse(c, HANDOVER_REFUSED_LOGIN, "too much pending input");
		return;
	}
	error = conn_check_fd(c);
	if (error != NULL) {
		conn_refuse(c, HANDOVER_REFUSED_LOGIN, error);
		return;
	}
	conn_redeem(c);
}

static void conn_read(struct handover_conn *c)
{
	for (;;) {
		int fd = -1;
		ssize_t n = sock_recv_fd(c->fd, &fd, c->buf + c->len,
					 HANDOVER_BUF - c->len);

		if (fd >= 0 && c->client_fd >= 0) {
			close(fd);
			conn_refuse(c, HANDOVER_REFUSED_LOGIN, "more than one "
				    "descriptor");
			return;
		}
		if (fd >= 0)
			c->client_fd = fd;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_refuse(c, HANDOVER_REFUSED_LOGIN, strerror(errno));
			return;
		}
		if (n == 0) {
			conn_complete(c);
			return;
		}
		c->len += (size_t)n;
		if (c->len == HANDOVER_BUF) {
			conn_refuse(c, HANDOVER_REFUSED_LOGIN, "hand-over too "
				    "long");
			return;
		}
	}
}

static void on_conn(void *arg, int fd, unsigned revents)
{
	(void)fd;
	(void)revents;
	conn_read(arg);
}

static void on_deadline(void *arg)
{
	struct handover_conn *c = arg;

	c->timer = NULL;
	conn_refuse(c, HANDOVER_REFUSED_LOGIN, "the login process sent no "
		    "complete hand-over in time");
}

static struct unix_conn *on_accept(void *arg, int fd,
				   const struct unix_peer *peer)
{
	struct handover_server *hs = arg;
	struct handover_conn *c = xcalloc(1, sizeof(*c));

	c->hs = hs;
	c->fd = fd;
	c->client_fd = -1;
	c->peer_pid = peer->pid;
	c->buf = xmalloc(HANDOVER_BUF + 1);
	if (ev_fd_add(hs->loop, fd, EV_READ, on_conn, c) < 0) {
		log_warn(NULL, "event loop: %s", strerror(errno));
		close(fd);
		conn_free(c);
		return NULL;
	}
	c->timer = ev_timer_add(hs->loop, HANDOVER_READ_MS, on_deadline, c);
	return &c->uc;
}

/* ---- the server -------------------------------------------------------- */

static void on_stop(void *arg, struct unix_conn *uc)
{
	(void)arg;
	conn_end(UNIX_CONN_OWNER(uc, struct handover_conn, uc));
}

/* Sessions still running keep the loop alive. A stopping server tells
 * them once (this is where it first learns that it stops). */
static int on_busy(void *arg)
{
	struct handover_server *hs = arg;

	child_table_reap(&hs->sessions);
	if (hs->us.stopping && !hs->killed) {
		hs->killed = 1;
		child_table_kill(&hs->sessions, SIGTERM);
	}
	return hs->sessions.used > 0;
}

static void on_describe(void *arg, struct str *out)
{
	struct handover_server *hs = arg;

	str_appendf(out, ", %u session(s) running", hs->sessions.used);
}

static void on_chld(void *arg, int fd, unsigned revents)
{
	struct handover_server *hs = arg;
	int sig;

	(void)revents;
	while ((sig = sigfd_next(fd)) > 0)
		;
	if (sig < 0)
		log_fatal("signalfd: %s", strerror(errno));
	child_table_reap(&hs->sessions);
	unix_server_check_done(&hs->us);
}

static void handover_connect_auth(struct handover_server *hs)
{
	struct str path = STR_INIT(0);

	if (conf_queue_path(&hs->sc->conf, HANDOVER_REDEEM_SOCKET, &path) < 0)
		log_fatal("queue_dir: path too long");
	hs->auth_fd = sock_connect_unix(str_c(&path));
	if (hs->auth_fd < 0)
		log_fatal("connect to postern-auth at %s: %s", str_c(&path),
			  strerror(errno));
	if (fd_nonblock(hs->auth_fd, 1) < 0)
		log_fatal("%s: %s", str_c(&path), strerror(errno));
	str_free(&path);
}

void handover_server_init(struct handover_server *hs,
			  struct service_child *sc,
			  const struct handover_service *svc)
{
	static const int chld[] = { SIGCHLD, 0 };
	const struct unix_server_ops ops = {
		.arg = hs,
		.conn_max = HANDOVER_CONN_MAX,
		.accept_errors = UNIX_ACCEPT_PAUSE_RESOURCES,
		.resume_ms = HANDOVER_RESUME_MS,
		.stop_ms = HANDOVER_STOP_MS,
		.accept = on_accept,
		.stop = on_stop,
		.busy = on_busy,
		.describe = on_describe,
	};

	for (size_t i = 0; i < HANDOVER_REFUSALS; i++)
		if (svc->refusal == NULL || svc->refusal[i] == NULL)
			log_panic("hand-over: refusal line %zu missing", i);
	memset(hs, 0, sizeof(*hs));
	hs->sc = sc;
	hs->svc = *svc;
	str_init(&hs->auth_out, 0);
	str_init(&hs->auth_in, 2 * (AUTH_LINE_MAX + 1));
	child_table_init(&hs->sessions, svc->total_max);
	handover_connect_auth(hs);
	unix_server_init(&hs->us, &ops);
	hs->loop = hs->us.loop;
	hs->chld_fd = sigfd_open(chld);
	if (hs->chld_fd < 0 ||
	    ev_fd_add(hs->loop, hs->chld_fd, EV_READ, on_chld, hs) < 0 ||
	    ev_fd_add(hs->loop, hs->auth_fd, EV_READ, on_auth, hs) < 0)
		log_fatal("event loop: %s", strerror(errno));
	hs->auth_events = EV_READ;
	for (size_t i = 0; i < sc->nlisten; i++)
		unix_server_listen(&hs->us, sc->listen_fds[i],
				   &handover_policy);
	sc->nlisten = 0;	/* the server's now */
}

void handover_server_run(struct handover_server *hs)
{
	log_info(NULL, "service %s: accepting hand-overs", hs->sc->def->name);
	unix_server_run(&hs->us);
	log_info(NULL, "service %s: all sessions ended", hs->sc->def->name);
}

void handover_server_free(struct handover_server *hs)
{
	struct handover_conn *c;

	while (hs->us.conns != NULL)
		conn_end(UNIX_CONN_OWNER(hs->us.conns, struct handover_conn,
					 uc));
	while ((c = redeem_pop(hs)) != NULL) {
		conn_close_fds(c);
		conn_free(c);
	}
	if (!hs->auth_lost)
		ev_fd_del(hs->loop, hs->auth_fd);
	close(hs->auth_fd);
	ev_fd_del(hs->loop, hs->chld_fd);
	close(hs->chld_fd);
	unix_server_free(&hs->us);
	child_table_free(&hs->sessions);
	str_free(&hs->auth_out);
	str_free(&hs->auth_in);
}
