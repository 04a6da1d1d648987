/*
 * handover_server - the mailbox side's acceptor: hand-overs from the
 *                   login processes in, proven logins out to sessions
 *                   (postern-pop3 now, postern-imap next)
 *
 * The daemon listens on queue_dir/private/PROTOCOL (group postern-login).
 * Each connection carries one hand-over (proto/login_handover.h): the
 * line, the client's descriptor, and the client's pipelined input up to
 * the end of the connection. Hand-overs are read concurrently, each
 * under its own deadline (HANDOVER_READ_MS), in one event loop
 * (daemon/unix_server.h), so one login process that connects and says
 * nothing holds up nobody else.
 *
 * A hand-over proves nothing by itself. Its token is redeemed with
 * postern-auth over queue_dir/private/auth-redeem (a socket only this
 * account can reach; REDEEM service client-ip token), on one connection
 * opened at start, before the daemon confines itself, and kept for its
 * whole life (requests pipelined, answered in order). The user's address
 * is taken from postern-auth's answer, never from the login process. The
 * descriptor must fit the line: the client's own socket, whose peer is
 * the client address the line names, when TLS is not kept by the login
 * process; a unix socket when it is.
 *
 * Then the limits: at most total_max sessions, at most user_max of one
 * user. A session is forked with the client's descriptor and runs
 * svc->session() in its own process; the daemon's parent keeps a table of
 * them. Whatever is refused (malformed, a token postern-auth does not
 * take, a descriptor that does not fit, a limit, a deadline) is logged
 * with the token's first LOGIN_TOKEN_ID_LEN digits and the login
 * process's pid, and the client hears its line of svc->refusal[].
 *
 * If the connection to postern-auth is lost (postern-auth restarted), no
 * token can be redeemed any more and none can be opened again (the daemon
 * may not create sockets once confined): the daemon tells the master it is
 * retiring (status "retiring", so a new one starts at once), refuses what
 * is in progress, and ends when its sessions have ended. SIGHUP retires,
 * SIGTERM stops (the sessions get SIGTERM) as in unix_server.h.
 */
#ifndef POSTERN_HANDOVER_SERVER_H
#define POSTERN_HANDOVER_SERVER_H

#include "proto/authproto.h"
#include "proto/login_handover.h"
#include "daemon/service_child.h"
#include "daemon/unix_server.h"
#include "util/child_table.h"
#include "util/str.h"

#define HANDOVER_READ_MS 5000		/* a hand-over's deadline */
/* Hand-overs being read or redeemed at once. A login process connects
 * only once it holds a token, and the next one a moment later; each in
 * progress costs LOGIN_HANDOVER_LINE_MAX + LOGIN_HANDOVER_PENDING_MAX. */
#define HANDOVER_CONN_MAX 256
#define HANDOVER_REDEEM_SOCKET "private/auth-redeem"

/* A proven login, as a session gets it. */
struct login_user {
	char address[AUTHPROTO_ADDRESS_MAX + 1];	/* from postern-auth */
	char ip[LOGIN_HANDOVER_IP_MAX + 1];
	int tls;
	char param[LOGIN_HANDOVER_PARAM_MAX + 1];
	char token_id[LOGIN_TOKEN_ID_LEN + 1];		/* for logs */
};

enum handover_refusal {
	HANDOVER_REFUSED_LOGIN,	/* not a valid hand-over, or its token */
	HANDOVER_REFUSED_BUSY,	/* total_max sessions */
	HANDOVER_REFUSED_USER,	/* user_max sessions of this user */
	HANDOVER_REFUSED_TEMP,	/* postern-auth unreachable, fork failed */
	HANDOVER_REFUSALS	/* how many */
};

struct handover_service {
	const char *protocol;		/* "pop3": the token's service */
	unsigned total_max;
	unsigned user_max;
	/* What a refused client hears: HANDOVER_REFUSALS lines with CRLF,
	 * by enum handover_refusal, each sent best effort, never
	 * blocking. */
	const char *const *refusal;
	/* In the session process: serve u on fd, pending input first; owns
	 * fd; never returns. */
	void (*session)(void *arg, int fd, const struct login_user *u,
			const char *pending, size_t npending);
	void *arg;
};

struct handover_conn;

struct handover_server {
	struct service_child *sc;
	struct handover_service svc;
	struct unix_server us;
	struct ev_loop *loop;
	int chld_fd;			/* signalfd: SIGCHLD */
	struct child_table sessions;
	int auth_fd;			/* the redeem connection */
	struct str auth_out, auth_in;
	unsigned auth_events;
	struct handover_conn *redeem_head, *redeem_tail;
	int auth_lost;
	int killed;			/* SIGTERM sent to the sessions */
};

/* Connect to postern-auth's redeem socket and set up the loop (fatal on
 * failure): call after dropping privileges and before confining. */
void handover_server_init(struct handover_server *hs,
			  struct service_child *sc,
			  const struct handover_service *svc);
/* Serve until retired or stopped and every session has ended. */
void handover_server_run(struct handover_server *hs);
void handover_server_free(struct handover_server *hs);

#endif
