/*
 * auth_conn - one client connection of postern-auth
 *
 * A connection has at most one request in flight. A line is read and
 * decided as far as the event loop can (auth_db_begin); a VERIFY or LOGIN
 * then waits for its password check in the pool of hash threads
 * (auth_hash.h) and is finished when that comes back (auth_db_finish).
 * The answer is either written now or held on a timer for its delay.
 * Until that answer has been written in full, nothing more is read or
 * parsed: pipelining buys a client nothing, a held answer holds the ones
 * after it, and a client that does not read its answers cannot make us
 * buffer more than one. (REDEEMs are answered at once, so the mailbox
 * side may pipeline them on its one connection.) A malformed line, or a
 * request the connection's socket does not take (REDEEM on the login
 * socket, anything else on the redeem socket), is answered "ERROR <TAB>
 * reason" and the connection is closed once that is written.
 *
 * Every function that may close the connection returns -1 when it did;
 * the caller must not touch it afterwards.
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/event.h"
#include "util/log.h"
#include "util/str.h"

struct auth_conn {
	struct auth_server *srv;
	struct unix_conn uc;	/* in the server's list */
	int fd;
	enum auth_kind kind;	/* which socket it came through */
	pid_t peer_pid;
	uid_t peer_uid;
	struct str in;		/* unparsed input, at most one line + 1 byte */
	struct str out;		/* the answer being written */
	struct str held;	/* the answer waiting for its delay */
	struct ev_timer *timer;	/* releases held */
	struct auth_hash_job *job;	/* the password check in progress */
	struct authproto_request req;	/* ... and the request it is for */
	int64_t last_ms;	/* last read or write */
	unsigned events;
	int closing;		/* close once out is written */
};

static int auth_conn_run(struct auth_conn *c);

static void auth_conn_wipe(struct str *s)
{
	if (s->s != NULL)
		explicit_bzero(s->s, s->cap);
	str_free(s);
}

void auth_conn_close(struct auth_conn *c)
{
	struct auth_server *srv = c->srv;

	if (c->timer != NULL)
		ev_timer_cancel(srv->loop, c->timer);
	if (c->job != NULL)
		auth_hash_cancel(&srv->hash, c->job);
	authproto_request_clear(&c->req);
	ev_fd_del(srv->loop, c->fd);
	if (close(c->fd) < 0)
		log_warn(NULL, "close client connection: %s", strerror(errno));
	auth_conn_wipe(&c->in);
	auth_conn_wipe(&c->out);	/* may hold a token */
	auth_conn_wipe(&c->held);
	unix_server_closed(&srv->us, &c->uc);
	free(c);
}

struct auth_conn *auth_conn_of(struct unix_conn *uc)
{
	return UNIX_CONN_OWNER(uc, struct auth_conn, uc);
}

/* Write what the socket takes. 0 (maybe with output left), -1 closed. */
static int auth_conn_write(struct auth_conn *c)
{
	while (c->out.len > 0) {
		ssize_t n = write(c->fd, c->out.s, c->out.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			auth_conn_close(c);
			return -1;
		}
		str_consume(&c->out, (size_t)n);
		c->last_ms = clock_ms();
	}
	return 0;
}

static int auth_conn_error(struct auth_conn *c, const char *reason)
{
	c->closing = 1;
	return authproto_reply_format(&c->out, AUTHPROTO_R_ERROR, reason);
}

static void auth_conn_release(void *arg)
{
	struct auth_conn *c = arg;

	c->timer = NULL;
	if (str_append(&c->out, c->held.s, c->held.len) < 0) {
		auth_conn_close(c);
		return;
	}
	str_clear(&c->held);
	(void)auth_conn_run(c);
}

/* Hold reply back for delay_ms, or send it now. 0, or -1 on failure. */
static int auth_conn_answer(struct auth_conn *c, struct str *reply,
			    int64_t delay_ms)
{
	struct str *dst = delay_ms > 0 && !c->srv->us.stopping ? &c->held : &c->out;

	if (str_append(dst, reply->s, reply->len) < 0)
		return -1;
	if (dst == &c->held) {
		c->timer = ev_timer_add(c->srv->loop, delay_ms,
					auth_conn_release, c);
		if (c->timer == NULL)
			return -1;
	}
	return 0;
}

/* The password check of c->req is back (on the loop thread). */
static void auth_conn_hashed(void *arg, struct auth_hash_job *job)
{
	struct auth_conn *c = arg;
	struct str reply = STR_INIT(0);
	int64_t delay_ms;
	int r;

	c->job = NULL;
	r = auth_db_finish(c->srv->db, &c->req, job, clock_ms(), &reply,
			   &delay_ms);
	auth_hash_job_free(job);
	authproto_request_clear(&c->req);
	if (r == 0)
		r = auth_conn_answer(c, &reply, delay_ms);
	auth_conn_wipe(&reply);
	if (r < 0) {
		auth_conn_close(c);
		return;
	}
	(void)auth_conn_run(c);
}

static const char *auth_conn_verb(enum authproto_cmd cmd)
{
	switch (cmd) {
	case AUTHPROTO_LOOKUP:
		return "LOOKUP";
	case AUTHPROTO_VERIFY:
		return "VERIFY";
	case AUTHPROTO_LOGIN:
		return "LOGIN";
	case AUTHPROTO_REDEEM:
		break;
	}
	return "REDEEM";
}

/* Does this connection's socket take req? If not, log it: a REDEEM on
 * the login socket is a login process trying to redeem a token itself. */
static int auth_conn_allowed(struct auth_conn *c,
			     const struct authproto_request *req)
{
	int redeem = req->cmd == AUTHPROTO_REDEEM;

	if (redeem == (c->kind == AUTH_KIND_REDEEM))
		return 1;
	log_warn(NULL, "auth: %s refused on the %s socket (peer pid=%ld "
		 "uid=%lu)", auth_conn_verb(req->cmd),
		 c->kind == AUTH_KIND_REDEEM ? "redeem" : "login",
		 (long)c->peer_pid, (unsigned long)c->peer_uid);
	return 0;
}

/* Decide the request line[0..n). 0, or -1 if the connection must go. */
static int auth_conn_request(struct auth_conn *c, const char *line, size_t n)
{
	struct authproto_request req;
	struct auth_hash_job *job;
	struct str reply = STR_INIT(0);
	const char *error;
	int64_t delay_ms;
	int r;

	if (authproto_request_parse(&req, line, n, &error) < 0) {
		authproto_request_clear(&req);
		return auth_conn_error(c, error);
	}
	service_child_busy(c->srv->sc);
	if (!auth_conn_allowed(c, &req)) {
		authproto_request_clear(&req);
		return auth_conn_error(c, req.cmd == AUTHPROTO_REDEEM
				       ? "REDEEM is not taken on this socket"
				       : "only REDEEM is taken on this socket");
	}
	r = auth_db_begin(c->srv->db, &req, clock_ms(), &reply, &delay_ms,
			  &job, auth_conn_hashed, c);
	if (r == AUTH_DB_HASH) {
		c->req = req;
		c->job = job;
		auth_hash_submit(&c->srv->hash, job);
		r = 0;
	} else if (r == 0) {
		r = auth_conn_answer(c, &reply, delay_ms);
	}
	authproto_request_clear(&req);
	auth_conn_wipe(&reply);
	return r;
}

/* Take one complete line from the input. 1 handled, 0 none there yet,
 * -1 the connection must go. */
static int auth_conn_next_line(struct auth_conn *c)
{
	char *lf = c->in.len > 0 ? memchr(c->in.s, '\n', c->in.len) : NULL;
	size_t n;
	int r;

	if (lf == NULL) {
		if (c->in.len <= AUTH_LINE_MAX)
			return 0;
		return auth_conn_error(c, "line too long") < 0 ? -1 : 1;
	}
	n = (size_t)(lf - c->in.s);
	r = n > AUTH_LINE_MAX ? auth_conn_error(c, "line too long")
			      : auth_conn_request(c, c->in.s, n);
	explicit_bzero(c->in.s, n + 1);
	str_consume(&c->in, n + 1);
	return r < 0 ? -1 : 1;
}

/* Wait for what comes next: writable, readable, or only the timer. */
static int auth_conn_events(struct auth_conn *c)
{
	unsigned want = 0;

	if (c->out.len > 0)
		want = EV_WRITE;
	else if (c->timer == NULL && c->job == NULL && !c->closing)
		want = EV_READ;
	if (want == c->events)
		return 0;
	if (ev_fd_mod(c->srv->loop, c->fd, want) < 0) {
		log_warn(NULL, "event loop: %s", strerror(errno));
		auth_conn_close(c);
		return -1;
	}
	c->events = want;
	return 0;
}

/* Write, then take the next request while nothing is pending. */
static int auth_conn_run(struct auth_conn *c)
{
	int r;

	for (;;) {
		if (auth_conn_write(c) < 0)
			return -1;
		if (c->out.len > 0 || c->timer != NULL || c->job != NULL)
			break;
		if (c->closing || c->srv->us.stopping) {
			auth_conn_close(c);
			return -1;
		}
		r = auth_conn_next_line(c);
		if (r < 0) {
			auth_conn_close(c);
			return -1;
		}
		if (r == 0)
			break;
	}
	return auth_conn_events(c);
}

/* Read what is there (at most the rest of one line). */
static int auth_conn_read(struct auth_conn *c)
{
	char buf[AUTH_LINE_MAX + 1];
	size_t room = AUTH_LINE_MAX + 1 - c->in.len;
	ssize_t n;

	do
		n = read(c->fd, buf, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0 || str_append(&c->in, buf, (size_t)n) < 0) {
		explicit_bzero(buf, sizeof(buf));
		auth_conn_close(c);
		return -1;
	}
	explicit_bzero(buf, (size_t)n);
	c->last_ms = clock_ms();
	return 0;
}

static void auth_conn_on_event(void *arg, int fd, unsigned revents)
{
	struct auth_conn *c = arg;

	(void)fd;
	if (revents & EV_ERROR) {
		auth_conn_close(c);
		return;
	}
	if ((revents & EV_READ) && c->events == EV_READ &&
	    auth_conn_read(c) < 0)
		return;
	(void)auth_conn_run(c);
}

struct unix_conn *auth_conn_new(struct auth_server *srv, int fd,
				enum auth_kind kind,
				const struct unix_peer *peer)
{
	struct auth_conn *c = xcalloc(1, sizeof(*c));

	c->srv = srv;
	c->fd = fd;
	c->kind = kind;
	c->peer_pid = peer->pid;
	c->peer_uid = peer->uid;
	str_init(&c->in, AUTH_LINE_MAX + 1);
	str_init(&c->out, 0);
	str_init(&c->held, 0);
	c->last_ms = clock_ms();
	c->events = EV_READ;
	if (ev_fd_add(srv->loop, fd, EV_READ, auth_conn_on_event, c) < 0) {
		log_warn(NULL, "event loop: %s", strerror(errno));
		close(fd);
		free(c);
		return NULL;
	}
	return &c->uc;
}

void auth_conn_stop(struct auth_conn *c)
{
	if (c->timer != NULL) {
		ev_timer_cancel(c->srv->loop, c->timer);
		c->timer = NULL;
		if (str_append(&c->out, c->held.s, c->held.len) < 0) {
			auth_conn_close(c);
			return;
		}
		str_clear(&c->held);
	}
	c->closing = 1;		/* a check in progress is answered first */
	(void)auth_conn_run(c);
}

/* The mailbox side keeps its redeem connection for its whole life (it
 * cannot make another once confined): never idle. */
void auth_conn_sweep(struct auth_conn *c, int64_t now_ms)
{
	if (c->kind == AUTH_KIND_LOGIN && c->timer == NULL &&
	    c->job == NULL && now_ms - c->last_ms >= AUTH_IDLE_MS)
		auth_conn_close(c);
}

int auth_conn_hashing(const struct auth_conn *c)
{
	return c->job != NULL;
}
