/*
 * session_server - fork-per-connection acceptor; see session_server.h
 */
#include "mail/session_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sigfd.h"
#include "util/sock.h"

#define SESSION_ACCEPT_BATCH 32
#define SESSION_PAUSE_MS 1000

struct session_server {
	struct service_child *sc;
	struct child_table sessions;
	session_accepted_fn *accepted;
	void *arg;
	int sig_fd;
	int done_r;			/* sessions' "I am done" notices */
	int accepting;
	int stopping;			/* SIGTERM: sessions were told */
	int pause_ms;			/* out of descriptors: rest a while */
};

static const int session_signals[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, 0 };

/* In a session: where to announce its end (see session_server_ending). */
static int session_done_w = -1;

/* Sessions that announced their end no longer count against the limits,
 * though their processes may live a moment longer. A session writes its
 * notice before its last reply, so a client that reconnects the instant
 * it has that reply finds the notice already in the pipe. */
static void server_drain_done(struct session_server *ss)
{
	pid_t pids[64];
	ssize_t n;

	while ((n = read(ss->done_r, pids, sizeof(pids))) > 0)
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(pid_t); i++)
			child_table_forget(&ss->sessions, pids[i]);
}

void session_server_ending(void)
{
	pid_t self = getpid();

	if (session_done_w < 0)
		return;
	if (write(session_done_w, &self, sizeof(self)) != sizeof(self)) {
		/* the parent is gone or swamped: it will reap us instead */
	}
	close(session_done_w);
	session_done_w = -1;
}

static void server_close_listeners(struct session_server *ss)
{
	struct service_child *sc = ss->sc;

	for (size_t i = 0; i < sc->nlisten; i++)
		if (close(sc->listen_fds[i]) < 0)
			log_warn(NULL, "close listener: %s", strerror(errno));
	sc->nlisten = 0;
	ss->accepting = 0;
}

static void server_retire(struct session_server *ss)
{
	if (!ss->accepting)
		return;
	log_info(NULL, "retiring: %u session(s) to finish",
		 ss->sessions.used);
	server_close_listeners(ss);
}

static void server_stop(struct session_server *ss)
{
	if (ss->stopping)
		return;
	log_info(NULL, "stopping: %u session(s) told to end",
		 ss->sessions.used);
	server_close_listeners(ss);
	ss->stopping = 1;
	child_table_kill(&ss->sessions, SIGTERM);
}

static void server_on_signals(struct session_server *ss)
{
	int sig;

	while ((sig = sigfd_next(ss->sig_fd)) > 0) {
		if (sig == SIGCHLD) {
			server_drain_done(ss);
			child_table_reap(&ss->sessions);
		}
		else if (sig == SIGHUP)
			server_retire(ss);
		else
			server_stop(ss);
	}
	if (sig < 0)
		log_fatal("signalfd: %s", strerror(errno));
}

static void server_accept(struct session_server *ss, int lfd)
{
	for (int i = 0; i < SESSION_ACCEPT_BATCH && ss->accepting; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			ss->accepted(ss, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn(NULL, "accept: %s; pausing for %d ms",
				 strerror(errno), SESSION_PAUSE_MS);
			ss->pause_ms = SESSION_PAUSE_MS;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			log_warn(NULL, "accept: %s", strerror(errno));
		}
		return;
	}
}

static void server_poll_once(struct session_server *ss)
{
	struct service_child *sc = ss->sc;
	struct pollfd pfd[SERVICE_LISTEN_MAX + 1];
	size_t n = 0;
	int timeout = ss->pause_ms > 0 ? ss->pause_ms : -1;

	pfd[n++] = (struct pollfd){ .fd = ss->sig_fd, .events = POLLIN };
	for (size_t i = 0; ss->accepting && ss->pause_ms == 0 &&
	     i < sc->nlisten; i++)
		pfd[n++] = (struct pollfd){ .fd = sc->listen_fds[i],
					    .events = POLLIN };
	ss->pause_ms = 0;
	if (poll(pfd, n, timeout) < 0) {
		if (errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		return;
	}
	if (pfd[0].revents)
		server_on_signals(ss);
	for (size_t i = 1; i < n && ss->accepting; i++)
		if (pfd[i].revents)
			server_accept(ss, pfd[i].fd);
}

void session_server_run(struct service_child *sc, unsigned max,
			session_accepted_fn *accepted, void *arg)
{
	struct session_server ss = {
		.sc = sc, .accepted = accepted, .arg = arg, .accepting = 1,
	};

	int done[2];

	child_table_init(&ss.sessions, max);
	if (pipe2(done, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal("pipe: %s", strerror(errno));
	ss.done_r = done[0];
	session_done_w = done[1];
	ss.sig_fd = sigfd_open(session_signals);
	if (ss.sig_fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	for (size_t i = 0; i < sc->nlisten; i++)
		if (fd_nonblock(sc->listen_fds[i], 1) < 0)
			log_fatal("listener: %s", strerror(errno));
	log_info(NULL, "service %s: accepting", sc->def->name);
	while (ss.accepting || ss.sessions.used > 0)
		server_poll_once(&ss);
	log_info(NULL, "service %s: all sessions ended", sc->def->name);
	close(ss.sig_fd);
	close(ss.done_r);
	close(session_done_w);
	session_done_w = -1;
	child_table_free(&ss.sessions);
}

void *session_server_arg(const struct session_server *ss)
{
	return ss->arg;
}

int session_server_full(const struct session_server *ss)
{
	return child_table_full(&ss->sessions);
}

unsigned session_server_count(const struct session_server *ss,
			      const char *key)
{
	return child_table_count(&ss->sessions, key);
}

/* In the new session process: forget the parent's state. */
static void server_child_setup(struct session_server *ss)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn(NULL, "prctl: %s", strerror(errno));
	if (getppid() == 1)
		_exit(0);		/* the parent is already gone */
	close(ss->sig_fd);
	close(ss->done_r);
	server_close_listeners(ss);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);	/* a retiring parent lets us finish */
	if (sigfd_unblock_all() < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
}

pid_t session_server_fork(struct session_server *ss, const char *key)
{
	pid_t pid = fork();

	if (pid == 0)
		server_child_setup(ss);
	if (pid <= 0)
		return pid;
	if (child_table_add(&ss->sessions, pid, key) < 0)
		log_panic("session table: no slot for '%s' after the limit "
			  "check", key);
	service_child_busy(ss->sc);
	return pid;
}

/* ---- a daemon whose connections are its clients ---------------------- */

/* Answer a refused client with one line and close (best effort: the
 * socket is not waited for). */
static void clients_refuse(const struct session_clients *cl, int fd,
			   const char *ip, const char *reply, const char *why)
{
	size_t n = strlen(reply);

	if (!cl->silent &&
	    send(fd, reply, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		log_info(NULL, "refused %s: could not send the reply: %s", ip,
			 strerror(errno));
	log_warn(NULL, "refused connection from %s: %s", ip, why);
	if (close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
}

static void clients_fork(struct session_server *ss,
			 const struct session_clients *cl, int fd,
			 const char *ip)
{
	pid_t pid;

	if (cl->before_fork != NULL)
		cl->before_fork(cl->arg);
	pid = session_server_fork(ss, ip);
	if (pid < 0) {
		clients_refuse(cl, fd, ip, cl->fork_reply, strerror(errno));
		return;
	}
	if (pid == 0) {
		cl->session(cl->arg, fd, ip);
		log_panic("session returned");
	}
	if (close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
}

static void clients_accepted(struct session_server *ss, int fd)
{
	const struct session_clients *cl = ss->arg;
	char ip[SESSION_IP_MAX];

	if (sock_peer_addr(fd, ip, sizeof(ip)) < 0) {
		log_warn(NULL, "accepted connection: peer address: %s",
			 strerror(errno));
		close(fd);
		return;
	}
	/* sessions that ended since the last SIGCHLD was read must not count
	 * against the limits (a client reconnecting at once after QUIT) */
	server_drain_done(ss);
	child_table_reap(&ss->sessions);
	if (session_server_full(ss))
		clients_refuse(cl, fd, ip, cl->busy_reply, cl->busy_why);
	else if (cl->per_client_max > 0 &&
		 session_server_count(ss, ip) >= cl->per_client_max)
		clients_refuse(cl, fd, ip, cl->client_reply, cl->client_why);
	else
		clients_fork(ss, cl, fd, ip);
}

void session_server_run_clients(struct service_child *sc,
				const struct session_clients *cl)
{
	session_server_run(sc, cl->total_max, clients_accepted, (void *)cl);
}

/* ---- inside a session ------------------------------------------------- */

static volatile sig_atomic_t *stop_flag;
static volatile sig_atomic_t stop_fd = -1;

static void session_on_stop(int sig)
{
	(void)sig;
	if (stop_flag != NULL)
		*stop_flag = 1;
	if (stop_fd >= 0)
		shutdown(stop_fd, SHUT_RD);
}

void session_stop_on(int signo, volatile sig_atomic_t *flag, int fd)
{
	stop_flag = flag;
	stop_fd = fd;
	signal(signo, session_on_stop);
}

void session_stop_release(void)
{
	stop_fd = -1;
}
