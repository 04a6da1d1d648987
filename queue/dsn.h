/*
 * dsn - the text of a delivery status notification: a bounce, a delay
 * warning or a success notice (RFC 3464 message/delivery-status in an
 * RFC 6522 multipart/report), built from plain data, with no I/O
 *
 * WHO     the queue manager (queue/qmgr_bounce.c) fills a dsn_report with
 *         a message's failed, expired, delayed and (for NOTIFY=SUCCESS,
 *         RFC 3461) delivered, relayed or expanded recipients and the
 *         start of the original message, and injects what dsn_build()
 *         writes as a new message from the null sender <> to the original
 *         sender.
 *
 * FORMAT  Header: From: Mail Delivery System <MAILER-DAEMON@hostname>,
 *         To: <sender>, Subject, Date, Message-ID, Auto-Submitted:
 *         auto-replied (RFC 3834), MIME-Version, Content-Type:
 *         multipart/report; report-type=delivery-status. Then three parts:
 *           1. text/plain: what happened, one paragraph per recipient
 *           2. message/delivery-status: Original-Envelope-Id (when the
 *              sender gave an ENVID; decoded), Reporting-MTA,
 *              X-Postern-Queue-ID, X-Postern-Sender, Arrival-Date; per
 *              recipient Final-Recipient, Original-Recipient (when known:
 *              the ORCPT's type and decoded address), Action (failed,
 *              delayed, delivered, relayed, expanded),
 *              Status, Remote-MTA (when remote), Diagnostic-Code ("smtp;"
 *              with the server's reply, "X-Postern;" with a local reason),
 *              Last-Attempt-Date, Will-Retry-Until (delayed only)
 *           3. text/rfc822-headers: the original header section (at most
 *              DSN_HEADERS_MAX bytes), or message/rfc822: the whole
 *              original when the caller says so (bounce_size_limit, and
 *              never for RET=HDRS or a notice of success only)
 *         Lines end in LF (the queue's canonical form).
 *
 * SAFETY  Nothing from outside reaches the output unchecked: reason and
 *         reply texts lose every control byte (CR, LF, NUL, TAB, ESC ->
 *         space, runs of spaces collapse), 8-bit bytes become '?', and
 *         they are cut at DSN_TEXT_MAX bytes; addresses lose control bytes
 *         but keep UTF-8. Every line is at most DSN_LINE_MAX bytes: fields
 *         are folded at spaces (continuation lines start with a space) and
 *         a word longer than a line is broken. The original's lines keep
 *         their bytes except NUL and bare CR (-> space); a line over the
 *         limit is broken, in the header part as a continuation line. The
 *         boundary is chosen so that it occurs in no part. A part that
 *         holds 8-bit bytes (a UTF-8 address, an 8-bit original) is
 *         declared Content-Transfer-Encoding: 8bit and *eightbit_r is set,
 *         so that the caller can inject the DSN with BODY=8BITMIME.
 */
#ifndef POSTERN_DSN_H
#define POSTERN_DSN_H

#include <stddef.h>
#include <time.h>

#include "util/str.h"

/* The longest line written, without its LF (RFC 5322 section 2.1.1). */
#define DSN_LINE_MAX 998
/* Fields and text are folded at a space from this column on. */
#define DSN_FOLD_COL 76
/* The most of the original header section returned. */
#define DSN_HEADERS_MAX (64 * 1024)
/* The most of one reason or reply text kept (after cleaning). */
#define DSN_TEXT_MAX 900
/* "x.y.z" with 3-digit subject and detail, and the NUL. */
#define DSN_STATUS_SIZE 10
/* Bytes of the caller's unique string used in Message-ID and boundary. */
#define DSN_UNIQUE_MAX 40

enum dsn_action {
	DSN_FAILED,	/* permanent failure: Action: failed */
	DSN_EXPIRED,	/* deferred past queue_lifetime: Action: failed */
	DSN_DELAYED,	/* still being retried: Action: delayed */
	DSN_DELIVERED,	/* NOTIFY=SUCCESS, into a mailbox here */
	DSN_RELAYED,	/* NOTIFY=SUCCESS, to a next hop without DSN */
	DSN_EXPANDED,	/* NOTIFY=SUCCESS, an alias of several targets */
};

/* A failure (failed or expired), a success notice, or neither (delayed). */
int dsn_action_failure(enum dsn_action a);
int dsn_action_success(enum dsn_action a);

struct dsn_rcpt {
	const char *final_rcpt;	/* the address delivery was tried to */
	const char *orig_rcpt;	/* the original recipient, or NULL */
	enum dsn_action action;
	const char *reason;	/* "x.y.z text" (local), or NULL */
	const char *remote_mta;	/* the remote server's name, or NULL */
	const char *smtp_reply;	/* its reply "550 5.1.1 text", or NULL */
	time_t last_attempt;	/* 0: the report's time */
	const char *orig_type;	/* orig_rcpt's address type; NULL: rfc822 */
};

struct dsn_report {
	const char *hostname;	/* Reporting-MTA; From: MAILER-DAEMON@ */
	const char *queue_id;	/* of the original message */
	const char *sender;	/* its envelope sender: the DSN's To: */
	const char *envid;	/* ENVID, decoded, or NULL */
	const char *unique;	/* differs for every DSN (Message-ID, boundary) */
	time_t arrival;		/* of the original message */
	time_t now;
	time_t retry_until;	/* Will-Retry-Until of delayed ones; 0: none */
	const struct dsn_rcpt *rcpts;
	size_t nrcpts;
	const char *original;	/* the start of the original message */
	size_t original_len;
	int original_whole;	/* original is all of it: return it whole */
};

/* 1 if a message from sender may be bounced: 0 for the null sender "",
 * so that a bounce (whose sender is <>) never bounces. */
int dsn_wanted(const char *sender);

/*
 * The length of the header section at the start of msg[0..len): the
 * lines before the first empty line ("\n" or "\r\n"), without it. With no
 * empty line, all of msg, but at most max bytes: then up to the end of
 * the last whole line within max (or max itself if there is none).
 */
size_t dsn_header_section(const char *msg, size_t len, size_t max);

/* The Status of one recipient: the enhanced code of the SMTP reply, else
 * of the reason, else from the reply's first digit, else 5.0.0 (failed),
 * 4.4.7 (expired), 4.0.0 (delayed) or 2.0.0 (success). A failed
 * recipient always gets class 5, a delayed one class 4, a success 2. */
void dsn_status(const struct dsn_rcpt *r, char out[DSN_STATUS_SIZE]);

/*
 * Append the whole DSN to out. -1 with a static reason in *error_r for a
 * report that must not be sent: the null sender, no recipient, no
 * hostname. *eightbit_r says whether the output holds 8-bit bytes.
 */
int dsn_build(const struct dsn_report *d, struct str *out, int *eightbit_r,
	      const char **error_r);

#endif
