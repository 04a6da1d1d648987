/*
 * session_server - the acceptor of postern-smtpd, postern-pop3-login and
 *                  postern-pop3
 *
 * The parent accepts and forks; each session runs in its own process with
 * blocking I/O under deadlines, so a session's bug or a slow client
 * touches no other session at the same time. A daemon may let a process
 * serve several sessions one after another (max_use, session_pool.h:
 * postern-smtpd); otherwise each connection gets a new process. The parent
 * keeps a table of its sessions (pid and a key: the client, that is its
 * IPv4 address or its IPv6 /64, or the user after a POP3 login) so that
 * it can refuse a client over the total or the per-key limit; clients in
 * trusted_networks are never refused for the per-client limit.
 *
 * Signals come through a signalfd, so the loop is one poll():
 *   SIGCHLD  reap sessions, free their slots
 *   SIGHUP   retire: close the listeners, let the sessions finish, return
 *   SIGTERM, SIGINT  stop: close the listeners, SIGTERM every session,
 *            return once all are gone
 * When accept() runs out of descriptors or memory, the listeners rest for
 * a second (signals are still served). Sessions ask the kernel for
 * SIGTERM should the parent die (the master SIGKILLs a parent that does
 * not stop in time), so none is orphaned; they ignore SIGHUP, so a
 * retiring parent lets them finish.
 *
 * Two layers: session_server_run() with a callback for each accepted
 * connection (postern-pop3 reads a hand-over first), and
 * session_server_run_clients(), that callback for a daemon whose
 * connections are its clients (limits, refusal line, fork, session).
 */
#ifndef POSTERN_SESSION_SERVER_H
#define POSTERN_SESSION_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/service_child.h"
#include "util/sandbox.h"
#include "util/child_table.h"

/* A client address as text (sock_peer_addr), with its NUL. */
#define SESSION_IP_MAX 64

struct session_server;

/* Called for each accepted connection (close-on-exec, blocking); the
 * callback owns fd. */
typedef void session_accepted_fn(struct session_server *ss, int fd);

/* Accept on every listener of sc, at most max sessions at once, until
 * retired or stopped and every session has ended. The listeners are
 * closed on return. */
void session_server_run(struct service_child *sc, unsigned max,
			session_accepted_fn *accepted, void *arg);
/* The arg given to session_server_run(). */
void *session_server_arg(const struct session_server *ss);
/* 1 if max sessions are running. */
int session_server_full(const struct session_server *ss);
/* Sessions running with this key. */
unsigned session_server_count(const struct session_server *ss,
			      const char *key);
/* Fork a session (the caller checked session_server_full()): in the
 * child 0, with the parent's descriptors closed and signals as described
 * above; in the parent the child's pid, remembered with key (at most
 * CHILD_KEY_MAX bytes); -1 with errno if fork failed. */
pid_t session_server_fork(struct session_server *ss, const char *key);

/* A daemon whose connections are its clients. The checks, in order:
 * total_max sessions (busy_reply), per_client_max from one client
 * (client_reply; 0: no such limit), where one client is one IPv4 address
 * or one IPv6 /64 (session_client_key) and clients in trusted_networks
 * (postern.conf(5): local applications, webmail) are never refused for
 * it; a refused client gets that line
 * (nothing if silent: implicit TLS, where a clear-text line would not be
 * understood) and is closed, and a warning "refused connection from IP:
 * WHY" is logged. session runs in a session process, owns fd (closes it)
 * and returns when the session is over; it must leave nothing of the
 * session behind (memory, descriptors, credentials), since with max_use
 * > 1 the process serves up to max_use sessions, one after another
 * (max_use 0 or 1: one process per connection, which then exits).
 * before_session (may be NULL) runs before each session: in the parent
 * before the fork with one process per connection, in the process
 * before each of its sessions otherwise. session_sandbox (may be NULL) is
 * entered by every session process as soon as it is forked, before its
 * first session (service_sandbox.h). */
struct session_clients {
	unsigned total_max;
	unsigned per_client_max;
	int silent;
	const char *busy_reply, *busy_why;
	const char *client_reply, *client_why;
	const char *fork_reply;		/* fork failed */
	unsigned max_use;		/* sessions per process */
	void (*before_session)(void *arg);
	void (*session)(void *arg, int fd, const char *ip);
	void *arg;
	struct sandbox_prepared *session_sandbox;
};

void session_server_run_clients(struct service_child *sc,
				const struct session_clients *cl);
/* The key a client's sessions are counted under, into key: the address
 * as it is for IPv4 (and anything that is not an IP address), its /64
 * for IPv6 ("2001:db8:1:2::/64"), because a single IPv6 host commonly
 * holds a whole /64 and could otherwise open per_client_max sessions
 * from each of its addresses. 0, or -1 if it does not fit size. */
int session_client_key(const char *ip, char *key, size_t size);

/* In a session: on signal signo (the parent's SIGTERM), set *flag and
 * shut fd for reading, so that a blocked read returns at once. One flag
 * and descriptor per process: a later call replaces them. */
void session_stop_on(int signo, volatile sig_atomic_t *flag, int fd);
/* Before closing that descriptor: the handler leaves it alone. */
void session_stop_release(void);
/* In a session, before its last reply (221, +OK, ...): tell the parent
 * this session no longer counts against the connection limits, so that a
 * client reconnecting at once is not refused (and a reused process that
 * it may have the next connection). Idempotent within a session. */
void session_server_ending(void);

#endif
