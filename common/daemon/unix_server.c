/*
 * unix_server - the event loop of a daemon whose clients are local
 *               processes on unix sockets
 *
 * See unix_server.h for what the skeleton does and what the daemon does.
 * Here: the per-uid counts (a small chained hash per listener, entries
 * only for uids that hold a connection, so its size follows the
 * connections), the accepting and its limits, the refusal log, and the
 * retire/stop state machine:
 *
 *   serving --SIGHUP--> retiring --SIGTERM--> stopping
 *      \-------------------SIGTERM------------/
 *
 * Retiring and stopping both close the listeners; the loop ends when no
 * connection is left and ops->busy() is 0 (unix_server_check_done), and
 * stopping also ends it at the deadline.
 */
#include "daemon/unix_server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/event.h"
#include "util/log.h"
#include "util/sigfd.h"
#include "util/sock.h"
#include "util/str.h"

#define UNIX_REFUSED_LOG_MS 1000

struct unix_uid_count {
	struct unix_uid_count *next;
	struct unix_listener *listener;
	uid_t uid;
	unsigned n;
};

static const int unix_signals[] = { SIGTERM, SIGINT, SIGHUP, 0 };

/* ---- per-uid counts ------------------------------------------------- */

static struct unix_uid_count **uid_slot(struct unix_listener *l, uid_t uid)
{
	struct unix_uid_count **p = &l->uids[(unsigned)uid % UNIX_UID_BUCKETS];

	while (*p != NULL && (*p)->uid != uid)
		p = &(*p)->next;
	return p;
}

static unsigned uid_count(struct unix_listener *l, uid_t uid)
{
	struct unix_uid_count *e = *uid_slot(l, uid);

	return e != NULL ? e->n : 0;
}

static struct unix_uid_count *uid_take(struct unix_listener *l, uid_t uid)
{
	struct unix_uid_count **p = uid_slot(l, uid);

	if (*p == NULL) {
		*p = xcalloc(1, sizeof(**p));
		(*p)->listener = l;
		(*p)->uid = uid;
	}
	(*p)->n++;
	return *p;
}

static void uid_release(struct unix_uid_count *e)
{
	struct unix_uid_count **p;

	if (--e->n > 0)
		return;
	p = uid_slot(e->listener, e->uid);
	*p = e->next;
	free(e);
}

/* ---- refusals --------------------------------------------------------- */

static void refused_log(struct unix_server *srv)
{
	struct unix_refusals *r = srv->refused;

	if (r[UNIX_REFUSE_TOTAL].count > 0)
		log_warn(NULL, "connection limit %u reached: refused %u "
			 "connection(s)", r[UNIX_REFUSE_TOTAL].limit,
			 r[UNIX_REFUSE_TOTAL].count);
	if (r[UNIX_REFUSE_LISTENER].count > 0)
		log_warn(NULL, "listener %s: connection limit %u reached: "
			 "refused %u connection(s)",
			 r[UNIX_REFUSE_LISTENER].listener,
			 r[UNIX_REFUSE_LISTENER].limit,
			 r[UNIX_REFUSE_LISTENER].count);
	if (r[UNIX_REFUSE_UID].count > 0)
		log_warn(NULL, "listener %s: uid %lu has %u connection(s) "
			 "(its limit): refused %u connection(s)",
			 r[UNIX_REFUSE_UID].listener,
			 (unsigned long)r[UNIX_REFUSE_UID].uid,
			 r[UNIX_REFUSE_UID].limit, r[UNIX_REFUSE_UID].count);
	for (int i = 0; i < 3; i++)
		r[i].count = 0;
	srv->refused_log_ms = clock_ms();
}

static void refused_on_timer(void *arg)
{
	struct unix_server *srv = arg;

	srv->refused_timer = NULL;
	refused_log(srv);
}

/* Log now if the last line is a second old, else once it is. */
static void refused_note(struct unix_server *srv)
{
	int64_t wait = srv->refused_log_ms + UNIX_REFUSED_LOG_MS - clock_ms();

	if (srv->refused_timer != NULL)
		return;
	if (wait <= 0)
		refused_log(srv);
	else
		srv->refused_timer = ev_timer_add(srv->loop, wait,
						  refused_on_timer, srv);
}

static void server_refuse(struct unix_server *srv, struct unix_listener *l,
			  int fd, const struct unix_peer *peer,
			  enum unix_refusal why, unsigned limit)
{
	struct unix_refusals *r = &srv->refused[why];

	if (l->policy->refuse != NULL)
		l->policy->refuse(fd, peer, why, limit);
	if (close(fd) < 0)
		log_warn(NULL, "close refused connection: %s",
			 strerror(errno));
	r->count++;
	r->limit = limit;
	r->uid = peer->uid;
	r->listener = l->policy->name;
	refused_note(srv);
}

void unix_server_send_line(int fd, const char *line)
{
	size_t n = strlen(line);

	/* best effort: the client may have sent nothing yet, or everything */
	if (send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EPIPE && errno != ECONNRESET && errno != EAGAIN &&
	    errno != EWOULDBLOCK)
		log_warn(NULL, "refuse: %s", strerror(errno));
}

/* ---- accepting -------------------------------------------------------- */

static void listen_events(struct unix_server *srv, unsigned ev)
{
	for (size_t i = 0; i < srv->nlisten; i++) {
		int fd = srv->listeners[i].fd;

		if (fd >= 0 && ev_fd_mod(srv->loop, fd, ev) < 0)
			log_fatal("event loop: %s", strerror(errno));
	}
}

static void server_resume(void *arg)
{
	struct unix_server *srv = arg;

	srv->resume_timer = NULL;
	listen_events(srv, EV_READ);
}

static void server_pause(struct unix_server *srv)
{
	if (srv->resume_timer != NULL)
		return;
	log_warn(NULL, "accept: %s; pausing for %lld ms", strerror(errno),
		 (long long)srv->ops.resume_ms);
	listen_events(srv, 0);
	srv->resume_timer = ev_timer_add(srv->loop, srv->ops.resume_ms,
					 server_resume, srv);
}

/* The limits, in order; 0 if the connection may be taken. */
static int server_check(struct unix_server *srv, struct unix_listener *l,
			int fd, const struct unix_peer *peer)
{
	const struct unix_policy *p = l->policy;

	if (srv->ops.conn_max > 0 && srv->nconns >= srv->ops.conn_max)
		server_refuse(srv, l, fd, peer, UNIX_REFUSE_TOTAL,
			      srv->ops.conn_max);
	else if (p->conn_max > 0 && l->nconns >= p->conn_max)
		server_refuse(srv, l, fd, peer, UNIX_REFUSE_LISTENER,
			      p->conn_max);
	else if (p->uid_conn_max > 0 &&
		 uid_count(l, peer->uid) >= p->uid_conn_max)
		server_refuse(srv, l, fd, peer, UNIX_REFUSE_UID,
			      p->uid_conn_max);
	else
		return 0;
	return -1;
}

static void server_take(struct unix_server *srv, struct unix_listener *l,
			int fd)
{
	struct unix_peer peer = { .policy = l->policy };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct unix_conn *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn(NULL, "SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	peer.pid = cred.pid;
	peer.uid = cred.uid;
	peer.gid = cred.gid;
	if (server_check(srv, l, fd, &peer) < 0)
		return;
	c = srv->ops.accept(srv->ops.arg, fd, &peer);
	if (c == NULL)
		return;
	c->peer = peer;
	c->listener = l;
	c->uid_count = l->policy->uid_conn_max > 0 ? uid_take(l, peer.uid)
						   : NULL;
	c->prev = NULL;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	l->nconns++;
}

/* Anything but a transient failure: pause, or (UNIX_ACCEPT_PAUSE_ANY)
 * die if the descriptor is no listener at all. */
static void server_accept_failed(struct unix_server *srv, int lfd)
{
	int e = errno;

	if (srv->ops.accept_errors == UNIX_ACCEPT_PAUSE_ANY) {
		if (e == ENOTSOCK || e == EINVAL || e == EBADF ||
		    e == EOPNOTSUPP)
			log_fatal("listener %d is not a listening socket: %s",
				  lfd, strerror(e));
		server_pause(srv);
	} else if (e == EMFILE || e == ENFILE || e == ENOBUFS ||
		   e == ENOMEM) {
		server_pause(srv);
	} else {
		log_warn(NULL, "accept: %s", strerror(e));
	}
}

/* 1 go on accepting, 0 stop for this round. */
static int server_accept_one(struct unix_server *srv, struct unix_listener *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0) {
		server_take(srv, l, fd);
		return 1;
	}
	if (errno == EINTR || errno == ECONNABORTED)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	server_accept_failed(srv, l->fd);
	return 0;
}

static void server_on_accept(void *arg, int fd, unsigned revents)
{
	struct unix_listener *l = arg;
	struct unix_server *srv = l->srv;

	(void)fd;
	(void)revents;
	for (int i = 0; i < UNIX_ACCEPT_BATCH; i++)
		if (l->fd < 0 || srv->retiring || srv->stopping ||
		    srv->resume_timer != NULL || !server_accept_one(srv, l))
			break;
}

void unix_server_listen(struct unix_server *srv, int fd,
			const struct unix_policy *p)
{
	struct unix_listener *l;

	if (srv->nlisten == UNIX_LISTEN_MAX)
		log_fatal("more than %d listeners", UNIX_LISTEN_MAX);
	l = &srv->listeners[srv->nlisten];
	memset(l, 0, sizeof(*l));
	l->srv = srv;
	l->fd = fd;
	l->policy = p;
	if (fd_nonblock(fd, 1) < 0 ||
	    ev_fd_add(srv->loop, fd, EV_READ, server_on_accept, l) < 0)
		log_fatal("listener %d: %s", fd, strerror(errno));
	srv->nlisten++;
}

/* ---- connections ------------------------------------------------------ */

void unix_server_closed(struct unix_server *srv, struct unix_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	srv->nconns--;
	c->listener->nconns--;
	if (c->uid_count != NULL)
		uid_release(c->uid_count);
	c->uid_count = NULL;
	unix_server_check_done(srv);
}

static void server_on_sweep(void *arg)
{
	struct unix_server *srv = arg;
	struct unix_conn *c, *next;
	int64_t now = clock_ms();

	srv->sweep_timer = NULL;
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		srv->ops.sweep(srv->ops.arg, c, now);
	}
	srv->sweep_timer = ev_timer_add(srv->loop, srv->ops.sweep_ms,
					server_on_sweep, srv);
}

/* ---- retire and stop -------------------------------------------------- */

void unix_server_check_done(struct unix_server *srv)
{
	if ((srv->retiring || srv->stopping) && srv->nconns == 0 &&
	    (srv->ops.busy == NULL || !srv->ops.busy(srv->ops.arg)))
		ev_stop(srv->loop);
}

static void close_listeners(struct unix_server *srv)
{
	if (srv->resume_timer != NULL) {
		ev_timer_cancel(srv->loop, srv->resume_timer);
		srv->resume_timer = NULL;
	}
	for (size_t i = 0; i < srv->nlisten; i++) {
		struct unix_listener *l = &srv->listeners[i];

		if (l->fd < 0)
			continue;
		ev_fd_del(srv->loop, l->fd);
		if (close(l->fd) < 0)
			log_warn(NULL, "close listener: %s", strerror(errno));
		l->fd = -1;
	}
}

static void log_state(struct unix_server *srv, const char *what)
{
	struct str more = STR_INIT(0);

	if (srv->ops.describe != NULL)
		srv->ops.describe(srv->ops.arg, &more);
	log_info(NULL, "%s: %u connection(s) open%s", what, srv->nconns,
		 str_c(&more));
	str_free(&more);
}

void unix_server_retire(struct unix_server *srv)
{
	if (srv->retiring || srv->stopping)
		return;
	log_state(srv, "retiring");
	srv->retiring = 1;
	close_listeners(srv);
	unix_server_check_done(srv);
}

static void server_on_deadline(void *arg)
{
	struct unix_server *srv = arg;

	srv->stop_timer = NULL;
	log_warn(NULL, "stop: %u connection(s) not finished after %lld ms",
		 srv->nconns, (long long)srv->ops.stop_ms);
	ev_stop(srv->loop);
}

void unix_server_stop(struct unix_server *srv)
{
	struct unix_conn *c, *next;

	if (srv->stopping)
		return;
	log_state(srv, "stopping");
	srv->stopping = 1;
	close_listeners(srv);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		srv->ops.stop(srv->ops.arg, c);
	}
	srv->stop_timer = ev_timer_add(srv->loop, srv->ops.stop_ms,
				       server_on_deadline, srv);
	unix_server_check_done(srv);
}

static void server_on_signal(void *arg, int fd, unsigned revents)
{
	struct unix_server *srv = arg;
	int sig;

	(void)revents;
	while ((sig = sigfd_next(fd)) > 0) {
		if (sig == SIGHUP)
			unix_server_retire(srv);
		else
			unix_server_stop(srv);
	}
	if (sig < 0)
		log_fatal("signalfd: %s", strerror(errno));
}

/* ---- life ------------------------------------------------------------- */

void unix_server_init(struct unix_server *srv,
		      const struct unix_server_ops *ops)
{
	memset(srv, 0, sizeof(*srv));
	srv->ops = *ops;
	if (srv->ops.accept == NULL || srv->ops.stop == NULL ||
	    (srv->ops.sweep_ms > 0 && srv->ops.sweep == NULL))
		log_panic("unix_server: accept, stop (and sweep) required");
	srv->loop = ev_new();
	if (srv->loop == NULL)
		log_fatal("event loop: %s", strerror(errno));
	srv->sig_fd = sigfd_open(unix_signals);
	if (srv->sig_fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	if (ev_fd_add(srv->loop, srv->sig_fd, EV_READ, server_on_signal,
		      srv) < 0)
		log_fatal("event loop: %s", strerror(errno));
	if (srv->ops.sweep_ms > 0)
		srv->sweep_timer = ev_timer_add(srv->loop, srv->ops.sweep_ms,
						server_on_sweep, srv);
}

void unix_server_run(struct unix_server *srv)
{
	if (ev_run(srv->loop) < 0)
		log_fatal("event loop: %s", strerror(errno));
}

void unix_server_free(struct unix_server *srv)
{
	if (srv->loop == NULL)
		return;
	if (srv->refused[0].count + srv->refused[1].count +
	    srv->refused[2].count > 0)
		refused_log(srv);
	ev_timer_cancel(srv->loop, srv->sweep_timer);
	ev_timer_cancel(srv->loop, srv->stop_timer);
	ev_timer_cancel(srv->loop, srv->refused_timer);
	srv->sweep_timer = srv->stop_timer = srv->refused_timer = NULL;
	close_listeners(srv);
	for (size_t i = 0; i < srv->nlisten; i++)
		for (size_t b = 0; b < UNIX_UID_BUCKETS; b++)
			while (srv->listeners[i].uids[b] != NULL) {
				struct unix_uid_count *e =
					srv->listeners[i].uids[b];

				srv->listeners[i].uids[b] = e->next;
				free(e);
			}
	ev_fd_del(srv->loop, srv->sig_fd);
	close(srv->sig_fd);
	ev_free(srv->loop);
	srv->loop = NULL;
}
