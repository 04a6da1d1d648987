/*
 * qmgr - the queue manager's state, shared by its files
 *
 *   qmgr.c        main: configuration, queue layout, privileges
 *   qmgr_run.c    the event loop, signals, timers, the active/ lock
 *   qmgr_scan.c   the directories: scans, moves, the per-message end
 *   qmgr_msg.c    a message's recipients: resolution, outcomes, log lines
 *   qmgr_agent.c  the pool of connections to postern-local
 *   qmgr_cmd.c    the command socket (WAKE, FLUSH, HOLD, RELEASE, DELETE)
 *   qmgr_bounce.c one DSN per message and round (qmgr_bounce.h)
 *   qmgr_closer.c a thread for the last close of removed queue files
 *   qmgr_sync.c   the group sync of recorded outcomes
 *   qmgr_remote.c remote recipients: requests by destination, the pool of
 *                 connections to postern-remote (qmgr_remote.h)
 *
 * The state machine and its crash analysis are in postern-qmgr(8) and at
 * the top of qmgr_scan.c.
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/delivery_proto.h"
#include "proto/queue_file.h"
#include "proto/queue_id.h"
#include "resolve.h"
#include "daemon/service_child.h"
#include "util/cdbmap.h"
#include "util/event.h"
#include "util/str.h"

/* Messages held open in active/ at once (two descriptors each at most). */
#define QMGR_ACTIVE_MAX 1000
/* A message's recipients are read from its file in windows of at most
 * this many, and no more once this many bytes of addresses are read: the
 * queue manager's memory does not depend on what an envelope holds
 * (up to QUEUE_RCPT_MAX recipients of QUEUE_TEXT_MAX bytes). */
#define QMGR_WINDOW_RCPTS 1000
#define QMGR_WINDOW_BYTES (64 * 1024)
/* No message is taken into the active set while the windows and bounce
 * notes of those in it hold this many bytes (one always is). */
#define QMGR_ACTIVE_BYTES (32 * 1024 * 1024)
/* Buckets of the table of messages in memory by id. */
#define QMGR_ID_BUCKETS 2048
/* With a backlog in new/, the longest wait for a place to be refilled. */
#define QMGR_REFILL_MS 100
/* A delivery agent must answer within this time. */
#define QMGR_DELIVERY_TIMEOUT_MS (10 * 60 * 1000)
/* After SIGTERM, in-flight deliveries get this long to be answered. */
#define QMGR_STOP_MS 15000
/* Command lines (WAKE, HOLD ID ...). */
#define QMGR_CMD_LINE_MAX 128
/* Messages whose partial alias progress is remembered across retries,
 * and targets remembered for one message (bounced ones: the delivered
 * ones are recorded in the queue file, queue_file.h TARGETS). */
#define QMGR_MEMO_MAX 10000
#define QMGR_MEMO_TARGETS_MAX 1000

enum qdir { QD_NEW, QD_ACTIVE, QD_DEFERRED, QD_HOLD, QD_CORRUPT, QD_COUNT };

/* What happened to one target of the recipient being worked on. */
enum target_result { TR_PENDING, TR_SENT, TR_BOUNCED, TR_DEFERRED };

struct qmgr;
struct qmgr_bounce;
struct qmgr_remote;
struct qmgr_remote_msg;

struct msg {
	struct qmgr *q;
	char id[QUEUE_ID_SIZE];
	int fd;				/* active/ID, read-write */
	struct queue_env env;		/* the head and the current window of
					 * recipients; indexes into
					 * env.rcpts are window-relative */
	size_t rcpt_total;		/* recipients in the file */
	size_t pending;			/* ... in state Q, in the whole file */
	size_t win_first;		/* file index of env.rcpts[0] */
	off_t win_next;			/* where the next window starts */
	off_t rcpts_end;		/* the M record: no window after it */
	size_t bytes;			/* accounted in q->active_bytes */
	int read_failed;		/* a window could not be read */
	off_t trailer;			/* where target records start */
	off_t trailer_end;		/* where the next one is appended */
	int no_trailer;			/* it cannot be written */
	struct queue_targets done;	/* of the current recipient, from the
					 * file: delivered before */
	int dirty;			/* written, not yet synced */
	struct msg *dirty_next;		/* in q->dirty */
	size_t rcpt;			/* recipient being worked on */
	int rcpt_started;		/* its targets are resolved */
	struct resolve_result targets;	/* of that recipient */
	enum target_result *results;	/* one per target */
	unsigned char *fresh;		/* one per target: sent in this
					 * attempt (not an earlier one) */
	size_t target;			/* next target to look at */
	char *defer_reason;		/* last deferral of this recipient */
	int deferred;			/* some recipient stays queued */
	int write_failed;		/* a state could not be recorded */
	int inflight;			/* a delivery is at an agent */
	int hold_req, delete_req;	/* from the command socket */
	int queued;			/* on the ready list */
	struct qmgr_bounce *bounce;	/* this round's DSN (qmgr_bounce.h) */
	struct qmgr_remote_msg *remote;	/* its remote requests (qmgr_remote.h) */
	struct msg *next, *prev;	/* every message in memory */
	struct msg *id_next;		/* in its by_id bucket */
	struct msg *ready_next;
};

struct agent {
	struct qmgr *q;
	int fd;				/* -1: not connected */
	struct msg *msg;		/* the delivery in flight, or NULL */
	struct ev_timer *timer;
	char in[DELIVERY_REPLY_MAX];
	size_t inlen;
};

struct memo {
	char id[QUEUE_ID_SIZE];
	char **done;			/* "index:address" of finished targets */
	size_t n;
	struct memo *next;
};

struct cmdconn {
	struct qmgr *q;
	int fd;
	struct str in;
	struct cmdconn *next;
};

struct qmgr {
	struct service_child *sc;
	const struct conf *conf;
	struct ev_loop *loop;
	int dirfd[QD_COUNT];
	int sigfd;
	struct cdbmap users, aliases;
	struct msg *msgs;		/* every message in memory */
	size_t nmsgs;
	size_t active_bytes;		/* their windows and notes */
	struct msg *by_id[QMGR_ID_BUCKETS];	/* the same, by id */
	struct msg *ready, *ready_tail;	/* messages with a delivery to send */
	struct agent *agents;
	struct qmgr_remote *remote;	/* qmgr_remote.h */
	size_t nagents;
	struct memo *memos;
	size_t nmemos;
	struct msg *dirty;		/* queue files to sync (qmgr_sync) */
	struct ev_timer *sync_timer;
	struct cmdconn *conns;
	struct ev_timer *scan_timer;	/* next periodic or due-time scan */
	struct ev_timer *soon_timer;	/* a scan asked for by a command */
	int64_t soon_due;		/* when it fires (clock_ms) */
	struct ev_timer *stop_timer;
	time_t scan_at;			/* when scan_timer fires (wall clock) */
	time_t next_due;		/* earliest deferred/ mtime seen */
	int want_new, want_flush;	/* what the soon scan does */
	int overflow;			/* QMGR_ACTIVE_MAX was reached */
	struct timespec flush_since;	/* a FLUSH in progress (0: none): it
					 * retries what was deferred before
					 * it, over as many scans as the
					 * QMGR_ACTIVE_MAX limit needs */
	int stopping;
	pthread_t closer;		/* qmgr_closer.c */
	int closer_r, closer_w;		/* -1: close in the loop */
};

/* qmgr_run.c */
int qmgr_run(struct service_child *sc);
void qmgr_scan_soon(struct qmgr *q, int flush);
/* The same, at the latest ms from now. */
void qmgr_scan_within(struct qmgr *q, int ms, int flush);
void qmgr_maybe_done(struct qmgr *q);
void qmgr_scan_at(struct qmgr *q, time_t when);

/* qmgr_closer.c */
void qmgr_closer_start(struct qmgr *q);
/* Close fd (of an unlinked queue file) in the closer thread. */
void qmgr_closer_close(struct qmgr *q, int fd);
/* Close what is queued and join the thread. */
void qmgr_closer_stop(struct qmgr *q);

/* qmgr_scan.c */
void qmgr_scan(struct qmgr *q, int flush);
void qmgr_recover(struct qmgr *q);
int qmgr_load(struct qmgr *q, const char *id, enum qdir from);
void qmgr_finish(struct qmgr *q, struct msg *m);
struct msg *qmgr_find(struct qmgr *q, const char *id);
const char *qdir_name(enum qdir d);

/* qmgr_sync.c: outcomes written into queue files are made durable
 * together, once per turn of the event loop (group commit). */
void qmgr_sync_soon(struct qmgr *q, struct msg *m);
/* Sync everything written so far, now. */
void qmgr_sync_all(struct qmgr *q);
/* m leaves memory: sync it now, or (drop) forget it (it is removed). */
void qmgr_sync_leave(struct qmgr *q, struct msg *m, int drop);

/* qmgr_msg.c */
/* Read m's next window of recipients (m->win_next); 0, or -1 (logged,
 * m->read_failed set). */
int qmgr_msg_window(struct qmgr *q, struct msg *m);
/* What a window of recipients costs in memory, roughly. */
size_t qmgr_window_bytes(const struct queue_env *env);
/* Change m's share of q->active_bytes by delta. */
void qmgr_msg_account(struct qmgr *q, struct msg *m, long delta);
void qmgr_msg_step(struct qmgr *q, struct msg *m);
void qmgr_msg_result(struct qmgr *q, struct msg *m, enum delivery_status st,
		     const char *reason);
/* next_dsn: the next hop offered DSN (no "relayed" notice from us). */
void qmgr_msg_remote_result(struct qmgr *q, struct msg *m,
			    enum delivery_status st, const char *relay,
			    int next_dsn, const char *reason);
void qmgr_msg_free(struct msg *m);
void qmgr_memo_forget(struct qmgr *q, const char *id);

/* qmgr_agent.c */
void qmgr_agents_init(struct qmgr *q);
void qmgr_ready(struct qmgr *q, struct msg *m);
void qmgr_dispatch(struct qmgr *q);
int qmgr_agents_busy(const struct qmgr *q);
void qmgr_agents_close(struct qmgr *q);

/* qmgr_cmd.c */
void qmgr_cmd_accept(void *arg, int fd, unsigned revents);
void qmgr_cmd_close_all(struct qmgr *q);

#endif
