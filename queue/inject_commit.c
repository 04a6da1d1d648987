/*
 * inject_commit - group commit: many messages, one sync round, then the OKs
 *
 * A message whose file is complete joins the pending batch. The commit
 * thread takes the whole pending batch at once and runs one round:
 *
 *   1. make every file durable: fsync(fd) for a batch of one, one
 *      syncfs(queue_dir) for more (inject_store.c has the measurements);
 *   2. give each file its name in new/ (linkat from /proc/self/fd, or
 *      rename from tmp/ID in the fallback);
 *   3. fsync(new/) once, so that every name is durable;
 *
 * then hands the batch back through an eventfd, and the event loop sends
 * each "OK" answer. Nothing is answered before step 3 has returned.
 * Messages completed while a round is in flight wait for the next one, so
 * under load a round carries everything that arrived during the previous
 * round: the more clients, the more messages share each sync.
 *
 * Failures: if step 1 fails, the whole batch fails (TEMP) and the nameless
 * files vanish when the loop closes them. A file whose step 2 fails fails
 * alone. If step 3 fails, the names made in step 2 are removed again (best
 * effort: a name that stays is at worst a duplicate delivery, since its
 * client was told TEMP and will send again) and the batch fails.
 *
 * The thread never logs; it leaves errno and the step in each inject_msg
 * and the loop logs it (log.c is not shared between threads).
 */
#include "inject_daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"

static void commit_fail_all(struct inject_msg *batch, int err,
			    const char *step)
{
	for (struct inject_msg *m = batch; m != NULL; m = m->next) {
		if (m->error == 0) {
			m->error = err;
			m->step = step;
		}
	}
}

/* Steps 2 and 3 for the files that survived step 1. */
static void commit_publish(struct inject_store *st, struct inject_msg *batch)
{
	size_t linked = 0;
	int err;

	for (struct inject_msg *m = batch; m != NULL; m = m->next) {
		if (inject_store_publish(st, m) == 0) {
			linked++;
		} else {
			m->error = errno;
			m->step = "link into new/";
		}
	}
	if (linked == 0 || inject_store_sync_new(st) == 0)
		return;
	err = errno;
	for (struct inject_msg *m = batch; m != NULL; m = m->next)
		if (m->error == 0)
			inject_store_unpublish(st, m);
	commit_fail_all(batch, err, "fsync new/");
}

static void commit_round(struct inject_store *st, struct inject_msg *batch)
{
	size_t n = 0;

	for (struct inject_msg *m = batch; m != NULL; m = m->next) {
		m->error = 0;
		m->step = NULL;
		n++;
	}
	if (inject_store_sync_files(st, batch, n) < 0) {
		commit_fail_all(batch, errno, n == 1 ? "fsync" : "syncfs");
		return;
	}
	commit_publish(st, batch);
}

static void commit_hand_back(struct inject_committer *c,
			     struct inject_msg *batch)
{
	struct inject_msg *last = batch;
	uint64_t one = 1;

	while (last->next != NULL)
		last = last->next;
	pthread_mutex_lock(&c->lock);
	*c->done_tail = batch;
	c->done_tail = &last->next;
	pthread_mutex_unlock(&c->lock);
	/* cannot fail short of a counter overflow the loop never allows */
	while (write(c->event_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		continue;
}

static void *commit_thread(void *arg)
{
	struct inject_committer *c = arg;
	struct inject_msg *batch;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (c->pending == NULL && !c->quit)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->pending == NULL)
			break;
		batch = c->pending;
		c->pending = NULL;
		c->pending_tail = &c->pending;
		pthread_mutex_unlock(&c->lock);
		commit_round(c->store, batch);
		commit_hand_back(c, batch);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the event loop's side ------------------------------------------ */

static struct inject_msg *commit_take_done(struct inject_committer *c)
{
	struct inject_msg *done;

	pthread_mutex_lock(&c->lock);
	done = c->done;
	c->done = NULL;
	c->done_tail = &c->done;
	pthread_mutex_unlock(&c->lock);
	return done;
}

static void commit_on_done(void *arg, int fd, unsigned revents)
{
	struct inject_server *srv = arg;
	struct inject_committer *c = &srv->commit;
	struct inject_msg *m, *next;
	uint64_t count;

	(void)revents;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		log_fatal("eventfd: %s", strerror(errno));
	c->rounds++;
	for (m = commit_take_done(c); m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		c->inflight--;
		c->messages++;
		if (m->error == 0)
			inject_wake_add(srv, m->id);
		inject_conn_committed(m->conn);
	}
	inject_wake_send(srv);
	inject_server_check_done(srv);
}

void inject_commit_start(struct inject_server *srv)
{
	struct inject_committer *c = &srv->commit;
	int e;

	memset(c, 0, sizeof(*c));
	c->store = &srv->store;
	c->pending_tail = &c->pending;
	c->done_tail = &c->done;
	c->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->event_fd < 0)
		log_fatal("eventfd: %s", strerror(errno));
	if (ev_fd_add(srv->loop, c->event_fd, EV_READ, commit_on_done,
		      srv) < 0)
		log_fatal("event loop: %s", strerror(errno));
	if ((e = pthread_mutex_init(&c->lock, NULL)) != 0 ||
	    (e = pthread_cond_init(&c->cond, NULL)) != 0 ||
	    (e = pthread_create(&c->thread, NULL, commit_thread, c)) != 0)
		log_fatal("commit thread: %s", strerror(e));
	c->started = 1;
}

void inject_commit_submit(struct inject_server *srv, struct inject_msg *m)
{
	struct inject_committer *c = &srv->commit;

	m->next = NULL;
	c->inflight++;
	pthread_mutex_lock(&c->lock);
	*c->pending_tail = m;
	c->pending_tail = &m->next;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void inject_commit_stop(struct inject_server *srv)
{
	struct inject_committer *c = &srv->commit;

	if (!c->started)
		return;
	ev_fd_del(srv->loop, c->event_fd);
	if (c->inflight > 0) {
		/* stuck in a sync past the deadline: exit() ends it */
		log_warn(NULL, "stop: %u message(s) still being committed "
			 "were not answered", c->inflight);
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->quit = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	close(c->event_fd);
	c->started = 0;
}
