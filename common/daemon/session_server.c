/*
 * session_server - the acceptor of postern's session daemons; see
 *                  session_server.h (processes reused: session_pool.h)
 */
#include "daemon/session_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/service_sandbox.h"
#include "daemon/session_pool.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/sigfd.h"
#include "util/sock.h"
#include "util/str.h"

#define SESSION_ACCEPT_BATCH 32
#define SESSION_PAUSE_MS 1000
#define SESSION_IPV6_PREFIX 64	/* one IPv6 client is one /64 */

struct session_server {
	struct service_child *sc;
	struct child_table sessions;	/* the sessions running */
	struct session_pool pool;	/* max_use > 1: the processes */
	session_accepted_fn *accepted;
	void *arg;
	int sig_fd;
	int done_r;			/* sessions' "I am done" notices */
	int accepting;
	int stopping;			/* SIGTERM: sessions were told */
	int pause_ms;			/* out of descriptors: rest a while */
};

static const int session_signals[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, 0 };

/* In a session process: how it announces its end (session_server_ending):
 * the pipe, whether this session still has to, whether it is the
 * process's last (a pool worker keeps the pipe for the next session), and
 * whether the process said it is leaving. */
struct session_notice {
	int done_w;
	int due, pooled, last, left;
};

static struct session_notice notice = { .done_w = -1 };

/* The session's SIGTERM flag and descriptor (session_stop_on). */
static volatile sig_atomic_t *stop_flag;
static volatile sig_atomic_t stop_fd = -1;

/* Sessions that announced their end no longer count against the limits,
 * though their processes may live a moment longer. A session writes its
 * notice before its last reply, so a client that reconnects the instant
 * it has that reply finds the notice already in the pipe. A notice is the
 * pid; minus the pid from a pool worker that is leaving. */
static void server_drain_done(struct session_server *ss)
{
	pid_t pids[64];
	ssize_t n;

	while ((n = read(ss->done_r, pids, sizeof(pids))) > 0)
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(pid_t); i++) {
			child_table_forget(&ss->sessions, pids[i] < 0 ?
					   -pids[i] : pids[i]);
			session_pool_notice(&ss->pool, pids[i],
					    ss->accepting);
		}
}

void session_server_ending(void)
{
	pid_t n = getpid();

	if (!notice.due || notice.done_w < 0)
		return;
	notice.due = 0;
	if (notice.pooled &&
	    (notice.last || (stop_flag != NULL && *stop_flag)))
		n = -n;
	if (write(notice.done_w, &n, sizeof(n)) != sizeof(n)) {
		/* the parent is gone or swamped: it will reap us instead */
		n = -1;
	}
	notice.left = n < 0;
	if (!notice.pooled) {
		close(notice.done_w);
		notice.done_w = -1;
	}
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
	session_pool_release_idle(&ss->pool);
}

static void server_stop(struct session_server *ss)
{
	if (ss->stopping)
		return;
	log_info(NULL, "stopping: %u session(s) told to end",
		 ss->sessions.used);
	server_close_listeners(ss);
	session_pool_release_idle(&ss->pool);
	ss->stopping = 1;
	child_table_kill(&ss->sessions, SIGTERM);
}

static void server_reaped(void *arg, pid_t pid)
{
	struct session_server *ss = arg;

	session_pool_gone(&ss->pool, pid);
}

static void server_on_signals(struct session_server *ss)
{
	int sig;

	while ((sig = sigfd_next(ss->sig_fd)) > 0) {
		if (sig == SIGCHLD) {
			server_drain_done(ss);
			child_table_reap_each(&ss->sessions, server_reaped,
					      ss);
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
	struct pollfd pfd[SERVICE_LISTEN_MAX + 2];
	size_t n = 0;
	int timeout = session_pool_expire(&ss->pool);

	if (ss->pause_ms > 0 && (timeout < 0 || ss->pause_ms < timeout))
		timeout = ss->pause_ms;
	pfd[n++] = (struct pollfd){ .fd = ss->sig_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = ss->done_r, .events = POLLIN };
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
	if (pfd[1].revents)
		server_drain_done(ss);
	for (size_t i = 2; i < n && ss->accepting; i++)
		if (pfd[i].revents)
			server_accept(ss, pfd[i].fd);
}

/* max_use > 1: processes serve up to max_use sessions (session_pool.h);
 * a pool has room for max busy workers and as many idle or leaving. */
static void server_run(struct service_child *sc, unsigned max,
		       unsigned max_use, session_accepted_fn *accepted,
		       void *arg)
{
	struct session_server ss = {
		.sc = sc, .accepted = accepted, .arg = arg, .accepting = 1,
	};

	int done[2];

	child_table_init(&ss.sessions, max);
	session_pool_init(&ss.pool, max_use > 1 ? 2 * max : 0, max_use);
	if (pipe2(done, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal("pipe: %s", strerror(errno));
	ss.done_r = done[0];
	notice.done_w = done[1];
	ss.sig_fd = sigfd_open(session_signals);
	if (ss.sig_fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	for (size_t i = 0; i < sc->nlisten; i++)
		if (fd_nonblock(sc->listen_fds[i], 1) < 0)
			log_fatal("listener: %s", strerror(errno));
	log_info(NULL, "service %s: accepting", sc->def->name);
	while (ss.accepting || ss.sessions.used > 0 || ss.pool.live > 0)
		server_poll_once(&ss);
	log_info(NULL, "service %s: all sessions ended", sc->def->name);
	close(ss.sig_fd);
	close(ss.done_r);
	close(notice.done_w);
	notice.done_w = -1;
	session_pool_free(&ss.pool);
	child_table_free(&ss.sessions);
}

void session_server_run(struct service_child *sc, unsigned max,
			session_accepted_fn *accepted, void *arg)
{
	server_run(sc, max, 1, accepted, arg);
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
	session_pool_close_in_child(&ss->pool);
	notice.due = 1;
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

/* What session_server_run_clients() hands the server as its arg. */
struct clients_ctx {
	const struct session_clients *cl;
	struct cidr_list trusted;	/* trusted_networks */
};

int session_client_key(const char *ip, char *key, size_t size)
{
	struct cidr c;

	if (cidr_addr_parse(ip, &c) < 0)
		return cstr_copy(key, size, ip);
	if (c.family == AF_INET6) {
		cidr_truncate(&c, SESSION_IPV6_PREFIX);
		return cidr_format(&c, key, size);
	}
	/* an IPv4 address, also when it came mapped */
	if (size < INET_ADDRSTRLEN ||
	    inet_ntop(AF_INET, c.addr, key, (socklen_t)size) == NULL)
		return -1;
	return 0;
}

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

/* One process per connection. */
static void clients_fork(struct session_server *ss,
			 const struct session_clients *cl, int fd,
			 const char *ip, const char *key)
{
	pid_t pid;

	if (cl->before_session != NULL)
		cl->before_session(cl->arg);
	pid = session_server_fork(ss, key);
	if (pid < 0) {
		clients_refuse(cl, fd, ip, cl->fork_reply, strerror(errno));
		return;
	}
	if (pid == 0) {
		if (cl->session_sandbox != NULL)
			service_sandbox_enter(cl->session_sandbox);
		cl->session(cl->arg, fd, ip);
		/* _exit: a forked session must not run the atexit handlers
		 * it inherited (OpenSSL's clean-up of the parent's TLS
		 * context costs more CPU than a whole SMTP dialogue) */
		_exit(0);
	}
	if (close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
}

/* In a new pool worker. */
static void pool_child_setup(void *arg)
{
	struct session_server *ss = arg;
	const struct clients_ctx *ctx = ss->arg;
	const struct session_clients *cl = ctx->cl;

	server_child_setup(ss);
	notice.due = 0;
	notice.pooled = 1;
	if (cl->session_sandbox != NULL)
		service_sandbox_enter(cl->session_sandbox);
}

/* In a pool worker: one session; 1 if the worker leaves after it. */
static int pool_serve(void *arg, int fd, const char *ip, int last)
{
	struct session_server *ss = arg;
	const struct clients_ctx *ctx = ss->arg;
	const struct session_clients *cl = ctx->cl;

	notice.due = 1;
	notice.last = last;
	notice.left = 0;
	if (cl->before_session != NULL)
		cl->before_session(cl->arg);
	cl->session(cl->arg, fd, ip);
	session_server_ending();	/* if the session did not */
	return notice.left || (stop_flag != NULL && *stop_flag);
}

/* A reused process: an idle one, or a new one. */
static void clients_hand(struct session_server *ss,
			 const struct session_clients *cl, int fd,
			 const char *ip, const char *key)
{
	pid_t pid = session_pool_hand(&ss->pool, fd, ip, pool_child_setup,
				      pool_serve, ss);

	if (pid < 0) {
		clients_refuse(cl, fd, ip, cl->fork_reply, strerror(errno));
		return;
	}
	if (child_table_add(&ss->sessions, pid, key) < 0)
		log_panic("session table: no slot for '%s' after the limit "
			  "check", key);
	service_child_busy(ss->sc);
}

/* Over the per-client limit? Clients in trusted_networks never are. */
static int clients_over_limit(struct session_server *ss,
			      const struct clients_ctx *ctx, const char *ip,
			      const char *key)
{
	const struct session_clients *cl = ctx->cl;

	return cl->per_client_max > 0 &&
	       session_server_count(ss, key) >= cl->per_client_max &&
	       !cidr_list_match(&ctx->trusted, ip);
}

static void clients_refuse_client(const struct session_clients *cl, int fd,
				  const char *ip, const char *key)
{
	struct str why = STR_INIT(0);

	if (strcmp(key, ip) == 0)
		str_appends(&why, cl->client_why);
	else
		str_appendf(&why, "%s (for the network %s)", cl->client_why,
			    key);
	clients_refuse(cl, fd, ip, cl->client_reply, str_c(&why));
	str_free(&why);
}

static void clients_accepted(struct session_server *ss, int fd)
{
	const struct clients_ctx *ctx = ss->arg;
	const struct session_clients *cl = ctx->cl;
	char ip[SESSION_IP_MAX], key[SESSION_IP_MAX];

	if (sock_peer_addr(fd, ip, sizeof(ip)) < 0) {
		log_warn(NULL, "accepted connection: peer address: %s",
			 strerror(errno));
		close(fd);
		return;
	}
	if (session_client_key(ip, key, sizeof(key)) < 0)
		log_panic("client key of '%s' does not fit", ip);
	/* sessions that ended since the last SIGCHLD was read must not count
	 * against the limits (a client reconnecting at once after QUIT) */
	server_drain_done(ss);
	child_table_reap_each(&ss->sessions, server_reaped, ss);
	if (session_server_full(ss))
		clients_refuse(cl, fd, ip, cl->busy_reply, cl->busy_why);
	else if (clients_over_limit(ss, ctx, ip, key))
		clients_refuse_client(cl, fd, ip, key);
	else if (ss->pool.slots > 0)
		clients_hand(ss, cl, fd, ip, key);
	else
		clients_fork(ss, cl, fd, ip, key);
}

void session_server_run_clients(struct service_child *sc,
				const struct session_clients *cl)
{
	struct clients_ctx ctx = { .cl = cl };
	const struct conf_list *tn = &sc->conf.trusted_networks;
	const char *error;
	size_t bad;

	/* postern config check refuses a bad list; a daemon started anyway
	 * must not guess which clients to trust */
	if (cidr_list_parse(&ctx.trusted, tn->v, tn->n, &error, &bad) < 0)
		log_fatal("trusted_networks: '%s': %s", tn->v[bad], error);
	server_run(sc, cl->total_max, cl->max_use, clients_accepted, &ctx);
	cidr_list_free(&ctx.trusted);
}

/* ---- inside a session ------------------------------------------------- */

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
