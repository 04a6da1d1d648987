/*
 * qmgr_bounce - the queue manager's delivery status notifications: one
 * bounce (or delay warning) per message and attempt round
 *
 * DURING A ROUND  Whoever settles a recipient or a target notes what the
 *   sender must hear about:
 *
 *     qmgr_bounce_note(m, rcpt, addr, DSN_FAILED, "5.1.1 user unknown",
 *                      NULL, NULL);                  a local failure
 *     qmgr_bounce_note(m, rcpt, addr, DSN_FAILED, NULL, "mx.example.org",
 *                      "550 5.1.1 <x@example.org>: no such user");
 *     qmgr_bounce_note(m, rcpt, addr, DSN_EXPIRED, last_reason, ...);
 *     qmgr_bounce_note(m, rcpt, addr, DSN_DELAYED, reason, ...);
 *
 *   and, instead of writing the final state of a recipient at once:
 *
 *     if (!qmgr_bounce_hold(m, rcpt, state))
 *             write the state and fdatasync now, as before;
 *
 *   qmgr_bounce_hold() keeps the state (D, F or X) of a recipient with a
 *   failed or expired note, and leaves it Q in memory and on disk.
 *
 * AT THE END OF THE ROUND  qmgr_finish() calls qmgr_bounce_flush() before
 *   it removes or defers the file. It injects one DSN to the envelope
 *   sender covering every failed and expired note (and the delayed ones,
 *   when the delay warning is due), waits for the injector's OK (on
 *   stable storage), and only then writes the held states and syncs them.
 *   So an outcome is never recorded without its bounce: a crash between
 *   the two gives a second bounce at the next attempt, never none. If the
 *   injector answers TEMP (or cannot be reached) the held recipients stay
 *   Q and the whole round is repeated at the next attempt; finished alias
 *   targets are then forgotten (qmgr_memo_forget), so they may get a
 *   second copy - a duplicate, never a lost bounce. A PERM answer (the
 *   DSN itself refused) is logged and the states are written without a
 *   DSN, so that a DSN that can never be queued cannot hold a message for
 *   ever.
 *
 * NULL SENDER  A message from <> gets no DSN (a bounce never bounces):
 *   qmgr_bounce_hold() returns 0, the states are written at once as
 *   before, and the log says "no DSN for the null sender". A DSN is sent
 *   from <> itself, to the original sender, as a local submission; the
 *   queue manager then resolves it like any message, so a local sender
 *   gets it in its Maildir.
 *
 * DELAY WARNINGS  When a message goes back to deferred/ with a delayed
 *   note, is older than delay_warning_time (0 disables) and has not had a
 *   warning yet, the DSN carries its delayed recipients (Action: delayed,
 *   Will-Retry-Until arrival + queue_lifetime). That a warning was sent is
 *   the owner-execute bit of the queue file (fchmod): no new record, no
 *   second file, it travels with the file through every rename and
 *   survives a restart. It is set after the injector's OK and not synced
 *   on its own, so a crash right after may bring a second warning.
 *
 * NOTIFY (RFC 3461)  qmgr_bounce_note() keeps a note only if the
 *   recipient's NOTIFY asks for it (none given: FAILURE,DELAY): a failure
 *   nobody asked to hear about is logged ("ID: to=<addr>: no non-delivery
 *   notification: the sender asked for NOTIFY=NEVER") and its state is
 *   written at once, unheld. Success notes (DSN_DELIVERED, DSN_RELAYED,
 *   DSN_EXPANDED, for NOTIFY=SUCCESS) go into the same DSN but never hold
 *   a state: if the DSN cannot be queued now, they are dropped (logged)
 *   rather than the message delivered twice. RET=HDRS, or a DSN of
 *   successes only, returns the header section only; ENVID and ORCPT are
 *   decoded into Original-Envelope-Id and Original-Recipient.
 *
 * LOGS  "ID: sender non-delivery notification: DSNID" (or "sender delay
 *   notification", "sender success notification"), "ID: no DSN for the
 *   null sender", and a warning when the DSN cannot be queued.
 */
#ifndef POSTERN_QMGR_BOUNCE_H
#define POSTERN_QMGR_BOUNCE_H

#include <stddef.h>

#include "dsn.h"

struct qmgr;
struct msg;

/* The most recipients listed in one DSN; the rest are counted in the log
 * line and their states are written with it all the same. */
#define QMGR_BOUNCE_LIST_MAX 1000
/* The most notes kept for one window of a message (the others are
 * counted, so the DSN says how many it does not list): bounds memory. */
#define QMGR_BOUNCE_NOTES_MAX (2 * QMGR_BOUNCE_LIST_MAX)
/* How long the injector may take to queue a DSN. */
#define QMGR_BOUNCE_TIMEOUT_MS 30000

/* Note a target addr of recipient rcpt (an index into m->env.rcpts) for
 * this round's DSN. reason is "x.y.z text" for a local outcome; a remote
 * one gives remote_mta and the server's smtp_reply. Any may be NULL. */
void qmgr_bounce_note(struct msg *m, size_t rcpt, const char *addr,
		      enum dsn_action action, const char *reason,
		      const char *remote_mta, const char *smtp_reply);

/* 1: the final state of recipient rcpt is kept to be written after the
 * DSN is queued; 0: the caller writes it now (no failure noted for rcpt,
 * or the null sender). */
int qmgr_bounce_hold(struct msg *m, size_t rcpt, char state);

/* End of a round: queue the DSN, then write the held states. */
void qmgr_bounce_flush(struct qmgr *q, struct msg *m);

/* Forget the notes (qmgr_msg_free; a deleted message). */
void qmgr_bounce_free(struct msg *m);

#endif
