/*
 * agent_loop - what the delivery agents share (see agent_loop.h)
 */
#include "daemon/agent_loop.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/event.h"
#include "util/log.h"

static volatile sig_atomic_t agent_quit;

static void agent_on_signal(int sig)
{
	(void)sig;
	agent_quit = 1;
}

void agent_signals(sigset_t *waitmask_r)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = agent_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		log_fatal("sigaction: %s", strerror(errno));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		log_fatal("sigaction: %s", strerror(errno));
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, waitmask_r) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	sigdelset(waitmask_r, SIGTERM);
	sigdelset(waitmask_r, SIGHUP);
}

int agent_quitting(void)
{
	return agent_quit != 0;
}

int agent_wait_readable(int fd, int64_t timeout_ms, const sigset_t *mask)
{
	int64_t end = timeout_ms >= 0 ? clock_ms() + timeout_ms : 0;
	struct pollfd p = { fd, POLLIN, 0 };
	struct timespec ts, *tsp = NULL;
	int r;

	/* a signal other than SIGTERM and SIGHUP (SIGIO from the death
	 * pipe, service_child.c, comes before its SIGTERM) interrupts the
	 * wait, but ends nothing */
	for (;;) {
		if (timeout_ms >= 0) {
			int64_t left = end - clock_ms();

			if (left < 0)
				left = 0;
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000;
			tsp = &ts;
		}
		r = ppoll(&p, 1, tsp, mask);
		if (r >= 0 || errno != EINTR || agent_quit)
			break;
	}
	if (r < 0 && errno != EINTR)
		log_warn(NULL, "ppoll: %s", strerror(errno));
	return r < 0 || agent_quit ? -1 : r;
}

int agent_accept_one(const struct service_child *sc, const sigset_t *mask)
{
	struct pollfd p[SERVICE_LISTEN_MAX];
	int conn;

	for (size_t i = 0; i < sc->nlisten; i++) {
		p[i].fd = sc->listen_fds[i];
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	if (ppoll(p, sc->nlisten, NULL, mask) < 0) {
		if (errno != EINTR)
			log_fatal("ppoll: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sc->nlisten; i++) {
		if (!(p[i].revents & POLLIN))
			continue;
		conn = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0)
			return conn;
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn(NULL, "accept: %s", strerror(errno));
	}
	return -1;
}
