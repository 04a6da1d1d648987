/*
 * inject - handing a message to the injector (postern-inject(8))
 *
 * The injector is the only writer of new queue files. smtpd and sendmail
 * connect to one of its unix sockets (SOCKETS below) and speak this
 * protocol; the injector writes queue_dir/tmp/ID, and once the message is
 * complete it joins the next group commit (one sync for many messages, then
 * the renames into new/ and one sync of new/), and only then answers. So
 * "OK id" means: on stable storage (DESIGN.md, step 2).
 *
 * PROTOCOL (client -> injector), every line ends in LF, no field contains
 * CR, LF, NUL or any byte below 0x20; lines are at most 1100 bytes:
 *
 *   SENDER <TAB> address       required first; empty for the null sender
 *   CLIENT <TAB> ip            optional (smtpd)
 *   HELO <TAB> name            optional (smtpd)
 *   AUTH <TAB> login           optional (authenticated submission)
 *   PROTO <TAB> name           optional: ESMTP, ESMTPS, ESMTPSA, SMTP ...
 *   FLAGS <TAB> n              optional: QUEUE_FLAG_* as a decimal number
 *                              (RET_FULL and RET_HDRS: the DSN RET)
 *   ENVID <TAB> xtext          optional: the DSN envelope id (RFC 3461)
 *   ORCPT <TAB> type;xtext     optional, the original of the RCPT after it
 *   NOTIFY <TAB> n             optional, the DSN NOTIFY of the RCPT after
 *                              it: QUEUE_NOTIFY_* as a decimal number
 *   RCPT <TAB> address         one or more (at most QUEUE_RCPT_MAX; for a
 *                              local submission inject_local_recipient_limit)
 *   DATA                       the message follows as chunks:
 *   <decimal length> LF <length bytes>    repeated; "0" LF ends it
 *
 * The head lines (CLIENT ... ENVID) come before the first ORCPT, NOTIFY
 * or RCPT, so that the injector writes each recipient into the queue file
 * as it arrives and never holds the list in memory. ORCPT and NOTIFY, at
 * most one of each, qualify the RCPT that follows them. Every value is
 * refused here if the queue file would refuse it (queue_file.h: flags,
 * ENVID, NOTIFY), so a request that passes is always writable.
 *
 * The message is the canonical form: lines end in LF (smtpd has undone the
 * dot-stuffing and turned CRLF into LF), with the headers smtpd adds
 * (Received:, and Message-ID:/Date: for submission) already in place.
 *
 * ANSWER (injector -> client), once, after the end chunk or at the first
 * error (after which the injector reads nothing more and closes):
 *
 *   OK <TAB> queue-id          on stable storage
 *   TEMP <TAB> reason          try again later (4xx): disk full, I/O error
 *   PERM <TAB> reason          never (5xx): too big, malformed request
 *
 * The injector learns the client's uid from SO_PEERCRED. A client that is
 * not root and not the smtpd account is a local submission: PROTO is forced
 * to "local", CLIENT/HELO/AUTH are ignored, and the uid is logged.
 *
 * SOCKETS  queue_dir/private/inject (INJECT_SOCKET: mode 0660, group
 * postern-injectc, i.e. smtpd and the queue manager's DSNs, and root) and
 * queue_dir/private/inject-local (INJECT_SOCKET_LOCAL: mode 0666, any local
 * user, for sendmail), where one uid may hold at most
 * inject_local_connection_limit connections at once (more are answered
 * "TEMP <TAB> too many connections from uid N (limit L)" at once). Which
 * socket a client uses changes only those limits: what it may set still
 * depends on its uid.
 */
#ifndef POSTERN_INJECT_H
#define POSTERN_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "util/io.h"
#include "util/str.h"

#define INJECT_SOCKET "private/inject"		/* under queue_dir */
#define INJECT_SOCKET_LOCAL "private/inject-local"
#define INJECT_LINE_MAX 1100
#define INJECT_CHUNK_MAX (64 * 1024)

enum inject_status {
	INJECT_OK = 0,
	INJECT_TEMP = 111,	/* exitcode.h EXIT_TEMP */
	INJECT_PERM = 100,	/* exitcode.h EXIT_PERM */
};

struct inject_env {
	const char *sender;		/* "" for <> */
	const char *const *rcpts;
	const char *const *orcpts;	/* NULL, or nrcpts entries (NULL ok) */
	const unsigned *notify;		/* NULL, or nrcpts QUEUE_NOTIFY_*
					 * values (0: not given) */
	const char *envid;		/* DSN ENVID (xtext), or NULL */
	size_t nrcpts;
	const char *client_ip;		/* NULL when absent */
	const char *helo;
	const char *auth_user;
	const char *protocol;
	unsigned flags;			/* QUEUE_FLAG_* */
};

struct inject_client {
	int fd;
	struct io io;
	int failed;			/* an error was seen; commit says so */
	int64_t sent_ms;		/* last chunk sent (CLOCK_MONOTONIC) */
	int64_t flush_ms;		/* send a partial chunk after this */
};

/* Connect and send the envelope. INJECT_OK, or TEMP/PERM with the reason
 * in reason_r (a TEMP when the injector cannot be reached). */
int inject_begin(struct inject_client *ic, const char *socket_path,
		 const struct inject_env *env, int timeout_ms,
		 struct str *reason_r);
/* Send message bytes (any split; buffered into chunks of
 * INJECT_CHUNK_MAX, but what was buffered goes out once it is older than
 * a quarter of timeout_ms, so that a slow sender never leaves the
 * injector silent for long: its idle limit follows smtpd_timeout). 0 or
 * -1. */
int inject_write(struct inject_client *ic, const void *p, size_t n);
/* Bytes written but not yet sent (they wait for a full chunk). */
size_t inject_buffered(const struct inject_client *ic);
/* Send them now as a chunk of their own: a caller whose message arrives
 * slowly calls this so that the injector, which drops a connection idle
 * for its time limit, keeps hearing from it. 0 or -1. */
int inject_flush(struct inject_client *ic);
/* End the message and wait for the answer: INJECT_OK with the queue id in
 * id_r, else TEMP/PERM with the reason. Closes the connection. */
int inject_commit(struct inject_client *ic, struct str *id_r,
		  struct str *reason_r);
/* Give up: the injector removes the temporary file. */
void inject_abort(struct inject_client *ic);
/* A TEMP or PERM reason may start with an enhanced status code (RFC 3463)
 * of class cls ('4' or '5') and a blank, as "5.4.6 too many hops ...":
 * the code's length, or 0 when it does not. */
size_t inject_reason_code(const char *reason, char cls);

#endif
