/*
 * auth_hash - the password-check pool of postern-auth; see auth_hash.h
 *
 * Queues: wait (loop thread only) -> ready (threads take from it) ->
 * done (threads put into it, the loop takes out). A job is moved to ready
 * only when a thread is free for it (busy < workers), so ready never holds
 * more than the idle threads will take at once, and the choice of which
 * job runs next is made on the loop thread, with the counts it keeps in
 * running[]. The eventfd counts results; its value is not used, only its
 * readability.
 */
#include "auth_hash.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/pwhash.h"
#include "util/str.h"

void auth_hash_init(struct auth_hash *h, unsigned workers,
		    unsigned client_max,
		    int (*skip)(void *arg, const struct auth_hash_job *j),
		    void *skip_arg)
{
	memset(h, 0, sizeof(*h));
	if (workers == 0)
		workers = 1;
	if (workers > AUTH_HASH_WORKERS_MAX)
		workers = AUTH_HASH_WORKERS_MAX;
	h->workers = workers;
	h->client_max = client_max == 0 ? 1 : client_max;
	h->threads = xcalloc(workers, sizeof(*h->threads));
	h->running = xcalloc(workers, sizeof(*h->running));
	h->skip = skip;
	h->skip_arg = skip_arg;
	if (pthread_mutex_init(&h->mu, NULL) != 0 ||
	    pthread_cond_init(&h->cv, NULL) != 0)
		log_fatal("password check pool: cannot make its lock");
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->efd < 0)
		log_fatal("password check pool: eventfd: %s", strerror(errno));
}

int auth_hash_fd(const struct auth_hash *h)
{
	return h->efd;
}

static void hash_notify(struct auth_hash *h)
{
	uint64_t one = 1;

	/* a full counter (never in practice) is readable all the same */
	if (write(h->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn(NULL, "password check pool: eventfd: %s",
			 strerror(errno));
}

static void hash_push(struct auth_hash_job **head, struct auth_hash_job **tail,
		      struct auth_hash_job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct auth_hash_job *hash_pop(struct auth_hash_job **head,
				      struct auth_hash_job **tail)
{
	struct auth_hash_job *j = *head;

	if (j != NULL) {
		*head = j->next;
		if (*head == NULL)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *hash_thread(void *arg)
{
	struct auth_hash *h = arg;

	for (;;) {
		struct auth_hash_job *j;

		pthread_mutex_lock(&h->mu);
		while (h->ready == NULL && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stop) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		j = hash_pop(&h->ready, &h->ready_tail);
		pthread_mutex_unlock(&h->mu);
		j->result = pwhash_verify(j->password, j->stored, &j->error);
		pthread_mutex_lock(&h->mu);
		hash_push(&h->done, &h->done_tail, j);
		pthread_mutex_unlock(&h->mu);
		hash_notify(h);
	}
}

void auth_hash_start(struct auth_hash *h)
{
	for (unsigned i = 0; i < h->workers; i++) {
		int e = pthread_create(&h->threads[i], NULL, hash_thread, h);

		if (e != 0)
			log_fatal("password check pool: thread %u of %u: %s",
				  i + 1, h->workers, strerror(e));
		h->started++;
	}
}

struct auth_hash_job *auth_hash_job_new(const char *client_ip,
					const char *password,
					const char *stored,
					void (*done)(void *arg,
						     struct auth_hash_job *j),
					void *arg)
{
	struct auth_hash_job *j = xcalloc(1, sizeof(*j));

	auth_penalty_client_key(client_ip, j->key, sizeof(j->key));
	if (cstr_copy(j->client_ip, sizeof(j->client_ip), client_ip) < 0 ||
	    cstr_copy(j->password, sizeof(j->password), password) < 0)
		log_panic("password check: a field longer than the protocol "
			  "allows");
	j->stored = xstrdup(stored);
	j->done = done;
	j->arg = arg;
	return j;
}

void auth_hash_job_free(struct auth_hash_job *j)
{
	if (j == NULL)
		return;
	if (j->stored != NULL) {
		explicit_bzero(j->stored, strlen(j->stored));
		free(j->stored);
	}
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* Checks of this client running now. */
static unsigned hash_client_running(const struct auth_hash *h,
				    const char *key)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->workers; i++)
		n += h->running[i] != NULL &&
		     strcmp(h->running[i]->key, key) == 0;
	return n;
}

/* The waiting job to run next (and the one before it), or NULL. */
static struct auth_hash_job *hash_pick(struct auth_hash *h,
				       struct auth_hash_job **prev_r)
{
	struct auth_hash_job *best = NULL, *prev = NULL;
	unsigned best_n = 0;

	*prev_r = NULL;
	for (struct auth_hash_job *j = h->wait; j != NULL;
	     prev = j, j = j->next) {
		unsigned n = hash_client_running(h, j->key);

		if (n >= h->client_max || (best != NULL && n >= best_n))
			continue;
		best = j;
		best_n = n;
		*prev_r = prev;
		if (n == 0)
			break;
	}
	return best;
}

static void hash_unlink_wait(struct auth_hash *h, struct auth_hash_job *j,
			     struct auth_hash_job *prev)
{
	if (prev != NULL)
		prev->next = j->next;
	else
		h->wait = j->next;
	if (h->wait_tail == j)
		h->wait_tail = prev;
	j->next = NULL;
}

static void hash_run(struct auth_hash *h, struct auth_hash_job *j)
{
	for (unsigned i = 0; i < h->workers; i++) {
		if (h->running[i] == NULL) {
			h->running[i] = j;
			break;
		}
	}
	j->running = 1;
	h->busy++;
	pthread_mutex_lock(&h->mu);
	hash_push(&h->ready, &h->ready_tail, j);
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* Skipped jobs complete through the done queue, like computed ones, so
 * that done() is never called from inside submit(). */
static void hash_skip(struct auth_hash *h, struct auth_hash_job *j)
{
	j->result = AUTH_HASH_SKIPPED;
	pthread_mutex_lock(&h->mu);
	hash_push(&h->done, &h->done_tail, j);
	pthread_mutex_unlock(&h->mu);
	hash_notify(h);
}

static void hash_dispatch(struct auth_hash *h)
{
	struct auth_hash_job *j, *prev;

	while (h->busy < h->workers && (j = hash_pick(h, &prev)) != NULL) {
		hash_unlink_wait(h, j, prev);
		if (h->skip != NULL && h->skip(h->skip_arg, j))
			hash_skip(h, j);
		else
			hash_run(h, j);
	}
}

void auth_hash_submit(struct auth_hash *h, struct auth_hash_job *j)
{
	hash_push(&h->wait, &h->wait_tail, j);
	hash_dispatch(h);
}

void auth_hash_cancel(struct auth_hash *h, struct auth_hash_job *j)
{
	struct auth_hash_job *prev = NULL;

	for (struct auth_hash_job *w = h->wait; w != NULL;
	     prev = w, w = w->next) {
		if (w == j) {
			hash_unlink_wait(h, j, prev);
			auth_hash_job_free(j);
			return;
		}
	}
	j->arg = NULL;	/* running, or in done: dropped when collected */
}

static void hash_finished(struct auth_hash *h, struct auth_hash_job *j)
{
	if (!j->running)
		return;
	for (unsigned i = 0; i < h->workers; i++)
		if (h->running[i] == j)
			h->running[i] = NULL;
	j->running = 0;
	h->busy--;
}

void auth_hash_collect(struct auth_hash *h)
{
	struct auth_hash_job *list, *j;
	uint64_t n;

	if (read(h->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn(NULL, "password check pool: eventfd: %s",
			 strerror(errno));
	pthread_mutex_lock(&h->mu);
	list = h->done;
	h->done = h->done_tail = NULL;
	pthread_mutex_unlock(&h->mu);
	for (j = list; j != NULL; j = j->next)
		hash_finished(h, j);
	hash_dispatch(h);
	while ((j = list) != NULL) {
		list = j->next;
		j->next = NULL;
		if (j->arg == NULL)
			auth_hash_job_free(j);
		else
			j->done(j->arg, j);
	}
}

unsigned auth_hash_pending(const struct auth_hash *h)
{
	unsigned n = h->busy;

	for (const struct auth_hash_job *j = h->wait; j != NULL; j = j->next)
		n++;
	pthread_mutex_lock((pthread_mutex_t *)&h->mu);
	for (const struct auth_hash_job *j = h->done; j != NULL; j = j->next)
		n += !j->running;
	pthread_mutex_unlock((pthread_mutex_t *)&h->mu);
	return n;
}

static void hash_free_list(struct auth_hash_job *j)
{
	while (j != NULL) {
		struct auth_hash_job *next = j->next;

		auth_hash_job_free(j);
		j = next;
	}
}

void auth_hash_free(struct auth_hash *h)
{
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (unsigned i = 0; i < h->started; i++)
		pthread_join(h->threads[i], NULL);
	hash_free_list(h->wait);
	hash_free_list(h->ready);
	hash_free_list(h->done);
	h->wait = h->ready = h->done = NULL;
	free(h->threads);
	free(h->running);
	h->threads = NULL;
	h->running = NULL;
	if (h->efd >= 0)
		close(h->efd);
	h->efd = -1;
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
}
