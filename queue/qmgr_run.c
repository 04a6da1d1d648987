/*
 * qmgr_run - the queue manager's event loop: the active/ lock, signals,
 * the periodic and due-time scans, and an orderly stop
 *
 * ONE QUEUE MANAGER  Only the holder of an exclusive flock(2) on the
 * active/ directory may touch the queue. On a reload the master starts the
 * next generation while the old one is still finishing its deliveries;
 * the new one waits for the lock, so it never recovers (and delivers
 * again) a message that the old one has in flight. The lock dies with its
 * process, so kill -9 cannot leave it behind.
 */
#include "qmgr.h"
#include "qmgr_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/log.h"

#define LOCK_POLL_NS 100000000L

static void qmgr_dirs_open(struct qmgr *q)
{
	struct str path = STR_INIT(0);

	for (int d = 0; d < QD_COUNT; d++) {
		conf_queue_path(q->conf, qdir_name((enum qdir)d), &path);
		q->dirfd[d] = open(str_c(&path), O_RDONLY | O_DIRECTORY |
				   O_CLOEXEC);
		if (q->dirfd[d] < 0)
			log_fatal("%s: %s", str_c(&path), strerror(errno));
	}
	str_free(&path);
}

/* Wait for the previous generation to let go of active/. */
static void qmgr_lock(struct qmgr *q)
{
	const struct timespec pause = { 0, LOCK_POLL_NS };
	int logged = 0;

	while (flock(q->dirfd[QD_ACTIVE], LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			log_fatal("lock %s/active: %s", q->conf->queue_dir,
				  strerror(errno));
		if (!logged++)
			log_info(NULL, "waiting for the previous queue manager "
				 "to finish");
		nanosleep(&pause, NULL);
	}
}

static void qmgr_maps_open(struct qmgr *q)
{
	struct str path = STR_INIT(0);
	const char *error;

	conf_etc_path(q->conf, "users.cdb", &path);
	if (cdbmap_open(&q->users, str_c(&path), &error) < 0)
		log_fatal("%s: %s", str_c(&path), error);
	conf_etc_path(q->conf, "aliases.cdb", &path);
	if (cdbmap_open(&q->aliases, str_c(&path), &error) < 0)
		log_fatal("%s: %s", str_c(&path), error);
	str_free(&path);
}

static void qmgr_stop_timeout(void *arg)
{
	struct qmgr *q = arg;

	q->stop_timer = NULL;
	log_warn(NULL, "deliveries still in flight after %d s; leaving them "
		 "to the next start", QMGR_STOP_MS / 1000);
	ev_stop(q->loop);
}

void qmgr_maybe_done(struct qmgr *q)
{
	if (q->stopping && !qmgr_agents_busy(q) && !qmgr_remote_busy(q))
		ev_stop(q->loop);
}

static void qmgr_stop(struct qmgr *q, const char *why)
{
	if (q->stopping)
		return;
	q->stopping = 1;
	log_info(NULL, "%s: finishing the deliveries in flight", why);
	for (size_t i = 0; i < q->sc->nlisten; i++) {
		ev_fd_del(q->loop, q->sc->listen_fds[i]);
		close(q->sc->listen_fds[i]);
	}
	q->sc->nlisten = 0;
	qmgr_cmd_close_all(q);
	ev_timer_cancel(q->loop, q->scan_timer);
	ev_timer_cancel(q->loop, q->soon_timer);
	q->scan_timer = q->soon_timer = NULL;
	q->stop_timer = ev_timer_add(q->loop, QMGR_STOP_MS, qmgr_stop_timeout,
				     q);
	qmgr_maybe_done(q);
}

static void qmgr_on_signal(void *arg, int fd, unsigned revents)
{
	struct qmgr *q = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		qmgr_stop(q, si.ssi_signo == SIGHUP ? "retiring" : "stopping");
}

static void qmgr_signals(struct qmgr *q)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	q->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (q->sigfd < 0 || ev_fd_add(q->loop, q->sigfd, EV_READ,
				      qmgr_on_signal, q) < 0)
		log_fatal("signalfd: %s", strerror(errno));
}

static void qmgr_soon_cb(void *arg)
{
	struct qmgr *q = arg;
	int flush = q->want_flush;

	q->soon_timer = NULL;
	q->want_new = q->want_flush = 0;
	qmgr_scan(q, flush);
}

void qmgr_scan_soon(struct qmgr *q, int flush)
{
	qmgr_scan_within(q, 0, flush);
}

void qmgr_scan_within(struct qmgr *q, int ms, int flush)
{
	int64_t due = clock_ms() + ms;

	if (q->stopping)
		return;
	q->want_new = 1;
	q->want_flush |= flush;
	if (q->soon_timer != NULL && q->soon_due <= due)
		return;
	ev_timer_cancel(q->loop, q->soon_timer);
	q->soon_due = due;
	q->soon_timer = ev_timer_add(q->loop, ms, qmgr_soon_cb, q);
}

static void qmgr_listen(struct qmgr *q)
{
	for (size_t i = 0; i < q->sc->nlisten; i++)
		if (ev_fd_add(q->loop, q->sc->listen_fds[i], EV_READ,
			      qmgr_cmd_accept, q) < 0)
			log_fatal("cannot watch the command socket: %s",
				  strerror(errno));
}

static void qmgr_free(struct qmgr *q)
{
	struct msg *m;

	qmgr_sync_all(q);	/* before any descriptor is closed */
	ev_timer_cancel(q->loop, q->sync_timer);
	q->sync_timer = NULL;
	qmgr_closer_stop(q);

	while ((m = q->msgs) != NULL) {
		q->msgs = m->next;
		qmgr_msg_free(m);
	}
	while (q->memos != NULL)
		qmgr_memo_forget(q, q->memos->id);
	qmgr_agents_close(q);
	qmgr_remote_close(q);
	cdbmap_close(&q->users);
	cdbmap_close(&q->aliases);
	for (int d = 0; d < QD_COUNT; d++)
		close(q->dirfd[d]);
	ev_free(q->loop);
}

int qmgr_run(struct service_child *sc)
{
	struct qmgr q;

	memset(&q, 0, sizeof(q));
	q.sc = sc;
	q.conf = &sc->conf;
	if (sc->nlisten == 0)
		log_fatal("no listening socket (start me with postern-master)");
	qmgr_dirs_open(&q);
	qmgr_lock(&q);
	qmgr_maps_open(&q);
	q.loop = ev_new();
	if (q.loop == NULL)
		log_fatal("epoll: %s", strerror(errno));
	qmgr_signals(&q);
	qmgr_listen(&q);
	qmgr_agents_init(&q);
	qmgr_remote_init(&q);
	service_child_ready(sc);	/* confines the process (sandbox) */
	/* after the signal mask and the sandbox: the thread inherits both */
	qmgr_closer_start(&q);
	qmgr_recover(&q);
	qmgr_scan(&q, 0);
	if (ev_run(q.loop) < 0)
		log_fatal("event loop: %s", strerror(errno));
	qmgr_free(&q);
	conf_free(&sc->conf);
	return 0;
}
