/*
 * smtpd_server - postern-smtpd's accept loop
 *
 * The parent accepts and forks; each session runs in its own process with
 * blocking I/O under deadlines, so a session's bug or a slow client
 * touches no other session. The parent keeps a table of its sessions
 * (pid, client address) to enforce smtpd_process_limit (421 4.3.2) and
 * smtpd_client_connection_limit (421 4.7.0); a refused client gets that
 * one line (nothing on smtps, where it would not be TLS) and is closed.
 *
 * Signals come through a signalfd, so the loop is one poll():
 *   SIGCHLD  reap sessions, free their slots
 *   SIGHUP   retire: close the listeners, let the sessions finish, exit 0
 *   SIGTERM  stop: close the listeners, SIGTERM every session (each answers
 *            421 4.3.2 if it can), exit 0 once all are gone
 * Sessions ask the kernel for SIGTERM should the parent die (the master
 * SIGKILLs a parent that does not stop in time), so none is orphaned.
 */
#include "smtpd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/sock.h"

#define SMTPD_ACCEPT_BATCH 32
#define SMTPD_PAUSE_MS 1000

struct smtpd_slot {
	pid_t pid;			/* 0: free */
	char ip[SMTPD_IP_MAX];
};

struct smtpd_server {
	struct smtpd *srv;
	struct smtpd_slot *slots;
	unsigned nslots, nsessions;
	int sig_fd;
	int accepting;
	int stopping;			/* SIGTERM: sessions were told */
	int pause_ms;			/* out of descriptors: rest a while */
};

static int server_signals(sigset_t *set)
{
	int fd;

	if (sigemptyset(set) < 0 || sigaddset(set, SIGCHLD) < 0 ||
	    sigaddset(set, SIGHUP) < 0 || sigaddset(set, SIGTERM) < 0 ||
	    sigaddset(set, SIGINT) < 0)
		log_fatal("sigset: %s", strerror(errno));
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	return fd;
}

static void server_close_listeners(struct smtpd_server *sv)
{
	struct service_child *sc = sv->srv->sc;

	for (size_t i = 0; i < sc->nlisten; i++)
		if (close(sc->listen_fds[i]) < 0)
			log_warn(NULL, "close listener: %s", strerror(errno));
	sc->nlisten = 0;
	sv->accepting = 0;
}

static void server_reap(struct smtpd_server *sv)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < sv->nslots; i++) {
			if (sv->slots[i].pid != pid)
				continue;
			sv->slots[i].pid = 0;
			sv->nsessions--;
			break;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warn(NULL, "session pid %ld killed by signal %d",
				 (long)pid, WTERMSIG(status));
	}
	if (pid < 0 && errno != ECHILD)
		log_warn(NULL, "waitpid: %s", strerror(errno));
}

static void server_stop(struct smtpd_server *sv, int sig)
{
	if (sig == SIGHUP) {
		if (sv->accepting)
			log_info(NULL, "retiring: %u session(s) to finish",
				 sv->nsessions);
		server_close_listeners(sv);
		return;
	}
	if (sv->stopping)
		return;
	log_info(NULL, "stopping: %u session(s) told to end", sv->nsessions);
	server_close_listeners(sv);
	sv->stopping = 1;
	for (unsigned i = 0; i < sv->nslots; i++)
		if (sv->slots[i].pid > 0 && kill(sv->slots[i].pid, SIGTERM) < 0)
			log_warn(NULL, "kill session pid %ld: %s",
				 (long)sv->slots[i].pid, strerror(errno));
}

static void server_on_signals(struct smtpd_server *sv)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(sv->sig_fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			server_reap(sv);
		else
			server_stop(sv, (int)si.ssi_signo);
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_fatal("signalfd: %s", strerror(errno));
}

static unsigned server_count_ip(const struct smtpd_server *sv,
				const char *ip)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sv->nslots; i++)
		if (sv->slots[i].pid > 0 && strcmp(sv->slots[i].ip, ip) == 0)
			n++;
	return n;
}

/* Answer a refused client with one line and close (best effort: the
 * socket is not waited for). */
static void server_refuse(struct smtpd_server *sv, int fd, const char *ip,
			  const char *reply, const char *why)
{
	size_t n = strlen(reply);

	if (sv->srv->mode != SMTPD_SMTPS &&
	    send(fd, reply, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		log_info(NULL, "refused %s: could not send the reply: %s", ip,
			 strerror(errno));
	log_warn(NULL, "refused connection from %s: %s", ip, why);
	if (close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
}

/* In the new session process: forget the parent's state. */
static _Noreturn void server_child(struct smtpd_server *sv, int fd,
				   const char *ip)
{
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn(NULL, "prctl: %s", strerror(errno));
	if (getppid() == 1)
		_exit(0);		/* the parent is already gone */
	close(sv->sig_fd);
	server_close_listeners(sv);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);	/* a retiring parent lets us finish */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	smtpd_session_run(sv->srv, fd, ip);
}

static void server_fork(struct smtpd_server *sv, int fd, const char *ip)
{
	struct smtpd_slot *slot = NULL;
	const char *error;
	pid_t pid;

	for (unsigned i = 0; i < sv->nslots && slot == NULL; i++)
		if (sv->slots[i].pid == 0)
			slot = &sv->slots[i];
	if (cdbmap_refresh(&sv->srv->users, &error) < 0 ||
	    cdbmap_refresh(&sv->srv->aliases, &error) < 0)
		log_warn(NULL, "maps: %s", error);
	pid = fork();
	if (pid < 0) {
		server_refuse(sv, fd, ip, "421 4.3.2 try again later\r\n",
			      strerror(errno));
		return;
	}
	if (pid == 0)
		server_child(sv, fd, ip);
	close(fd);
	slot->pid = pid;
	if (cstr_copy(slot->ip, sizeof(slot->ip), ip) < 0)
		log_panic("client address '%s' longer than its slot", ip);
	sv->nsessions++;
	service_child_busy(sv->srv->sc);
}

static void server_accepted(struct smtpd_server *sv, int fd)
{
	char ip[SMTPD_IP_MAX];

	if (sock_peer_addr(fd, ip, sizeof(ip)) < 0) {
		log_warn(NULL, "accepted connection: peer address: %s",
			 strerror(errno));
		close(fd);
		return;
	}
	if (sv->nsessions >= sv->srv->process_limit)
		server_refuse(sv, fd, ip, "421 4.3.2 too busy\r\n",
			      "smtpd_process_limit reached");
	else if (server_count_ip(sv, ip) >= sv->srv->client_limit)
		server_refuse(sv, fd, ip, "421 4.7.0 too many connections "
			      "from your address\r\n",
			      "smtpd_client_connection_limit reached");
	else
		server_fork(sv, fd, ip);
}

static void server_accept(struct smtpd_server *sv, int lfd)
{
	for (int i = 0; i < SMTPD_ACCEPT_BATCH && sv->accepting; i++) {
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
				 strerror(errno), SMTPD_PAUSE_MS);
			sv->pause_ms = SMTPD_PAUSE_MS;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			log_warn(NULL, "accept: %s", strerror(errno));
		}
		return;
	}
}

static void server_poll_once(struct smtpd_server *sv)
{
	struct service_child *sc = sv->srv->sc;
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

void smtpd_server_run(struct smtpd *srv)
{
	struct smtpd_server sv;
	sigset_t set;

	memset(&sv, 0, sizeof(sv));
	sv.srv = srv;
	sv.nslots = srv->process_limit;
	sv.slots = xcalloc(sv.nslots, sizeof(*sv.slots));
	sv.sig_fd = server_signals(&set);
	sv.accepting = 1;
	for (size_t i = 0; i < srv->sc->nlisten; i++)
		if (fd_nonblock(srv->sc->listen_fds[i], 1) < 0)
			log_fatal("listener: %s", strerror(errno));
	log_info(NULL, "service %s: accepting", srv->sc->def->name);
	while (sv.accepting || sv.nsessions > 0)
		server_poll_once(&sv);
	log_info(NULL, "service %s: all sessions ended", srv->sc->def->name);
	close(sv.sig_fd);
	free(sv.slots);
}
