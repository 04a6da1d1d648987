/*
 * service_child - what every supervised daemon does at start
 *
 * The master starts a service program as
 *     PROGRAM -c CONFIG -s SERVICE
 * with
 *     fd 0      /dev/null
 *     fd 1, 2   the master's log pipe (one line per write)
 *     fd 3      the status pipe: the child writes "ready\n" once it accepts,
 *               "busy\n" when it serves its first client, "retiring\n"
 *               when it has stopped accepting on its own (it finishes its
 *               clients; the master starts its replacement at once)
 *     fd 4..    its listening sockets, POSTERN_LISTEN_FDS (N) of them
 *     fd 4+N    the instance lock (master/instance.h): an flock'ed file
 *               the child keeps open, and so locked, for its whole life
 *               (it is made close-on-exec, and forked processes inherit
 *               it); never read, never unlocked
 *     fd 5+N    the read end of this child's death pipe: the master holds
 *               the write end and never writes into it
 * and an environment of POSTERN_LISTEN_FDS, PATH and at most TZ and a
 * few test variables (postern-master(8)); nothing else is inherited.
 * Signals from the master:
 *   SIGHUP   retire (a reload): stop accepting, keep serving the
 *            connections already established until they end (each under
 *            the service's own idle and session limits), then exit 0;
 *   SIGTERM  stop: finish the request in hand quickly and exit 0; the
 *            master kills what still runs 20 s later.
 *
 * THE MASTER'S DEATH  A child whose master dies (kill -9, a crash) stops
 * as if the master had sent SIGTERM, so that the listening sockets it
 * holds are freed and a new master can start. The master holds the write
 * end of every child's death pipe (fd 5+N) and never writes into it; when
 * it dies, however it dies, the kernel closes it and the child's read end
 * reaches end of file. That descriptor is set O_ASYNC with this process as
 * its owner, so the kernel raises SIGIO then, and only then: nothing else
 * ever happens on the pipe. (The status pipe would serve as well, but its
 * write end raises SIGIO each time the master reads a line; that signal
 * broke the waits of the delivery agents, which took it for SIGTERM.) The
 * SIGIO handler checks poll(2) for end of file and then sends this
 * process SIGTERM: each daemon's own stop path, with no change to its
 * loop. PR_SET_PDEATHSIG(SIGTERM), set after the
 * privilege drop (a change of credentials clears it), is the second net;
 * getppid() is checked after setting it, for a master that died before.
 * The signal handler needs poll(2), getpid(2) and kill(2) on itself.
 * See postern-master(8).
 */
#ifndef POSTERN_SERVICE_CHILD_H
#define POSTERN_SERVICE_CHILD_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/services.h"

#define SERVICE_STATUS_FD 3
#define SERVICE_LISTEN_FD0 4
#define SERVICE_LISTEN_MAX 16

struct service_profile;
struct sandbox_prepared;

struct service_child {
	struct conf conf;
	const struct service_def *def;
	int listen_fds[SERVICE_LISTEN_MAX];
	size_t nlisten;
	int separated;		/* 1 if running under def->account */
	pid_t master_pid;	/* the parent at start */
	int reported_busy;
	int reported_retiring;
	/* the daemon's sandbox (service_sandbox.h), set by its main; its
	 * sessions' profile, prepared, when it has one (for the log line) */
	const struct service_profile *profile;
	const struct sandbox_prepared *sessions;
	int confined;
};

/* Parse -c CONFIG and -s SERVICE (the only options), open the log, load
 * the configuration (fatal, with every error line, on failure), collect the
 * listening descriptors. */
void service_child_init(struct service_child *sc, int argc, char **argv,
			const char *program);
/* priv_drop() to def->account; logs once when separation is off. Then
 * the parent-death signal (see THE MASTER'S DEATH). */
void service_child_drop(struct service_child *sc);
/* Set up: confine the process with sc->profile (service_sandbox(); the
 * one line of the log naming it), then report "ready". A daemon calls it
 * after its setup and before its first untrusted byte. */
void service_child_ready(struct service_child *sc);
/* Call when a client has been served (first call only writes). */
void service_child_busy(struct service_child *sc);
/* The daemon stopped accepting on its own (it finishes its clients, then
 * exits): "retiring", so that the master starts its replacement at once.
 * Once; later calls write nothing. */
void service_child_retiring(struct service_child *sc);

#endif
