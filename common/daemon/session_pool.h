/*
 * session_pool - processes that serve sessions one after another
 *
 * Used by session_server.c when a daemon allows a process more than one
 * session (max_use > 1, postern-smtpd's smtpd_max_use). The parent still
 * accepts every connection and applies every limit; it then hands the
 * descriptor and the client's address (SCM_RIGHTS over a SOCK_SEQPACKET
 * socketpair, one per worker) to an idle worker, or forks a new one. A
 * worker serves the session, says so on the server's notice pipe (its pid:
 * ready for another; minus its pid: leaving), and waits for the next. It
 * leaves after max_use sessions, after SIGTERM, or when the parent closes
 * its end of the socketpair: at retirement, at stop, or after the worker
 * has been idle for SESSION_POOL_IDLE_S. A connection is only ever handed
 * to a worker the parent knows to be idle and not leaving, so none is
 * lost to a worker that exits.
 *
 * Why: fork, the copy-on-write faults after it and the exit of the
 * process cost more CPU than a whole short SMTP session (bench/README.md);
 * a worker pays them once per max_use sessions. What is given up: a
 * session shares its process with the earlier sessions of that worker
 * (every session frees what it held and wipes credentials; max_use 1
 * brings back one process per connection).
 */
#ifndef POSTERN_SESSION_POOL_H
#define POSTERN_SESSION_POOL_H

#include <sys/types.h>
#include <time.h>

#define SESSION_POOL_IDLE_S 60	/* an idle worker is told to leave */

enum session_worker_state {
	WORKER_FREE,		/* no process in this slot */
	WORKER_IDLE,		/* waiting for a connection */
	WORKER_BUSY,		/* serving one */
	WORKER_LEAVING,		/* told to leave or leaving; not yet reaped */
};

struct session_worker {
	pid_t pid;
	int sock;		/* the parent's end; -1 once closed */
	enum session_worker_state state;
	struct timespec idle_since;	/* CLOCK_MONOTONIC */
};

struct session_pool {
	struct session_worker *v;
	unsigned slots, live;	/* live: slots with a process */
	unsigned hw;		/* v[hw..slots) are free: loops stop there */
	unsigned max_use;
};

/* In a worker: serve one session on fd; last is 1 on the worker's last
 * use. Returns 1 if the worker announced that it is leaving. */
typedef int session_serve_fn(void *arg, int fd, const char *ip, int last);
/* In a new worker, right after fork: drop the parent's state. */
typedef void session_child_setup_fn(void *arg);

void session_pool_init(struct session_pool *p, unsigned slots,
		       unsigned max_use);
void session_pool_free(struct session_pool *p);
/* Give fd (a client at ip) to an idle worker, or fork one that runs
 * setup(arg) and then serves (serve(arg, ...)) until it leaves. The
 * worker's pid, or -1 with errno if no worker could take it (the caller
 * still owns fd then; else the parent's copy is closed). */
pid_t session_pool_hand(struct session_pool *p, int fd, const char *ip,
			session_child_setup_fn *setup,
			session_serve_fn *serve, void *arg);
/* A notice read from the pipe: +pid idle again, -pid leaving. An idle
 * worker is released at once when keep is 0 (retiring or stopping). */
void session_pool_notice(struct session_pool *p, pid_t notice, int keep);
/* The process pid was reaped. */
void session_pool_gone(struct session_pool *p, pid_t pid);
/* Tell every idle worker to leave. */
void session_pool_release_idle(struct session_pool *p);
/* Tell the workers idle for SESSION_POOL_IDLE_S to leave; returns the ms
 * until the next one is due, or -1 if no worker is idle. */
int session_pool_expire(struct session_pool *p);
/* In any new child of the server: close the parent's ends (the table is
 * left as it is and must not be used in the child). */
void session_pool_close_in_child(struct session_pool *p);

#endif
