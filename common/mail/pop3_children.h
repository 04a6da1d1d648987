/*
 * pop3_children - the forked sessions of a POP3 daemon, and its signals
 *
 * postern-pop3-login and postern-pop3 both fork one process per client.
 * The parent keeps a table of them (pid and a key: the client address
 * for the login side, the user's address after login) to enforce
 * pop3_process_limit and pop3_max_user_connections, and learns about
 * signals through a signalfd so that its loop is one poll():
 *   SIGCHLD  reap: free the slots of ended sessions
 *   SIGHUP   retire: stop accepting, let the sessions finish
 *   SIGTERM  stop: tell every session (SIGTERM), exit once all are gone
 */
#ifndef POSTERN_POP3_CHILDREN_H
#define POSTERN_POP3_CHILDREN_H

#include <sys/types.h>

#include "mail/pop3_handover.h"

struct pop3_child {
	pid_t pid;			/* 0: free slot */
	char key[POP3_ADDRESS_MAX + 1];
};

struct pop3_children {
	struct pop3_child *v;
	unsigned max, used;
};

void pop3_children_init(struct pop3_children *c, unsigned max);
void pop3_children_free(struct pop3_children *c);
/* Remember a session; -1 if the table is full (the caller checks
 * c->used < c->max before forking). */
int pop3_children_add(struct pop3_children *c, pid_t pid, const char *key);
/* Sessions with this key (exact comparison). */
unsigned pop3_children_count(const struct pop3_children *c,
			     const char *key);
/* Reap every ended child; unexpected deaths are logged. */
void pop3_children_reap(struct pop3_children *c);
/* Send sig to every session. */
void pop3_children_kill(const struct pop3_children *c, int sig);

/* Block SIGCHLD, SIGHUP, SIGTERM and SIGINT and return a signalfd for
 * them (fatal on failure). */
int pop3_signals_open(void);
/* Read the pending signals: returns a bit set of 1 << signo. */
unsigned long pop3_signals_read(int fd);
/* In a freshly forked session: SIGTERM should the parent die, default
 * signal mask and handlers, SIGHUP ignored (a retiring parent lets the
 * session finish). The caller closes the parent's descriptors. */
void pop3_child_setup(void);

#endif
