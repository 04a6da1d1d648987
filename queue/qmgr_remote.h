/*
 * qmgr_remote - the queue manager's scheduling of remote recipients
 *
 * ROUNDS  When a message is picked up, before its local recipients are
 *   looked at, every queued recipient in a non-local domain is handed out
 *   here (qmgr_remote_begin): grouped by destination (its domain, or
 *   relay_host when that is set) into SEND requests of at most
 *   remote_recipient_limit recipients, which wait for a connection to
 *   postern-remote. The message counts as in flight until every request
 *   is answered; its local recipients follow. A remote target of a local
 *   alias (a forward) goes out as a request of one (qmgr_remote_target)
 *   within the local recipients' walk, and its answer comes back through
 *   qmgr_msg_remote_result like a local agent's.
 *
 * LIMITS  remote_connection_limit connections to postern-remote (never
 *   more than the remote service's processes), each with one request at a
 *   time; at most remote_destination_limit of them for one destination. A
 *   request for a destination goes preferably to the connection whose
 *   process last served that destination, whose SMTP session may still
 *   be open (remote_reuse_time).
 *
 * DESTINATIONS DOWN  When postern-remote answers "DONE DOWN" (no server of
 *   the destination could be reached or greeted, or its DNS failed), the
 *   destination is backed off as a whole: retry_min after the first
 *   failure, doubling up to retry_max. Requests for it that wait, and
 *   those of messages picked up meanwhile, are not sent: their recipients
 *   are deferred with the destination's last reason, and their messages
 *   go back to deferred/ no earlier than the end of the back-off. Any
 *   "DONE UP" ends the back-off. FLUSH ("postern queue flush") forgets
 *   every back-off.
 *
 * OUTCOMES  One per recipient, logged "ID: to=<..> relay=host[ip]:port
 *   delay=S status=sent|deferred|bounced|expired (reason)"; D, F, X as for
 *   local recipients, through qmgr_bounce.h for F and X (and delay notes
 *   for deferred ones). A deferred recipient older than queue_lifetime
 *   expires. A connection to postern-remote that fails or times out
 *   defers its request's recipients (4.3.0) without backing off the
 *   destination.
 */
#ifndef POSTERN_QMGR_REMOTE_H
#define POSTERN_QMGR_REMOTE_H

#include <stddef.h>
#include <time.h>

#include "dsn.h"

struct qmgr;
struct msg;

void qmgr_remote_init(struct qmgr *q);
void qmgr_remote_close(struct qmgr *q);
/* Hand out m's remote recipients (once per round). 1 if requests are
 * pending (m is in flight; qmgr_msg_step is called when they are all
 * answered), 0 if there was nothing to send. */
int qmgr_remote_begin(struct qmgr *q, struct msg *m);
/* m's window of recipients is done: the next window is handed out
 * afresh. */
void qmgr_remote_window_end(struct msg *m);
/* Was recipient rcpt handed out this round? */
int qmgr_remote_owned(const struct msg *m, size_t rcpt);
/* Send m's current target (a remote one) as a request of one. */
void qmgr_remote_target(struct qmgr *q, struct msg *m);
/* Note recipient rcpt's outcome for the message's DSN, with the DSN's
 * Remote-MTA and Diagnostic-Code taken from a reason "x.y.z
 * host[ip]:port said: 550 text" (remote_send.c); none when no server
 * answered (relay "none", or no "said:"). */
void qmgr_remote_note(struct msg *m, size_t rcpt, const char *addr,
		      enum dsn_action action, const char *relay,
		      const char *reason);
/* Requests at postern-remote. */
int qmgr_remote_busy(const struct qmgr *q);
/* FLUSH: forget every destination's back-off. */
void qmgr_remote_flush(struct qmgr *q);
/* The earliest time m should be tried again (a backed-off destination),
 * or 0. */
time_t qmgr_remote_not_before(const struct msg *m);
void qmgr_remote_msg_free(struct msg *m);

#endif
