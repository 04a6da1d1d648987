/*
 * auth_server - postern-auth's event loop: listeners, signals, idle sweep
 *
 * One process, one epoll loop. New connections beyond AUTH_CONN_MAX are
 * closed at once (logged at most once a second, with a count). When accept
 * runs out of descriptors the listeners rest for a second instead of
 * spinning. SIGTERM and SIGINT arrive through a signalfd: the listeners
 * close, held answers are sent at once, every connection closes once its
 * answer is written, and the loop ends when none is left or after
 * AUTH_STOP_MS, whichever comes first. SIGHUP retires the process (the
 * master's reload): the listeners close, established connections are
 * served as before (so smtpd and pop3d clients see no drop) until they
 * close or the idle sweep closes them, and the loop ends with the last.
 */
#include "auth.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"
#include "util/sigfd.h"
#include "util/sock.h"

#define AUTH_ACCEPT_BATCH 64
#define AUTH_RESUME_MS 1000

static const int auth_signals[] = { SIGTERM, SIGINT, SIGHUP, 0 };

static void auth_server_listen_events(struct auth_server *srv, unsigned ev)
{
	for (size_t i = 0; i < srv->sc->nlisten; i++)
		if (ev_fd_mod(srv->loop, srv->sc->listen_fds[i], ev) < 0)
			log_fatal("event loop: %s", strerror(errno));
}

static void auth_server_resume(void *arg)
{
	struct auth_server *srv = arg;

	srv->resume_timer = NULL;
	auth_server_listen_events(srv, EV_READ);
}

/* accept failed in a way that would repeat at once: stop accepting for
 * a while. */
static void auth_server_pause(struct auth_server *srv)
{
	if (srv->resume_timer != NULL)
		return;
	log_warn(NULL, "accept: %s; pausing for %d ms", strerror(errno),
		 AUTH_RESUME_MS);
	auth_server_listen_events(srv, 0);
	srv->resume_timer = ev_timer_add(srv->loop, AUTH_RESUME_MS,
					 auth_server_resume, srv);
	if (srv->resume_timer == NULL)
		log_fatal("event loop: cannot add a timer");
}

static void auth_server_refused_log(struct auth_server *srv, int64_t now)
{
	log_warn(NULL, "connection limit %d reached: refused %u connection(s)",
		 AUTH_CONN_MAX, srv->refused);
	srv->refused = 0;
	srv->refused_log_ms = now;
}

static void auth_server_refuse(struct auth_server *srv, int fd)
{
	int64_t now = clock_ms();

	if (close(fd) < 0)
		log_warn(NULL, "close refused connection: %s", strerror(errno));
	srv->refused++;
	if (now - srv->refused_log_ms >= 1000)
		auth_server_refused_log(srv, now);
}

/* 1 go on accepting, 0 stop for now. */
static int auth_server_accept_one(struct auth_server *srv, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0) {
		if (srv->nconns >= AUTH_CONN_MAX)
			auth_server_refuse(srv, fd);
		else
			auth_conn_new(srv, fd);
		return 1;
	}
	if (errno == EINTR || errno == ECONNABORTED)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == ENOTSOCK || errno == EINVAL || errno == EBADF ||
	    errno == EOPNOTSUPP)
		log_fatal("listener %d is not a listening socket: %s", lfd,
			  strerror(errno));
	/* out of descriptors or memory, or anything else that would repeat
	 * at once: rest instead of spinning */
	auth_server_pause(srv);
	return 0;
}

static void auth_server_on_accept(void *arg, int fd, unsigned revents)
{
	struct auth_server *srv = arg;

	(void)revents;
	for (int i = 0; i < AUTH_ACCEPT_BATCH && !srv->stopping; i++)
		if (!auth_server_accept_one(srv, fd))
			break;
}

static void auth_server_on_sweep(void *arg)
{
	struct auth_server *srv = arg;
	int64_t now = clock_ms();

	auth_conn_sweep(srv, now);
	if (srv->refused > 0)
		auth_server_refused_log(srv, now);
	srv->sweep_timer = ev_timer_add(srv->loop, AUTH_SWEEP_MS,
					auth_server_on_sweep, srv);
	if (srv->sweep_timer == NULL)
		log_fatal("event loop: cannot add a timer");
}

static void auth_server_on_deadline(void *arg)
{
	struct auth_server *srv = arg;

	srv->stop_timer = NULL;
	log_warn(NULL, "stop: closing %u connection(s) still writing",
		 srv->nconns);
	while (srv->conns != NULL)
		auth_conn_close(srv->conns);
	ev_stop(srv->loop);
}

static void auth_server_close_listeners(struct auth_server *srv)
{
	for (size_t i = 0; i < srv->sc->nlisten; i++) {
		int fd = srv->sc->listen_fds[i];

		ev_fd_del(srv->loop, fd);
		if (close(fd) < 0)
			log_warn(NULL, "close listener: %s", strerror(errno));
	}
	srv->sc->nlisten = 0;
}

static void auth_server_stop(struct auth_server *srv)
{
	struct auth_conn *c, *next;

	log_info(NULL, "stopping: %u connection(s) open", srv->nconns);
	srv->stopping = 1;
	auth_server_close_listeners(srv);
	for (c = srv->conns; c != NULL; c = next) {
		next = auth_conn_next(c);
		auth_conn_stop(c);
	}
	if (srv->nconns == 0) {
		ev_stop(srv->loop);
		return;
	}
	srv->stop_timer = ev_timer_add(srv->loop, AUTH_STOP_MS,
				       auth_server_on_deadline, srv);
	if (srv->stop_timer == NULL)
		ev_stop(srv->loop);
}

static void auth_server_retire(struct auth_server *srv)
{
	log_info(NULL, "retiring: %u connection(s) open", srv->nconns);
	srv->retiring = 1;
	auth_server_close_listeners(srv);
	if (srv->nconns == 0)
		ev_stop(srv->loop);
}

static void auth_server_on_signal(void *arg, int fd, unsigned revents)
{
	struct auth_server *srv = arg;
	int sig;

	(void)revents;
	while ((sig = sigfd_next(fd)) > 0) {
		if (srv->stopping)
			continue;
		if (sig == SIGHUP) {
			if (!srv->retiring)
				auth_server_retire(srv);
		} else {
			auth_server_stop(srv);
		}
	}
	if (sig < 0)
		log_fatal("signalfd: %s", strerror(errno));
}

void auth_server_init(struct auth_server *srv, struct service_child *sc,
		      struct auth_db *db)
{
	memset(srv, 0, sizeof(*srv));
	srv->sc = sc;
	srv->db = db;
	srv->loop = ev_new();
	if (srv->loop == NULL)
		log_fatal("event loop: %s", strerror(errno));
	srv->sig_fd = sigfd_open(auth_signals);
	if (srv->sig_fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	if (ev_fd_add(srv->loop, srv->sig_fd, EV_READ, auth_server_on_signal,
		      srv) < 0)
		log_fatal("event loop: %s", strerror(errno));
	for (size_t i = 0; i < sc->nlisten; i++) {
		int fd = sc->listen_fds[i];

		if (fd_nonblock(fd, 1) < 0 ||
		    ev_fd_add(srv->loop, fd, EV_READ, auth_server_on_accept,
			      srv) < 0)
			log_fatal("listener %d: %s", fd, strerror(errno));
	}
	srv->sweep_timer = ev_timer_add(srv->loop, AUTH_SWEEP_MS,
					auth_server_on_sweep, srv);
	if (srv->sweep_timer == NULL)
		log_fatal("event loop: cannot add a timer");
}

void auth_server_run(struct auth_server *srv)
{
	if (ev_run(srv->loop) < 0)
		log_fatal("event loop: %s", strerror(errno));
}

void auth_server_free(struct auth_server *srv)
{
	while (srv->conns != NULL)
		auth_conn_close(srv->conns);
	if (srv->sweep_timer != NULL)
		ev_timer_cancel(srv->loop, srv->sweep_timer);
	if (srv->resume_timer != NULL)
		ev_timer_cancel(srv->loop, srv->resume_timer);
	if (srv->stop_timer != NULL)
		ev_timer_cancel(srv->loop, srv->stop_timer);
	if (srv->sc->nlisten > 0)
		auth_server_close_listeners(srv);
	ev_fd_del(srv->loop, srv->sig_fd);
	close(srv->sig_fd);
	ev_free(srv->loop);
	srv->loop = NULL;
}
