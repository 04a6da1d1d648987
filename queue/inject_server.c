/*
 * inject_server - postern-inject's event loop: listeners, signals, sweep
 *
 * One process, one epoll loop, plus the commit thread (inject_commit.c).
 * A client beyond INJECT_CONN_MAX is answered "TEMP too many connections"
 * and closed (logged at most once a second, with a count). When accept
 * runs out of descriptors the listeners rest for a second.
 *
 * Signals arrive through a signalfd (they are blocked before the commit
 * thread starts, so it never sees one):
 *   SIGHUP   retire: the listeners close; clients in progress finish; the
 *            loop ends when the last connection has been answered.
 *   SIGTERM, SIGINT  stop: the listeners close; a client still sending
 *            gets "TEMP queue service stopping" and its nameless file
 *            vanishes; messages already complete are committed and
 *            answered; the loop ends when nothing is left, or after
 *            INJECT_STOP_MS whatever is left.
 */
#include "inject_daemon.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"
#include "util/sigfd.h"
#include "util/sock.h"

#define INJECT_ACCEPT_BATCH 64
#define INJECT_RESUME_MS 1000
#define INJECT_TOO_MANY "TEMP\ttoo many connections\n"

static const int inject_signals[] = { SIGTERM, SIGINT, SIGHUP, 0 };

static void server_listen_events(struct inject_server *srv, unsigned ev)
{
	for (size_t i = 0; i < srv->sc->nlisten; i++)
		if (ev_fd_mod(srv->loop, srv->sc->listen_fds[i], ev) < 0)
			log_fatal("event loop: %s", strerror(errno));
}

static void server_resume(void *arg)
{
	struct inject_server *srv = arg;

	srv->resume_timer = NULL;
	server_listen_events(srv, EV_READ);
}

/* Out of descriptors or memory: stop accepting for a while. */
static void server_pause(struct inject_server *srv)
{
	if (srv->resume_timer != NULL)
		return;
	log_warn(NULL, "accept: %s; pausing for %d ms", strerror(errno),
		 INJECT_RESUME_MS);
	server_listen_events(srv, 0);
	srv->resume_timer = ev_timer_add(srv->loop, INJECT_RESUME_MS,
					 server_resume, srv);
}

static void server_refuse(struct inject_server *srv, int fd)
{
	int64_t now = clock_ms();

	/* best effort: the client may have sent nothing yet, or everything */
	if (send(fd, INJECT_TOO_MANY, sizeof(INJECT_TOO_MANY) - 1,
		 MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET && errno != EAGAIN)
		log_warn(NULL, "refuse: %s", strerror(errno));
	close(fd);
	srv->refused++;
	if (now - srv->refused_log_ms < 1000)
		return;
	log_warn(NULL, "connection limit %d reached: refused %u "
		 "connection(s)", INJECT_CONN_MAX, srv->refused);
	srv->refused = 0;
	srv->refused_log_ms = now;
}

/* 1 go on accepting, 0 stop for now. */
static int server_accept_one(struct inject_server *srv, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0) {
		if (srv->nconns >= INJECT_CONN_MAX)
			server_refuse(srv, fd);
		else
			inject_conn_new(srv, fd);
		return 1;
	}
	if (errno == EINTR || errno == ECONNABORTED)
		return 1;
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM)
		server_pause(srv);
	else if (errno != EAGAIN && errno != EWOULDBLOCK)
		log_warn(NULL, "accept: %s", strerror(errno));
	return 0;
}

static void server_on_accept(void *arg, int fd, unsigned revents)
{
	struct inject_server *srv = arg;

	(void)revents;
	for (int i = 0; i < INJECT_ACCEPT_BATCH; i++) {
		if (srv->retiring || srv->stopping ||
		    !server_accept_one(srv, fd))
			break;
	}
}

static void server_on_sweep(void *arg)
{
	struct inject_server *srv = arg;

	inject_conn_sweep(srv, clock_ms());
	srv->sweep_timer = ev_timer_add(srv->loop, INJECT_SWEEP_MS,
					server_on_sweep, srv);
}

static void server_on_deadline(void *arg)
{
	struct inject_server *srv = arg;

	srv->stop_timer = NULL;
	log_warn(NULL, "stop: %u connection(s) not finished after %d ms",
		 srv->nconns, INJECT_STOP_MS);
	ev_stop(srv->loop);
}

static void server_close_listeners(struct inject_server *srv)
{
	if (srv->resume_timer != NULL) {
		ev_timer_cancel(srv->loop, srv->resume_timer);
		srv->resume_timer = NULL;
	}
	for (size_t i = 0; i < srv->sc->nlisten; i++) {
		int fd = srv->sc->listen_fds[i];

		ev_fd_del(srv->loop, fd);
		if (close(fd) < 0)
			log_warn(NULL, "close listener: %s", strerror(errno));
	}
	srv->sc->nlisten = 0;
}

void inject_server_check_done(struct inject_server *srv)
{
	if ((srv->retiring || srv->stopping) && srv->nconns == 0 &&
	    srv->commit.inflight == 0)
		ev_stop(srv->loop);
}

void inject_server_retire(struct inject_server *srv)
{
	log_info(NULL, "retiring: %u connection(s) open", srv->nconns);
	srv->retiring = 1;
	server_close_listeners(srv);
	inject_server_check_done(srv);
}

static void server_stop(struct inject_server *srv)
{
	struct inject_conn *c, *next;

	log_info(NULL, "stopping: %u connection(s) open, %u message(s) "
		 "being committed", srv->nconns, srv->commit.inflight);
	srv->stopping = 1;
	if (srv->sc->nlisten > 0)
		server_close_listeners(srv);
	for (c = srv->conns; c != NULL; c = next) {
		next = inject_conn_next(c);
		inject_conn_stop(c);
	}
	srv->stop_timer = ev_timer_add(srv->loop, INJECT_STOP_MS,
				       server_on_deadline, srv);
	inject_server_check_done(srv);
}

static void server_on_signal(void *arg, int fd, unsigned revents)
{
	struct inject_server *srv = arg;
	int sig;

	(void)revents;
	while ((sig = sigfd_next(fd)) > 0) {
		if (srv->stopping)
			continue;
		if (sig == SIGHUP) {
			if (!srv->retiring)
				inject_server_retire(srv);
		} else {
			server_stop(srv);
		}
	}
	if (sig < 0)
		log_fatal("signalfd: %s", strerror(errno));
}

static void server_listeners(struct inject_server *srv)
{
	for (size_t i = 0; i < srv->sc->nlisten; i++) {
		int fd = srv->sc->listen_fds[i];

		if (fd_nonblock(fd, 1) < 0 ||
		    ev_fd_add(srv->loop, fd, EV_READ, server_on_accept,
			      srv) < 0)
			log_fatal("listener %d: %s", fd, strerror(errno));
	}
}

void inject_server_init(struct inject_server *srv, struct service_child *sc)
{
	const char *error;

	srv->sc = sc;
	srv->size_limit = sc->conf.message_size_limit;
	srv->loop = ev_new();
	if (srv->loop == NULL)
		log_fatal("event loop: %s", strerror(errno));
	if (inject_store_open(&srv->store, &sc->conf, &error) < 0)
		log_fatal("queue: %s", error);
	if (!srv->store.use_tmpfile)
		log_info(NULL, "O_TMPFILE unavailable in %s/tmp: using named "
			 "tmp/ files and rename", sc->conf.queue_dir);
	srv->sig_fd = sigfd_open(inject_signals);
	if (srv->sig_fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	if (ev_fd_add(srv->loop, srv->sig_fd, EV_READ, server_on_signal,
		      srv) < 0)
		log_fatal("event loop: %s", strerror(errno));
	inject_wake_init(&srv->wake, &sc->conf);
	inject_wake_open(srv);
	server_listeners(srv);
	srv->sweep_timer = ev_timer_add(srv->loop, INJECT_SWEEP_MS,
					server_on_sweep, srv);
}

void inject_server_run(struct inject_server *srv)
{
	/* here, not in init: started by the confined process, the thread
	 * is confined too (sandbox.h) */
	inject_commit_start(srv);
	if (ev_run(srv->loop) < 0)
		log_fatal("event loop: %s", strerror(errno));
	log_info(NULL, "exiting: %llu message(s) in %llu commit round(s)",
		 (unsigned long long)srv->commit.messages,
		 (unsigned long long)srv->commit.rounds);
}

void inject_server_free(struct inject_server *srv)
{
	inject_commit_stop(srv);
	if (srv->commit.inflight > 0)
		return;	/* the thread still uses the store: exit() ends it */
	while (srv->conns != NULL)
		inject_conn_close(srv->conns);
	ev_timer_cancel(srv->loop, srv->sweep_timer);
	ev_timer_cancel(srv->loop, srv->resume_timer);
	ev_timer_cancel(srv->loop, srv->stop_timer);
	if (srv->sc->nlisten > 0)
		server_close_listeners(srv);
	inject_wake_free(srv);
	ev_fd_del(srv->loop, srv->sig_fd);
	close(srv->sig_fd);
	inject_store_close(&srv->store);
	ev_free(srv->loop);
	srv->loop = NULL;
}
