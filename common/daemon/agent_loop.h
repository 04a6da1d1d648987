/*
 * agent_loop - what the delivery agents share (postern-local(8),
 * postern-remote(8)): each process serves one queue-manager connection at
 * a time; SIGTERM and SIGHUP end the agent between requests (they are
 * blocked while a request is handled and let in only while it waits).
 */
#ifndef POSTERN_AGENT_LOOP_H
#define POSTERN_AGENT_LOOP_H

#include <signal.h>
#include <stdint.h>

#include "daemon/service_child.h"

/* Catch SIGTERM/SIGHUP (they set the quit flag), ignore SIGPIPE, block
 * the two; *waitmask_r is the mask that lets them in during a wait. */
void agent_signals(sigset_t *waitmask_r);
/* Has SIGTERM or SIGHUP arrived? */
int agent_quitting(void);
/* Wait until fd is readable: 1, 0 on timeout, -1 on SIGTERM, SIGHUP or
 * an error (another signal, such as SIGIO from the death pipe, does not
 * end the wait). timeout_ms < 0 waits for ever. */
int agent_wait_readable(int fd, int64_t timeout_ms, const sigset_t *mask);
/* Accept the next connection on the service's listeners: the socket, or
 * -1 (a signal came, or another process took the connection). */
int agent_accept_one(const struct service_child *sc, const sigset_t *mask);

#endif
