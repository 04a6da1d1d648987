/*
 * smtpd.h - postern-smtpd's parts and what they share
 *
 *   smtpd.c          main: configuration, TLS context, privilege drop, maps
 *   smtpd_server.c   the accept loop: limits per client and in total,
 *                    processes reused for up to smtpd_max_use sessions
 *                    (common/daemon/session_pool.c), SIGHUP/SIGTERM/SIGCHLD
 *   smtpd_session.c  one session: greeting, command loop, smtp_reply(),
 *                    HELO/EHLO/RSET/NOOP/QUIT/VRFY/HELP/STARTTLS
 *   smtpd_input.c    the client's input: lines, message bytes, pushback;
 *                    the deadlines (smtpd_timeout, the session's time
 *                    limit, the minimum data rate)
 *   smtpd_txn.c      MAIL and RCPT
 *   smtpd_policy.c   which recipients are accepted (local users, relay)
 *   smtpd_auth.c     AUTH PLAIN and LOGIN through postern-auth
 *   smtpd_data.c     DATA and BDAT: Received:, smtp_data, the injector
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "proto/auth_client.h"
#include "proto/inject.h"
#include "daemon/service_child.h"
#include "smtp_cmd.h"
#include "smtp_data.h"
#include "util/cdbmap.h"
#include "util/cidr.h"
#include "util/io.h"
#include "util/str.h"

#define SMTPD_LINE_MAX 1000		/* command line with CRLF (RFC 5321) */
#define SMTPD_AUTH_LINE_MAX 12288	/* SASL response line (RFC 4954 4) */
#define SMTPD_AUTH_TIMEOUT_MS 30000	/* a failed VERIFY is delayed */
#define SMTPD_IP_MAX 64
/* Bytes of dead stack wiped at the end of a session: well past the
 * deepest command's frames (a log line is 2 KiB at most). */
#define SMTPD_STACK_SCRUB (64 * 1024)
/* Message bytes held for the injector go out after this much silence
 * from the client, so that a slow but legal DATA never leaves the
 * injector idle for longer than the client itself was (section
 * "DEADLINES" in smtpd_input.c). */
#define SMTPD_INJECT_FLUSH_MS 5000

enum smtpd_mode {
	SMTPD_MX,		/* port 25: local domains, relay after AUTH */
	SMTPD_SUBMISSION,	/* port 587: AUTH before MAIL */
	SMTPD_SMTPS,		/* port 465: implicit TLS, AUTH before MAIL */
};

/* What ends a wait for the client (smtpd_input.c, DEADLINES). */
enum smtpd_wait_limit {
	SMTPD_WAIT_IDLE,	/* smtpd_timeout */
	SMTPD_WAIT_RATE,	/* the data deadline (smtpd_min_data_rate) */
	SMTPD_WAIT_SESSION,	/* smtpd_session_time_limit */
};

/* What the daemon holds for all its sessions. */
struct smtpd {
	struct service_child *sc;
	const struct conf *conf;
	enum smtpd_mode mode;
	SSL_CTX *tls;			/* NULL: no STARTTLS offered */
	struct cdbmap users;		/* etc_dir/users.cdb */
	struct cdbmap aliases;		/* etc_dir/aliases.cdb */
	struct str auth_socket;		/* queue_dir/private/auth */
	struct str inject_socket;	/* queue_dir/private/inject */
	int timeout_ms;
	int session_limit_ms;		/* smtpd_session_time_limit */
	unsigned min_data_rate;		/* bytes/s; 0: none */
	unsigned junk_limit;
	struct cidr_list trusted;	/* trusted_networks */
	int trusted_relay;		/* trusted_networks_relay */
	unsigned rcpt_limit, error_limit, client_limit, process_limit;
	unsigned max_use;		/* sessions per process */
	unsigned sessions_served;	/* by this process, for session ids */
	struct sandbox_prepared *session_sandbox; /* entered by each session
						   * process; NULL: none */
};

/* One SMTP session; a process serves up to max_use of them, one after
 * another. */
struct smtpd_session {
	struct smtpd *srv;
	struct io io;
	int fd;
	char id[32];			/* session id in every log line */
	char ip[SMTPD_IP_MAX];
	int loopback;
	int trusted;			/* in trusted_networks */
	int tls;
	int esmtp;			/* EHLO (not HELO) was given */
	int have_helo;
	char helo[SMTP_HELO_MAX + 1];
	int authed;
	int auth_seen;			/* an AUTH command came: wipe at the end */
	struct str auth_user;
	struct auth_client ac;
	int ac_init;

	struct str in;			/* bytes read past the end of DATA */
	struct str line;		/* the current command line */
	unsigned errors, commands, messages;
	unsigned junk;			/* NOOP, RSET, ... since the last
					 * accepted message */
	int quit;
	const char *end_reason;		/* for the disconnect log line */

	/* deadlines (CLOCK_MONOTONIC) */
	int64_t end_ms;			/* the session's time limit */
	int64_t data_deadline_us;	/* reading message bytes; 0 otherwise */
	int64_t data_start_ms;
	uint64_t data_read;		/* bytes read since data_start_ms */
	enum smtpd_wait_limit wait_limit;	/* what limited the last wait */

	/* the mail transaction */
	int have_mail;
	struct str sender;		/* "" for <> */
	unsigned qflags;		/* QUEUE_FLAG_* (with the DSN RET) */
	int smtputf8;
	char envid[SMTP_ENVID_MAX + 1];	/* DSN ENVID (xtext), "" if none */
	char **rcpts;
	char **orcpts;			/* per recipient: DSN ORCPT or NULL */
	unsigned *notify;		/* per recipient: DSN NOTIFY or 0 */
	size_t nrcpts;

	/* DATA/BDAT in progress */
	int injecting;
	struct inject_client ic;
	struct smtp_data data;
	int64_t held_since_ms;		/* bytes held for the injector */
	int bdat;			/* a BDAT transaction is open */
	uint64_t bdat_octets;		/* its chunks' bytes so far */
};

/* Set by SIGTERM in a session: answer 421 and leave. */
extern volatile sig_atomic_t smtpd_session_stopping;

/* smtpd_server.c */
void smtpd_server_run(struct smtpd *srv);

/* smtpd_session.c */
/* Serve one session on fd (closed on return) and free all it held. */
void smtpd_session_run(struct smtpd *srv, int fd, const char *ip);
/* Every reply goes out here: "code enhanced text" (enhanced may be NULL
 * for the greeting, EHLO/HELO and the 334/354 intermediate replies). */
void smtp_reply(struct smtpd_session *s, int code, const char *enhanced,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A multi-line reply; lines[n] without CRLF. */
void smtp_reply_lines(struct smtpd_session *s, int code,
		      const char *const *lines, size_t n);
/* Forget the transaction (and a message being received). */
void smtpd_txn_reset(struct smtpd_session *s);
/* A read failed (IO_TIMEOUT, IO_EOF, IO_ERR) or SIGTERM came: answer 421
 * where that is due, and end the session. */
void smtpd_session_lost(struct smtpd_session *s, int r);
/* Log text for untrusted bytes (escaped, cut); valid until next call
 * with the same buffer. */
const char *smtpd_esc(struct str *buf, const char *p, size_t n);

/* smtpd_input.c */
int64_t smtpd_now_ms(void);
size_t smtpd_in_pending(const struct smtpd_session *s);
/* Read one line (with its LF) of at most maxlen bytes; IO_* results.
 * Pending replies are flushed first when nothing is waiting to be read.
 * The wait ends at smtpd_timeout or the session's time limit. */
int smtpd_read_line(struct smtpd_session *s, struct str *line,
		    size_t maxlen);
/* Message bytes (DATA, BDAT) are read under the data deadline, started
 * here at smtpd_timeout from now and extended as bytes arrive
 * (smtpd_min_data_rate). */
void smtpd_data_clock_start(struct smtpd_session *s);
void smtpd_data_clock_stop(struct smtpd_session *s);
/* Read up to n message bytes; IO_* results (IO_TIMEOUT at the data
 * deadline). While the client is silent, bytes held for the injector
 * are sent after SMTPD_INJECT_FLUSH_MS (smtpd_data_flush). */
int smtpd_read_data(struct smtpd_session *s, char *buf, size_t n,
		    size_t *got_r);
/* Put back bytes read past the end of DATA (in front of the rest). */
void smtpd_unread(struct smtpd_session *s, const char *p, size_t n);
void smtpd_in_discard(struct smtpd_session *s);

/* smtpd_txn.c: each returns 1 if the command was an error, else 0 */
int smtpd_cmd_mail(struct smtpd_session *s, const struct smtp_cmd *cmd);
int smtpd_cmd_rcpt(struct smtpd_session *s, const struct smtp_cmd *cmd);

/* smtpd_policy.c */
enum smtpd_rcpt_verdict {
	SMTPD_RCPT_OK,
	SMTPD_RCPT_UNKNOWN,	/* 550 5.1.1 */
	SMTPD_RCPT_RELAY,	/* 554 5.7.1 */
	SMTPD_RCPT_TEMP,	/* 451 4.3.0 lookup failed */
};
/* Decide about one recipient; address_r receives it as text. */
enum smtpd_rcpt_verdict smtpd_policy_rcpt(struct smtpd_session *s,
					  const struct addr *a,
					  struct str *address_r);

/* smtpd_auth.c */
int smtpd_cmd_auth(struct smtpd_session *s, const struct smtp_cmd *cmd);
int smtpd_auth_offered(const struct smtpd_session *s);

/* smtpd_data.c */
int smtpd_cmd_data(struct smtpd_session *s, const struct smtp_cmd *cmd);
int smtpd_cmd_bdat(struct smtpd_session *s, const struct smtp_cmd *cmd);
/* Give up a message being received (RSET, STARTTLS, end of session). */
void smtpd_data_abort(struct smtpd_session *s);
/* When the message bytes held for the injector must go out (CLOCK_
 * MONOTONIC ms), or -1 when none are held. */
int64_t smtpd_data_flush_due(const struct smtpd_session *s);
/* Send the held bytes to the injector now. */
void smtpd_data_flush(struct smtpd_session *s);

#endif
