/*
 * unix_server - the event loop of a daemon whose clients are local
 *               processes on unix sockets (postern-auth, postern-inject)
 *
 * One process, one epoll loop (util/event.h). The skeleton owns the
 * listeners, the accepting, the connection limits, the signals and the
 * end of the process; the daemon owns what a connection says. It is the
 * event-driven sibling of session_server.h (which forks a process per
 * session).
 *
 * LISTENERS  A daemon hands each listening socket over with a policy
 *            (unix_server_listen). Several listeners may have different
 *            policies, e.g. a trusted socket that only smtpd can reach and
 *            a public one that any local user can:
 *
 *              static const struct unix_policy trusted = {
 *                      .name = "trusted", .conn_max = 1000,
 *                      .refuse = my_refuse,
 *              };
 *              static const struct unix_policy public = {
 *                      .name = "public", .conn_max = 200,
 *                      .uid_conn_max = 10, .refuse = my_refuse,
 *                      .id = MY_PUBLIC,
 *              };
 *              unix_server_listen(&srv->us, sc->listen_fds[0], &trusted);
 *              unix_server_listen(&srv->us, sc->listen_fds[1], &public);
 *              sc->nlisten = 0;   (the skeleton owns and closes them)
 *
 *            The master hands a service's unix sockets over in the order
 *            of its services table (services.h: unix_socket first, then
 *            the service_sockets rows of that service), at fds 4, 5, ...
 *            A connection learns which listener it came through from
 *            peer->policy (compare the pointer, or read policy->id), and
 *            who is at the other end from peer->uid, gid and pid
 *            (SO_PEERCRED, read once at accept).
 *
 * LIMITS     A new connection is refused when the server holds conn_max
 *            connections in total (ops), when its listener holds its own
 *            conn_max, or when its peer's uid holds uid_conn_max of that
 *            listener's connections (counted per listener, also when
 *            two listeners share a policy). The policy's refuse()
 *            callback may write one protocol line (best effort, never blocking: see
 *            unix_server_send_line) and the skeleton closes the
 *            descriptor. Refusals are logged at most once a second per
 *            kind, with a count:
 *              connection limit N reached: refused K connection(s)
 *              listener NAME: connection limit N reached: refused K ...
 *              listener NAME: uid U has N connection(s) (its limit):
 *                refused K connection(s)
 *
 * ACCEPTING  Each readable listener is accepted from up to
 *            UNIX_ACCEPT_BATCH times per round. When accept() fails in a
 *            way that would repeat at once, every listener rests for
 *            ops->resume_ms (signals and connections are still served).
 *            Which failures pause is the daemon's choice (accept_errors):
 *            UNIX_ACCEPT_PAUSE_ANY pauses on every failure but the
 *            transient ones and is fatal for a descriptor that is not a
 *            listening socket (postern-auth); UNIX_ACCEPT_PAUSE_RESOURCES
 *            pauses only when descriptors or memory run out and logs
 *            anything else (postern-inject).
 *
 * SIGNALS    through a signalfd, opened by unix_server_init (call it
 *            before starting any thread: the signals are blocked in the
 *            calling thread, and threads started later inherit that):
 *              SIGHUP   retire (unix_server_retire): the listeners close;
 *                       established connections are served as before;
 *                       the loop ends when the last one has closed and
 *                       ops->busy() says nothing else is in flight.
 *              SIGTERM, SIGINT  stop (unix_server_stop): the listeners
 *                       close, ops->stop() is called for every connection
 *                       (answer now, or drop), and the loop ends when none
 *                       is left and nothing is busy, or after ops->stop_ms
 *                       whatever is left (the daemon's free closes it).
 *            Either may also be started by the daemon itself (e.g. when
 *            it notices that its master has gone).
 *
 * CONNECTIONS  The daemon embeds a struct unix_conn in its connection and
 *            returns it from ops->accept; the skeleton links it into its
 *            list and counts it. When the daemon closes the connection it
 *            calls unix_server_closed() (the counts drop; a retiring or
 *            stopping server may end). Every ops->sweep_ms the sweep()
 *            callback sees each connection (idle limits). A callback may
 *            close the connection it is given, and no other.
 */
#ifndef POSTERN_UNIX_SERVER_H
#define POSTERN_UNIX_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UNIX_ACCEPT_BATCH 64		/* accepts per listener and round */
#define UNIX_LISTEN_MAX 16		/* listeners of one server */
#define UNIX_UID_BUCKETS 64		/* per-listener uid table */

struct ev_loop;
struct ev_timer;
struct str;
struct unix_listener;
struct unix_server;
struct unix_uid_count;

enum unix_refusal {
	UNIX_REFUSE_TOTAL,	/* ops->conn_max reached */
	UNIX_REFUSE_LISTENER,	/* the listener's conn_max reached */
	UNIX_REFUSE_UID,	/* the peer uid's uid_conn_max reached */
};

/* Who is at the other end, and through which listener it came. */
struct unix_peer {
	const struct unix_policy *policy;
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* One listener's rules. The skeleton keeps the pointer: make it static. */
struct unix_policy {
	const char *name;		/* names the listener in logs */
	int id;				/* the daemon's own tag, free to use */
	unsigned conn_max;		/* connections through this listener
					 * at once; 0: only ops->conn_max */
	unsigned uid_conn_max;		/* ... from one peer uid; 0: no limit */
	/* A refused client: write a line to fd if the protocol has one
	 * (NULL: closed without a word). The skeleton closes fd. */
	void (*refuse)(int fd, const struct unix_peer *peer,
		       enum unix_refusal why, unsigned limit);
};

/* Embedded in the daemon's connection; the skeleton's fields. */
struct unix_conn {
	struct unix_conn *prev, *next;	/* the server's list */
	struct unix_peer peer;
	struct unix_listener *listener;		/* private */
	struct unix_uid_count *uid_count;	/* private */
};

/* The daemon's side. */
enum unix_accept_errors {
	UNIX_ACCEPT_PAUSE_ANY,
	UNIX_ACCEPT_PAUSE_RESOURCES,
};

struct unix_server_ops {
	void *arg;			/* handed to every callback */
	unsigned conn_max;		/* over every listener; 0: none */
	enum unix_accept_errors accept_errors;
	int64_t resume_ms;		/* pause after a failed accept */
	int64_t stop_ms;		/* SIGTERM: time to finish */
	int64_t sweep_ms;		/* how often sweep() runs; 0: never */
	/* Required. fd passed every limit (non-blocking, close-on-exec):
	 * make a connection of it and return its unix_conn, whose peer the
	 * skeleton fills in after this returns (peer is given here too).
	 * NULL if it could not (the callback closed fd and logged why). */
	struct unix_conn *(*accept)(void *arg, int fd,
				    const struct unix_peer *peer);
	/* Required. SIGTERM: answer c now or drop it (may close it). */
	void (*stop)(void *arg, struct unix_conn *c);
	/* Optional. Every sweep_ms: close c if it has been idle too long. */
	void (*sweep)(void *arg, struct unix_conn *c, int64_t now_ms);
	/* Optional. 1 while work other than the connections is in flight
	 * (postern-inject: commits); the loop does not end meanwhile. */
	int (*busy)(void *arg);
	/* Optional. Append ", ..." to the "retiring:" and "stopping:" log
	 * lines (what else is in flight). */
	void (*describe)(void *arg, struct str *out);
};

struct unix_listener {
	struct unix_server *srv;
	int fd;				/* -1 once closed */
	const struct unix_policy *policy;
	unsigned nconns;
	struct unix_uid_count *uids[UNIX_UID_BUCKETS];
};

struct unix_refusals {
	unsigned count;			/* not yet logged */
	unsigned limit;
	uid_t uid;			/* the last one refused */
	const char *listener;
};

/* Read the fields; change them only through the functions below. */
struct unix_server {
	struct unix_server_ops ops;
	struct ev_loop *loop;
	int sig_fd;
	struct unix_listener listeners[UNIX_LISTEN_MAX];
	size_t nlisten;
	struct unix_conn *conns;	/* doubly linked */
	unsigned nconns;
	int retiring, stopping;
	struct unix_refusals refused[3];	/* by enum unix_refusal */
	int64_t refused_log_ms;
	struct ev_timer *sweep_timer, *resume_timer, *stop_timer,
			*refused_timer;
};

/* Make the loop and the signalfd (fatal on failure). */
void unix_server_init(struct unix_server *srv,
		      const struct unix_server_ops *ops);
/* Accept on fd (a listening unix socket; the server owns it from now
 * on) under policy p. Fatal if it cannot be watched. */
void unix_server_listen(struct unix_server *srv, int fd,
			const struct unix_policy *p);
/* Run until retired or stopped and done (fatal if epoll fails). */
void unix_server_run(struct unix_server *srv);
/* Close the listeners, timers, signalfd and loop. The daemon closes its
 * connections first (or leaves them to exit()). */
void unix_server_free(struct unix_server *srv);

/* The daemon closed c (after its own close): uncount it. */
void unix_server_closed(struct unix_server *srv, struct unix_conn *c);
/* Something ops->busy() depends on ended: end the loop if retiring or
 * stopping and nothing is left. */
void unix_server_check_done(struct unix_server *srv);
/* What SIGHUP and SIGTERM do; a second call does nothing. */
void unix_server_retire(struct unix_server *srv);
void unix_server_stop(struct unix_server *srv);

/* Write line to fd once, without blocking and without SIGPIPE (a client
 * that has gone, or whose buffer is full, misses it). For refuse(). */
void unix_server_send_line(int fd, const char *line);

/* The outer struct from its embedded unix_conn. */
#define UNIX_CONN_OWNER(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
