/*
 * login_server - postern-pop3-login's accept loop
 *
 * The parent accepts and forks; each connection lives in its own process
 * (login_session.c), which after a login either exits (plaintext: the
 * socket itself went to postern-pop3) or stays as the TLS proxy. The
 * parent counts those processes against pop3_process_limit; a client over
 * the limit gets "-ERR [SYS/TEMP] Too busy" (nothing on pop3s, where it
 * would not be TLS) and is closed. Signals: see pop3_children.h.
 */
#include "login.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/pop3_children.h"
#include "util/log.h"
#include "util/sock.h"

#define LOGIN_ACCEPT_BATCH 32
#define LOGIN_PAUSE_MS 1000

struct login_server {
	struct login *lg;
	struct pop3_children kids;
	int sig_fd;
	int accepting, stopping;
	int pause_ms;
};

static void server_close_listeners(struct login_server *sv)
{
	struct service_child *sc = sv->lg->sc;

	for (size_t i = 0; i < sc->nlisten; i++)
		if (close(sc->listen_fds[i]) < 0)
			log_warn(NULL, "close listener: %s", strerror(errno));
	sc->nlisten = 0;
	sv->accepting = 0;
}

static void server_on_signals(struct login_server *sv)
{
	unsigned long got = pop3_signals_read(sv->sig_fd);

	if (got & (1ul << SIGCHLD))
		pop3_children_reap(&sv->kids);
	if ((got & (1ul << SIGHUP)) && sv->accepting) {
		log_info(NULL, "retiring: %u session(s) to finish",
			 sv->kids.used);
		server_close_listeners(sv);
	}
	if ((got & ((1ul << SIGTERM) | (1ul << SIGINT))) && !sv->stopping) {
		log_info(NULL, "stopping: %u session(s) told to end",
			 sv->kids.used);
		server_close_listeners(sv);
		sv->stopping = 1;
		pop3_children_kill(&sv->kids, SIGTERM);
	}
}

static void server_refuse(struct login_server *sv, int fd, const char *ip,
			  const char *why)
{
	static const char reply[] = "-ERR [SYS/TEMP] Too busy, try again "
				    "later.\r\n";

	if (!sv->lg->implicit_tls &&
	    send(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_info(NULL, "refused %s: could not send the reply: %s", ip,
			 strerror(errno));
	log_warn(NULL, "refused connection from %s: %s", ip, why);
	if (close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
}

static void server_fork(struct login_server *sv, int fd, const char *ip)
{
	pid_t pid = fork();

	if (pid < 0) {
		server_refuse(sv, fd, ip, strerror(errno));
		return;
	}
	if (pid == 0) {
		pop3_child_setup();
		close(sv->sig_fd);
		server_close_listeners(sv);
		login_session_run(sv->lg, fd, ip);
	}
	if (close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
	if (pop3_children_add(&sv->kids, pid, ip) < 0)
		log_panic("session table full after the limit check");
	service_child_busy(sv->lg->sc);
}

static void server_accepted(struct login_server *sv, int fd)
{
	char ip[POP3_IP_MAX];

	if (sock_peer_addr(fd, ip, sizeof(ip)) < 0) {
		log_warn(NULL, "accepted connection: peer address: %s",
			 strerror(errno));
		close(fd);
		return;
	}
	if (sv->kids.used >= sv->kids.max)
		server_refuse(sv, fd, ip, "pop3_process_limit reached");
	else
		server_fork(sv, fd, ip);
}

static void server_accept(struct login_server *sv, int lfd)
{
	for (int i = 0; i < LOGIN_ACCEPT_BATCH && sv->accepting; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			server_accepted(sv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn(NULL, "accept: %s; pausing for %d ms",
				 strerror(errno), LOGIN_PAUSE_MS);
			sv->pause_ms = LOGIN_PAUSE_MS;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			log_warn(NULL, "accept: %s", strerror(errno));
		}
		return;
	}
}

static void server_poll_once(struct login_server *sv)
{
	struct service_child *sc = sv->lg->sc;
	struct pollfd pfd[SERVICE_LISTEN_MAX + 1];
	size_t n = 0;
	int timeout = sv->pause_ms > 0 ? sv->pause_ms : -1;

	pfd[n++] = (struct pollfd){ .fd = sv->sig_fd, .events = POLLIN };
	for (size_t i = 0; sv->accepting && sv->pause_ms == 0 &&
	     i < sc->nlisten; i++)
		pfd[n++] = (struct pollfd){ .fd = sc->listen_fds[i],
					    .events = POLLIN };
	sv->pause_ms = 0;
	if (poll(pfd, n, timeout) < 0) {
		if (errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		return;
	}
	if (pfd[0].revents)
		server_on_signals(sv);
	for (size_t i = 1; i < n && sv->accepting; i++)
		if (pfd[i].revents)
			server_accept(sv, pfd[i].fd);
}

void login_server_run(struct login *lg)
{
	struct login_server sv;

	memset(&sv, 0, sizeof(sv));
	sv.lg = lg;
	pop3_children_init(&sv.kids, lg->process_limit);
	sv.sig_fd = pop3_signals_open();
	sv.accepting = 1;
	for (size_t i = 0; i < lg->sc->nlisten; i++)
		if (fd_nonblock(lg->sc->listen_fds[i], 1) < 0)
			log_fatal("listener: %s", strerror(errno));
	log_info(NULL, "service %s: accepting", lg->sc->def->name);
	while (sv.accepting || sv.kids.used > 0)
		server_poll_once(&sv);
	log_info(NULL, "service %s: all sessions ended", lg->sc->def->name);
	close(sv.sig_fd);
	pop3_children_free(&sv.kids);
}
