/*
 * session_pool - processes that serve sessions one after another; see
 *                session_pool.h
 */
#include "daemon/session_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sock.h"
#include "util/str.h"

/* The longest client address a worker is handed (without its NUL). */
#define POOL_IP_MAX 63

void session_pool_init(struct session_pool *p, unsigned slots,
		       unsigned max_use)
{
	p->v = calloc(slots > 0 ? slots : 1, sizeof(*p->v));
	if (p->v == NULL)
		log_fatal("session pool: out of memory");
	p->slots = slots;
	p->live = 0;
	p->hw = 0;
	p->max_use = max_use > 0 ? max_use : 1;
	for (unsigned i = 0; i < slots; i++)
		p->v[i] = (struct session_worker){ .pid = 0, .sock = -1 };
}

void session_pool_free(struct session_pool *p)
{
	for (unsigned i = 0; i < p->slots; i++)
		if (p->v[i].sock >= 0)
			close(p->v[i].sock);
	free(p->v);
	p->v = NULL;
	p->slots = p->live = p->hw = 0;
}

static struct session_worker *pool_find(struct session_pool *p, pid_t pid)
{
	for (unsigned i = 0; i < p->hw; i++)
		if (p->v[i].state != WORKER_FREE && p->v[i].pid == pid)
			return &p->v[i];
	return NULL;
}

/* Close the parent's end: the worker reads EOF when it next waits. */
static void pool_release(struct session_worker *w)
{
	if (w->sock >= 0 && close(w->sock) < 0)
		log_warn(NULL, "session pool: close: %s", strerror(errno));
	w->sock = -1;
	w->state = WORKER_LEAVING;
}

/* The idle worker idle for the shortest time: its memory is the most
 * likely to be in cache, and the others expire. */
static struct session_worker *pool_idle_newest(struct session_pool *p)
{
	struct session_worker *best = NULL;

	for (unsigned i = 0; i < p->hw; i++) {
		struct session_worker *w = &p->v[i];

		if (w->state != WORKER_IDLE)
			continue;
		if (best == NULL ||
		    w->idle_since.tv_sec > best->idle_since.tv_sec ||
		    (w->idle_since.tv_sec == best->idle_since.tv_sec &&
		     w->idle_since.tv_nsec > best->idle_since.tv_nsec))
			best = w;
	}
	return best;
}

static struct session_worker *pool_free_slot(struct session_pool *p)
{
	for (unsigned i = 0; i < p->slots; i++)
		if (p->v[i].state == WORKER_FREE)
			return &p->v[i];
	return NULL;
}

/* ---- in a worker ------------------------------------------------------- */

static _Noreturn void pool_worker(struct session_pool *p, int sock, int fd,
				  const char *first_ip,
				  session_serve_fn *serve, void *arg)
{
	char ip[POOL_IP_MAX + 1];
	unsigned used = 0;

	if (cstr_copy(ip, sizeof(ip), first_ip) < 0)
		log_panic("client address '%s' too long", first_ip);
	for (;;) {
		ssize_t n;

		used++;
		if (serve(arg, fd, ip, used >= p->max_use) || used >= p->max_use)
			break;
		do
			n = sock_recv_fd(sock, &fd, ip, sizeof(ip) - 1);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			log_warn(NULL, "session pool: receive: %s",
				 strerror(errno));
		if (n <= 0)
			break;	/* told to leave (EOF) */
		ip[n] = '\0';
		if (fd < 0) {
			log_warn(NULL, "session pool: a hand-over without a "
				 "connection");
			break;
		}
	}
	/* _exit: a forked process must not run the atexit handlers it
	 * inherited (OpenSSL's clean-up of the parent's TLS context costs
	 * more CPU than a whole SMTP dialogue) */
	_exit(0);
}

/* ---- in the parent ------------------------------------------------------ */

static pid_t pool_fork(struct session_pool *p, struct session_worker *w,
		       int fd, const char *ip, session_child_setup_fn *setup,
		       session_serve_fn *serve, void *arg)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		setup(arg);
		pool_worker(p, sv[1], fd, ip, serve, arg);
	}
	close(sv[1]);
	if (fd_nonblock(sv[0], 1) < 0)
		log_warn(NULL, "session pool: nonblocking: %s",
			 strerror(errno));
	*w = (struct session_worker){ .pid = pid, .sock = sv[0],
				      .state = WORKER_BUSY };
	p->live++;
	if ((unsigned)(w - p->v) >= p->hw)
		p->hw = (unsigned)(w - p->v) + 1;
	return pid;
}

/* Hand fd to an idle worker; 0, or -1 if it cannot take it (it is then
 * released: a worker whose socket fails is of no more use). */
static int pool_send(struct session_worker *w, int fd, const char *ip)
{
	size_t len = strlen(ip);

	if (len == 0 || len > POOL_IP_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (sock_send_fd(w->sock, fd, ip, len) < 0) {
		log_warn(NULL, "session pool: hand-over to pid %ld: %s",
			 (long)w->pid, strerror(errno));
		pool_release(w);
		return -1;
	}
	w->state = WORKER_BUSY;
	return 0;
}

pid_t session_pool_hand(struct session_pool *p, int fd, const char *ip,
			session_child_setup_fn *setup,
			session_serve_fn *serve, void *arg)
{
	struct session_worker *w;
	pid_t pid;

	while ((w = pool_idle_newest(p)) != NULL)
		if (pool_send(w, fd, ip) == 0) {
			if (close(fd) < 0)
				log_warn(NULL, "close: %s", strerror(errno));
			return w->pid;
		}
	w = pool_free_slot(p);
	if (w == NULL) {
		errno = EAGAIN;
		return -1;
	}
	pid = pool_fork(p, w, fd, ip, setup, serve, arg);
	if (pid > 0 && close(fd) < 0)
		log_warn(NULL, "close: %s", strerror(errno));
	return pid;
}

void session_pool_notice(struct session_pool *p, pid_t notice, int keep)
{
	struct session_worker *w = pool_find(p, notice < 0 ? -notice : notice);

	if (w == NULL || w->state != WORKER_BUSY)
		return;
	if (notice < 0 || !keep) {
		pool_release(w);
		return;
	}
	w->state = WORKER_IDLE;
	clock_gettime(CLOCK_MONOTONIC, &w->idle_since);
}

void session_pool_gone(struct session_pool *p, pid_t pid)
{
	struct session_worker *w = pool_find(p, pid);

	if (w == NULL)
		return;
	if (w->sock >= 0)
		close(w->sock);
	*w = (struct session_worker){ .pid = 0, .sock = -1 };
	p->live--;
	while (p->hw > 0 && p->v[p->hw - 1].state == WORKER_FREE)
		p->hw--;
}

void session_pool_release_idle(struct session_pool *p)
{
	for (unsigned i = 0; i < p->hw; i++)
		if (p->v[i].state == WORKER_IDLE)
			pool_release(&p->v[i]);
}

int session_pool_expire(struct session_pool *p)
{
	struct timespec now;
	long long next_ms = -1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (unsigned i = 0; i < p->hw; i++) {
		struct session_worker *w = &p->v[i];
		long long idle_ms, left_ms;

		if (w->state != WORKER_IDLE)
			continue;
		idle_ms = (now.tv_sec - w->idle_since.tv_sec) * 1000LL +
			  (now.tv_nsec - w->idle_since.tv_nsec) / 1000000;
		left_ms = SESSION_POOL_IDLE_S * 1000LL - idle_ms;
		if (left_ms <= 0) {
			pool_release(w);
			continue;
		}
		if (next_ms < 0 || left_ms < next_ms)
			next_ms = left_ms;
	}
	return (int)next_ms;
}

void session_pool_close_in_child(struct session_pool *p)
{
	/* read only: writing the table would copy its pages into every
	 * worker (about 20 KiB each with 1,000 connections) */
	for (unsigned i = 0; i < p->hw; i++)
		if (p->v[i].sock >= 0)
			close(p->v[i].sock);
}
