/*
 * login - the pre-auth half of every access protocol: accept, TLS, the
 *         password check with a login token, the hand-over, and the TLS
 *         proxy that stays behind (postern-pop3-login now; imap-login and
 *         a ManageSieve login reuse it unchanged)
 *
 * A login program is its protocol's dialogue (greeting, commands,
 * replies) behind struct login_protocol, and this layer around it:
 *
 *   ACCEPT    login_server_run(): the listeners of the service, one
 *             process per connection (daemon/session_server.h), at most
 *             process_limit at once and client_limit from one client
 *             address (a refused client gets the protocol's one line, or
 *             nothing on implicit TLS). Each connection process sets up a
 *             struct login_conn, does the TLS handshake first on an
 *             implicit-TLS service, and calls proto->run().
 *   TLS       login_conn_starttls() after the protocol's go-ahead reply:
 *             the handshake, whatever the client pipelined in plaintext
 *             thrown away (STYLE.md 17).
 *   LOGIN     login_conn_login(): postern-auth(8) checks the password
 *             (LOGIN, service proto->name, the client's address) and
 *             answers with a single-use token. On AUTH_OK the protocol
 *             sends nothing more (the mailbox side answers the login) and
 *             returns from run() at once, wiping its buffers on the way
 *             out; the layer then hands the client over, so no credential
 *             of the dialogue stays in a process that may live on as the
 *             TLS proxy. On a wrong password or a temporary failure the
 *             protocol replies. Plaintext credentials are the protocol's
 *             to refuse where login_conn_plaintext_ok() says no.
 *   HAND-OVER to queue_dir/private/NAME (proto/login_handover.h): the
 *             token, the client's address, whether TLS is kept here, the
 *             protocol's parameter, the client's pipelined input, and the
 *             client's descriptor. The mailbox side redeems the token
 *             with postern-auth and takes the user's address from there,
 *             never from us (daemon: login/handover_server.h).
 *               plaintext  the descriptor is the client socket: this
 *                          process exits.
 *               TLS        the descriptor is one end of a socketpair and
 *                          this process stays as the TLS proxy
 *                          (login_proxy.c) until either side ends.
 *   END       QUIT, end of input, the protocol's limits, SIGTERM (the
 *             handler sets login_stopping and shuts the client socket for
 *             reading, so a blocked read returns at once).
 *
 * The login process never opens a mailbox, never sees a hash, and cannot
 * name a user to the mailbox side on its own word: code execution here
 * yields the logins that happen here, nothing more.
 */
#ifndef POSTERN_LOGIN_H
#define POSTERN_LOGIN_H

#include <signal.h>
#include <openssl/ssl.h>

#include "proto/auth_client.h"
#include "proto/login_handover.h"
#include "daemon/service_child.h"
#include "util/io.h"
#include "util/str.h"

#define LOGIN_IP_MAX LOGIN_HANDOVER_IP_MAX
#define LOGIN_ID_MAX 32

struct login_conn;

/* What a protocol gives the layer. Replies are whole lines with CRLF. */
struct login_protocol {
	const char *name;		/* "pop3": the service postern-auth
					 * sees, and private/NAME */
	const char *busy_reply;		/* process_limit reached */
	const char *busy_why;		/* ... for the log: "pop3_process_limit
					 * reached" */
	const char *client_reply;	/* client_limit reached */
	const char *client_why;
	const char *unavailable_reply;	/* the hand-over failed */
	/* The dialogue of one connection (greeting included), until the
	 * client leaves or has logged in (login_conn_login() == AUTH_OK:
	 * return at once, without a reply). */
	void (*run)(struct login_conn *c);
};

struct login_settings {
	int timeout_ms;			/* each command before login */
	int session_timeout_ms;		/* after login: the TLS proxy gives up
					 * on a side that takes nothing this
					 * long */
	unsigned process_limit;		/* connections at once */
	unsigned client_limit;		/* ... from one client address; 0:
					 * no limit */
};

struct sandbox_prepared;

struct login {
	struct service_child *sc;
	const struct login_protocol *proto;
	struct login_settings set;
	void *proto_arg;		/* the protocol's own settings */
	SSL_CTX *tls;			/* NULL: no STARTTLS, no implicit TLS */
	int implicit_tls;		/* the service's SERVICE_TLS_IMPLICIT */
	struct str auth_socket;		/* queue_dir/private/auth */
	struct str handover_socket;	/* queue_dir/private/NAME */
	struct sandbox_prepared *session_sandbox; /* entered by each session
						   * process; NULL: none */
};

/* One client before login, in its own process. */
struct login_conn {
	struct login *lg;
	struct io io;
	int fd;
	char ip[LOGIN_IP_MAX + 1];
	char id[LOGIN_ID_MAX];		/* log id of the session */
	int tls, loopback;
	unsigned bad;			/* the protocol's count, for the log */
	struct auth_client ac;
	int ac_init;
	char token[AUTH_TOKEN_LEN + 1];	/* after a login: hand over */
	char param[LOGIN_HANDOVER_PARAM_MAX + 1];
};

/* Set by SIGTERM in a connection process. */
extern volatile sig_atomic_t login_stopping;

/* login_server.c: the socket paths from the configuration (fatal if too
 * long); tls is set by the caller afterwards if it has a context. */
void login_init(struct login *lg, struct service_child *sc,
		const struct login_protocol *proto,
		const struct login_settings *set, void *proto_arg);
void login_free(struct login *lg);
/* Accept until retired or stopped and every connection has ended. */
void login_server_run(struct login *lg);

/* A login program (postern-pop3-login, postern-imap-login): what its
 * main gives login_main(). */
struct login_program {
	const char *name;		/* "postern-imap-login": the log */
	const struct login_protocol *proto;
	void *proto_arg;		/* the protocol's own settings */
	/* Fill *set and proto_arg from the loaded configuration. */
	void (*configure)(const struct conf *c, struct login_settings *set,
			  void *proto_arg);
	const char *profile;		/* "imap-login": the sandbox of the
					 * accepting parent (login_main.c) */
	const char *session_profile;	/* "imap-login-session": each
					 * session process's */
	const char *without_tls;	/* logged when there is no TLS pair:
					 * what the service does instead */
};

/* login_main.c: the whole main of a login program: start as a service
 * child (service_child.h), configure, load the TLS pair, drop privileges,
 * prepare the sessions' sandbox, confine itself, report ready, serve
 * (login_server_run()) and free. Returns the exit status, 0; fatal (exit
 * 111, logged) when it cannot start. */
int login_main(const struct login_program *lp, int argc, char **argv);

/* login_conn.c */
/* Plaintext credentials are taken under TLS or from a loopback client. */
int login_conn_plaintext_ok(const struct login_conn *c);
/* STARTTLS once the protocol has sent its go-ahead: 0, TLS is up; -1 the
 * handshake failed (logged): end the session. */
int login_conn_starttls(struct login_conn *c);
/* Check user's password with postern-auth. AUTH_OK: logged in, the token
 * kept for the hand-over: return from run() without a reply. AUTH_NO:
 * wrong user or password; AUTH_TEMPFAIL: the auth service could not say;
 * both logged, the protocol replies. mech names the method in the log
 * ("USER", "PLAIN"); param is the protocol's hand-over parameter
 * (login_handover.h), NULL if none. */
int login_conn_login(struct login_conn *c, const char *mech,
		     const char *user, const char *password,
		     const char *param);
/* Escape p[0..n) for a log line into buf (log_escape, 100 bytes). */
const char *login_conn_esc(struct str *buf, const char *p, size_t n);

/* The client has logged in: hand it over (login_conn.c); never
 * returns. */
_Noreturn void login_conn_handover(struct login_conn *c);

/* login_proxy.c: relay between the client's TLS session (c->io) and
 * peer (the socketpair end) until either side ends; never returns. */
_Noreturn void login_proxy_run(struct login_conn *c, int peer);

#endif
