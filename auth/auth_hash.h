/*
 * auth_hash - postern-auth's password checks, off its event loop
 *
 * A yescrypt check takes about 15 ms of CPU and 16 MiB of memory; done
 * on the event loop, 200 parallel guesses from one address would hold up
 * every other answer for seconds. Checks run instead in a bounded pool
 * of `workers` threads (auth_hash_workers), started after the process has
 * confined itself (its sandbox profile allows threads for this), so that
 * at most `workers` hashes, and as many times 16 MiB, are in progress.
 *
 * Fairness: a job waits until a thread is free, and then the waiting job
 * whose client address (its penalty key: IPv6 counts per /64) has the
 * fewest checks running goes first, oldest first among equals; a client
 * never has more than client_max (auth_client_hash_limit) checks running.
 * So one address, however many connections it opens, holds at most
 * client_max threads, and an honest client elsewhere waits for at most one
 * check to finish.
 *
 * Just before a job is handed to a thread, skip() (the owner's) may say
 * that it need not be computed at all (its client has since been
 * penalised past auth_client_failure_limit): the job then completes with
 * AUTH_HASH_SKIPPED without touching a thread.
 *
 * Threads only compute: pwhash_verify() on the job's copies of the
 * password and stored hash. Everything else (jobs, results, callbacks)
 * happens on the event-loop thread. Results come back through an
 * eventfd that the loop watches (auth_hash_fd); auth_hash_collect() then
 * calls each job's done() on the loop thread. A job whose owner went away
 * (auth_hash_cancel) is dropped when it comes back. Passwords and hashes
 * are wiped when a job is freed.
 */
#ifndef POSTERN_AUTH_HASH_H
#define POSTERN_AUTH_HASH_H

#include <pthread.h>

#include "auth_penalty.h"
#include "proto/authproto.h"

#define AUTH_HASH_WORKERS_MAX 64
#define AUTH_HASH_SKIPPED (-2)	/* result: not computed (skip()) */

struct auth_hash_job {
	struct auth_hash_job *next;
	char key[AUTH_PENALTY_KEY_MAX + 1];	/* the client's penalty key */
	char client_ip[AUTHPROTO_CLIENT_MAX + 1];
	char password[AUTHPROTO_PASSWORD_MAX + 1];
	char *stored;				/* the hash to check against */
	int result;		/* pwhash_verify(): 1, 0, -1; or SKIPPED */
	const char *error;	/* result -1: why (static text) */
	void (*done)(void *arg, struct auth_hash_job *j);
	void *arg;		/* NULL: cancelled, drop the result */
	int tag;		/* the owner's, untouched by the pool */
	int running;		/* handed to a thread, not yet collected */
};

struct auth_hash {
	unsigned workers, client_max;
	pthread_t *threads;
	unsigned started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* shared with the threads, under mu */
	struct auth_hash_job *ready, *ready_tail;
	struct auth_hash_job *done, *done_tail;
	int stop;
	int efd;		/* eventfd: something is in done */
	/* the loop thread only */
	struct auth_hash_job *wait, *wait_tail;
	struct auth_hash_job **running;	/* workers slots */
	unsigned busy;
	int (*skip)(void *arg, const struct auth_hash_job *j);
	void *skip_arg;
};

/* Set up (fatal on failure: the eventfd is made here, before the process
 * confines itself); no thread yet. */
void auth_hash_init(struct auth_hash *h, unsigned workers,
		    unsigned client_max,
		    int (*skip)(void *arg, const struct auth_hash_job *j),
		    void *skip_arg);
/* Start the threads (fatal on failure). */
void auth_hash_start(struct auth_hash *h);
/* The descriptor the loop watches for readability. */
int auth_hash_fd(const struct auth_hash *h);
/* A new job for client_ip: password and stored are copied; done(arg, j)
 * is called later on the loop thread with j->result set, and owns j
 * (auth_hash_job_free). */
struct auth_hash_job *auth_hash_job_new(const char *client_ip,
					const char *password,
					const char *stored,
					void (*done)(void *arg,
						     struct auth_hash_job *j),
					void *arg);
void auth_hash_job_free(struct auth_hash_job *j);
void auth_hash_submit(struct auth_hash *h, struct auth_hash_job *j);
/* The owner is gone: a waiting job is freed now, a running one when it
 * comes back. */
void auth_hash_cancel(struct auth_hash *h, struct auth_hash_job *j);
/* The eventfd was readable: hand out more work, call done() for results. */
void auth_hash_collect(struct auth_hash *h);
/* Jobs waiting or running. */
unsigned auth_hash_pending(const struct auth_hash *h);
/* Stop and join the threads (they finish the check in hand); drop what is
 * left; close the eventfd. */
void auth_hash_free(struct auth_hash *h);

#endif
