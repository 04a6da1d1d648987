/*
 * inject_daemon.h - the parts of postern-inject(8), shared between its files
 *
 *   inject.c         main: start, queue layout, drop privileges, run
 *   inject_server.c  the event loop (daemon/unix_server.h): the
 *                    listener's policy and refusal, idle sweep, retire
 *                    and stop
 *   inject_conn.c    one client: the request (inject_proto), the queue
 *                    file as data arrives, the answer
 *   inject_store.c   queue files without names until committed: O_TMPFILE
 *                    in tmp/, ids from the inode, linkat into new/ (or the
 *                    named tmp/ID + rename fallback), the sync primitives
 *   inject_commit.c  group commit: the commit thread, its batches, the
 *                    answers sent when a batch comes back
 *   inject_wake.c    "WAKE" to the queue manager after each commit round
 *
 * Threads: everything runs in the event loop's thread except the commit
 * rounds (inject_commit.c), which touch only the inject_msg structures of
 * the batch they were handed and the store's directory descriptors. A
 * message is handed over whole (its file complete) and comes back through
 * an eventfd; the event loop never looks at it in between.
 */
#ifndef POSTERN_INJECT_DAEMON_H
#define POSTERN_INJECT_DAEMON_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "hopcount.h"
#include "proto/inject_proto.h"
#include "proto/queue_file.h"
#include "proto/queue_id.h"
#include "daemon/service_child.h"
#include "daemon/unix_server.h"
#include "util/str.h"

#define INJECT_CONN_MAX 1000		/* concurrent clients, private socket */
/* Concurrent clients on the public socket (sendmail), over all users:
 * the public share of the descriptors, so that local users can never
 * take what smtpd needs (inject_local_connection_limit is per user). */
#define INJECT_LOCAL_CONN_MAX 256
/* A client silent for smtpd_timeout plus this is dropped: smtpd waits
 * smtpd_timeout for each piece of DATA and flushes what it has to us
 * more often than that (inject_client.c), so a slow but legal DATA is
 * never cut here. */
#define INJECT_IDLE_MARGIN_MS (60 * 1000)
#define INJECT_SWEEP_MS (10 * 1000)	/* how often silent ones are sought */
#define INJECT_STOP_MS 5000		/* SIGTERM: time to finish a round */
#define INJECT_READ_SIZE (64 * 1024)	/* one read from a client */
#define INJECT_READS_PER_EVENT 8	/* fairness between clients */
#define INJECT_STALE_TMP_S (24 * 3600)	/* named tmp/ files removed after */
#define INJECT_WAKE_BUF_MAX (64 * 1024)	/* wake-ups waiting to be sent */
#define INJECT_SMTPD_ACCOUNT "postern-smtpd"
/* Set to 1 in the environment to use named tmp/ files even where
 * O_TMPFILE works (for the tests of the fallback; postern-inject(8)). */
#define INJECT_NO_TMPFILE_ENV "POSTERN_INJECT_NO_TMPFILE"

struct ev_loop;
struct ev_timer;
struct inject_conn;
struct inject_server;

/* One message between its first byte and its answer. */
struct inject_msg {
	struct inject_msg *next;	/* in a batch */
	struct inject_conn *conn;	/* whose answer it is */
	int fd;				/* the queue file, -1 when none */
	int named;			/* fallback: tmp/ID exists */
	char id[QUEUE_ID_SIZE];
	int error;			/* commit: errno, 0 on success */
	const char *step;		/* commit: the step that failed */
};

/* inject_store.c: the queue directories, open for the process's life. */
struct inject_store {
	int dir_fd, tmp_fd, new_fd;
	int use_tmpfile;		/* O_TMPFILE + linkat works here */
	unsigned long seq;		/* fallback: unique creation names */
};

int inject_store_open(struct inject_store *st, const struct conf *c,
		      const char **error_r);
void inject_store_close(struct inject_store *st);
/* A new empty queue file for a message arriving at *arrival: m->fd, m->id.
 * -1 with errno. */
int inject_store_create(struct inject_store *st, struct inject_msg *m,
			const struct timespec *arrival);
/* Drop an uncommitted message: close it (and unlink tmp/ID). */
void inject_store_discard(struct inject_store *st, struct inject_msg *m);
/* Commit thread steps, each -1 with errno. */
int inject_store_sync_files(struct inject_store *st, struct inject_msg *batch,
			    size_t n);
int inject_store_publish(struct inject_store *st, struct inject_msg *m);
int inject_store_unpublish(struct inject_store *st, struct inject_msg *m);
int inject_store_sync_new(struct inject_store *st);

/* inject_commit.c: the group commit. */
struct inject_committer {
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct inject_msg *pending, **pending_tail;	/* next round */
	struct inject_msg *done, **done_tail;		/* back to the loop */
	int quit;
	int event_fd;			/* the thread's "batch done" */
	struct inject_store *store;
	unsigned inflight;		/* loop: handed over, not back */
	uint64_t rounds, messages;	/* loop: for the stop log line */
};

/* Start the thread (fatal on failure) and watch its eventfd. */
void inject_commit_start(struct inject_server *srv);
/* Hand a complete message over: it joins the next round. */
void inject_commit_submit(struct inject_server *srv, struct inject_msg *m);
/* Join the thread if nothing is in flight (else leave it to exit()). */
void inject_commit_stop(struct inject_server *srv);

/* inject_wake.c: the queue manager's socket, best effort. */
struct inject_wake {
	struct str path;
	int fd;			/* -1: none (the scans find the messages) */
	struct str out;		/* whole "WAKE <TAB> ID" lines not yet sent */
	int scan_owed;		/* some were lost: send a bare WAKE */
};

void inject_wake_init(struct inject_wake *w, const struct conf *c);
/* Connect, before confining (inject_wake.c: ONE CONNECTION). */
void inject_wake_open(struct inject_server *srv);
/* Note new/ID for the next inject_wake_send(). */
void inject_wake_add(struct inject_server *srv, const char *id);
/* Send what was noted (what the socket does not take goes later). */
void inject_wake_send(struct inject_server *srv);
void inject_wake_free(struct inject_server *srv);

struct inject_server {
	struct service_child *sc;
	struct unix_server us;		/* listeners, signals, connections */
	struct ev_loop *loop;		/* us.loop */
	uid_t smtpd_uid;
	int smtpd_known;		/* the smtpd account exists */
	int root;			/* started as root */
	uid_t own_uid;
	uint64_t size_limit;
	size_t local_rcpt_limit;	/* inject_local_recipient_limit */
	unsigned hop_limit;		/* hopcount_limit */
	int64_t idle_ms;		/* smtpd_timeout + the margin */
	struct unix_policy trusted, public;	/* the two listeners */
	struct inject_store store;
	struct inject_committer commit;
	struct inject_wake wake;
	char rbuf[INJECT_READ_SIZE];
};

/* inject_server.c */
void inject_server_init(struct inject_server *srv, struct service_child *sc);
void inject_server_run(struct inject_server *srv);
void inject_server_free(struct inject_server *srv);
/* A commit round ended: stop the loop if retiring or stopping and idle. */
void inject_server_check_done(struct inject_server *srv);

/* inject_conn.c */
/* A new client on fd: its unix_conn, or NULL (fd closed, logged). */
struct unix_conn *inject_conn_new(struct inject_server *srv, int fd,
				  const struct unix_peer *peer);
/* The commit of c's message came back: answer, log, close. */
void inject_conn_committed(struct inject_conn *c);
/* SIGTERM: a client still sending gets TEMP and is closed. */
void inject_conn_stop(struct inject_conn *c);
/* Close c if silent since before now_ms - idle_ms. */
void inject_conn_sweep(struct inject_conn *c, int64_t now_ms);
void inject_conn_close(struct inject_conn *c);
struct inject_conn *inject_conn_of(struct unix_conn *uc);

#endif
