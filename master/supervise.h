/*
 * supervise - the master's state: listeners, children, restarts, logs
 */
#ifndef POSTERN_SUPERVISE_H
#define POSTERN_SUPERVISE_H

#include <stdint.h>
#include <sys/types.h>

#include "mail/conf.h"
#include "mail/services.h"
#include "util/event.h"
#include "util/str.h"

/* A child may restart no sooner than this after its last start. */
#define MASTER_RESTART_MS 1000
/* A service whose child fails before serving anything waits this long. */
#define MASTER_THROTTLE_MS 60000
/* Children still alive this long after SIGTERM are killed. */
#define MASTER_STOP_MS 20000
/* A new master waits this long for the processes of an earlier start of
 * the instance (children of a master killed with -9) to finish. */
#define MASTER_ORPHAN_WAIT_MS 10000
/* Lines kept to explain a start failure. */
#define MASTER_RECENT_LINES 256

struct master;

struct svc {
	struct master *master;
	const struct service_def *def;
	int *fds;		/* listening sockets; nfds of them */
	size_t nfds;
	char *listen_desc;	/* "127.0.0.1:10025,..." for logs and status */
	char *spec;		/* the configuration the sockets came from */
	unsigned processes;	/* children wanted (table or its key) */
	unsigned running;	/* children of the current generation */
	int64_t last_start;	/* clock_ms() of the last spawn */
	int throttled;
	struct ev_timer *restart_timer;
};

enum child_state { CHILD_STARTING, CHILD_READY, CHILD_BUSY };

struct child {
	struct master *master;
	pid_t pid;
	const struct service_def *def;
	struct svc *svc;	/* NULL once retired by a reload */
	int status_fd;		/* read end of its status pipe, or -1 */
	int death_fd;		/* write end of its death pipe, or -1: never
				 * written; closed when the master dies */
	enum child_state state;
	int retiring;		/* SIGTERM sent: reload or stop */
	char statusbuf[64];
	size_t statuslen;
	struct child *next;
};

struct master {
	struct conf conf;
	const char *conf_file;
	int foreground;
	struct ev_loop *loop;
	struct svc *svcs;
	size_t nsvcs;
	struct child *children;
	int starting;		/* waiting for every child's "ready" */
	int stopping;
	int exit_status;
	int ready_fd;		/* "postern start" waits on it; -1 after */
	int sig_fd;
	int instance_fd;	/* the instance lock, handed to every child */
	int log_r, log_w;	/* children's stderr pipe */
	int log_syslog;		/* else fd 2 (terminal or log file) */
	struct str logbuf;
	struct str logout;		/* stamped lines, written together */
	char logstamp[32];		/* the timestamp of this batch */
	char *recent[MASTER_RECENT_LINES];
	unsigned recent_next;
	struct ev_timer *stop_timer;
};

/* supervise.c */
int master_listeners_open(struct master *m, const char **error_r);
void master_listeners_close(struct master *m);
void master_start_all(struct master *m);
void master_child_exited(struct master *m, pid_t pid, int wstatus);
void master_stop(struct master *m, int exit_status);
void master_reload(struct master *m);
void master_status_write(struct master *m);
void master_report_ready(struct master *m, const char *error);

/* logcollect.c */
void master_log_init(struct master *m);
void master_log_readable(void *arg, int fd, unsigned revents);
void master_log_drain(struct master *m);
/* The last collected line from pid, or NULL. */
const char *master_log_recent(struct master *m, pid_t pid);
int master_log_reopen(struct master *m, const char **error_r);
void master_log_free(struct master *m);

#endif
