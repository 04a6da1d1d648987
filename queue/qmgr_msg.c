/*
 * qmgr_msg - one message's recipients, one after the other
 *
 * First, once per round, the recipients in non-local domains are handed
 * to the remote scheduling (qmgr_remote.h), which records their states
 * itself. Then, for each other recipient still queued (state Q): resolve
 * it (resolve.h) into targets, try each target - a local one through an
 * agent, a remote one (a forward) through postern-remote, a failed one
 * bounces - and then record the recipient's state durably before looking
 * at the next one:
 *
 *   every target sent or bounced, at least one sent   -> D
 *   every target bounced                              -> F
 *   some target deferred                              -> stays Q, or X
 *                                                        after queue_lifetime
 *
 * A message has at most one delivery in flight, so two deliveries of one
 * message never run at once; parallelism comes from several messages.
 *
 * One queue-file state covers a whole alias expansion (queue_file.h). So
 * that neither a retry nor a restart delivers again to the targets that
 * already got the message, each target of an expanding recipient that is
 * delivered is recorded in the file as it happens (a D record after END,
 * queue_file.h TARGETS; synced with the other outcomes of the same turn,
 * qmgr_sync.c), and skipped at the next attempt. Bounced targets are
 * remembered in memory only (the memo), because their DSN is queued at
 * the end of the round: a restart forgets them, and they are tried (and
 * bounced) again rather than never reported.
 *
 * Failed, expired and (for the delay warning) deferred outcomes are noted
 * for the message's DSN, and the final state of a recipient with a
 * failure is held until that DSN is queued (qmgr_bounce.h).
 *
 * SUCCESS NOTICES (RFC 3461 NOTIFY=SUCCESS; qmgr_bounce_note drops them
 * for the others): a recipient that resolves to one target gets
 * "delivered" when that target is a mailbox here, and "relayed" when it
 * is a forward whose next hop did not offer DSN (one that did got the
 * NOTIFY and reports itself). A recipient that expands into several
 * targets gets one "expanded" notice once they are all done and one was
 * delivered (RFC 3461 6.2.7.3), and its forwards go out without SUCCESS
 * in their NOTIFY (qmgr_remote.c), so that the sender hears once.
 */
#include "qmgr.h"
#include "qmgr_bounce.h"
#include "qmgr_remote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retry.h"
#include "util/alloc.h"
#include "util/log.h"

#define LOG_ADDR_MAX 256

/* ---- the memo of finished targets --------------------------------------- */

static struct memo *memo_find(struct qmgr *q, const char *id)
{
	for (struct memo *mo = q->memos; mo != NULL; mo = mo->next)
		if (strcmp(mo->id, id) == 0)
			return mo;
	return NULL;
}

static void memo_key(struct str *key, size_t rcpt, const char *addr)
{
	str_clear(key);
	str_appendf(key, "%zu:%s", rcpt, addr);
}

static int memo_has(struct qmgr *q, const struct msg *m, const char *addr)
{
	struct memo *mo = memo_find(q, m->id);
	struct str key = STR_INIT(0);
	int found = 0;

	if (mo != NULL) {
		memo_key(&key, m->win_first + m->rcpt, addr);
		for (size_t i = 0; i < mo->n && !found; i++)
			found = strcmp(mo->done[i], str_c(&key)) == 0;
	}
	str_free(&key);
	return found;
}

static void memo_add(struct qmgr *q, const struct msg *m, const char *addr)
{
	struct memo *mo = memo_find(q, m->id);
	struct str key = STR_INIT(0);

	if (mo == NULL) {
		if (q->nmemos >= QMGR_MEMO_MAX)
			return;	/* worst case: a second copy on retry */
		mo = xcalloc(1, sizeof(*mo));
		cstr_copy(mo->id, sizeof(mo->id), m->id);
		mo->next = q->memos;
		q->memos = mo;
		q->nmemos++;
	}
	if (mo->n >= QMGR_MEMO_TARGETS_MAX) {
		str_free(&key);
		return;	/* worst case: a second attempt on retry */
	}
	memo_key(&key, m->win_first + m->rcpt, addr);
	mo->done = xreallocarray(mo->done, mo->n + 1, sizeof(*mo->done));
	mo->done[mo->n++] = str_steal(&key);
}

void qmgr_memo_forget(struct qmgr *q, const char *id)
{
	for (struct memo **p = &q->memos; *p != NULL; p = &(*p)->next) {
		struct memo *mo = *p;

		if (strcmp(mo->id, id) != 0)
			continue;
		*p = mo->next;
		for (size_t i = 0; i < mo->n; i++)
			free(mo->done[i]);
		free(mo->done);
		free(mo);
		q->nmemos--;
		return;
	}
}

/* ---- log lines ---------------------------------------------------------- */

static const char *result_name(enum target_result r)
{
	switch (r) {
	case TR_SENT: return "sent";
	case TR_BOUNCED: return "bounced";
	case TR_DEFERRED: return "deferred";
	case TR_PENDING: break;
	}
	return "expired";
}

/* "ID: to=<to> [orig_to=<orig>] relay=R delay=S status=X (reason)" */
static void log_outcome(const struct msg *m, const char *to,
			const char *relay, const char *status,
			const char *reason)
{
	const char *orig = m->env.rcpts[m->rcpt].addr;
	struct str t = STR_INIT(0), o = STR_INIT(0), r = STR_INIT(0);
	struct timespec now;
	double delay;

	clock_gettime(CLOCK_REALTIME, &now);
	delay = (double)(now.tv_sec - m->env.arrival.tv_sec) +
		(double)(now.tv_nsec - m->env.arrival.tv_nsec) / 1e9;
	log_escape(&t, to, strlen(to), LOG_ADDR_MAX);
	if (strcmp(orig, to) != 0) {
		str_appends(&o, " orig_to=<");
		log_escape(&o, orig, strlen(orig), LOG_ADDR_MAX);
		str_appendc(&o, '>');
	}
	log_escape(&r, reason, strlen(reason), 512);
	log_info(m->id, "to=<%s>%s relay=%s delay=%.1f status=%s (%s)",
		 str_c(&t), str_c(&o), relay, delay < 0 ? 0.0 : delay, status,
		 str_c(&r));
	str_free(&t);
	str_free(&o);
	str_free(&r);
}

/* ---- resolving and finishing a recipient -------------------------------- */

static int map_lookup(void *arg, enum resolve_map map, const char *key,
		      struct str *value)
{
	struct qmgr *q = arg;
	struct cdbmap *cm = map == RESOLVE_MAP_ALIASES ? &q->aliases
						       : &q->users;

	return cdbmap_lookup(cm, key, strlen(key), value);
}

static int domain_is_local(void *arg, const char *domain)
{
	struct qmgr *q = arg;

	return conf_domain_is_local(q->conf, domain);
}

static void maps_refresh(struct qmgr *q)
{
	const char *error;

	if (cdbmap_refresh(&q->users, &error) < 0)
		log_warn(NULL, "%s: %s", q->users.path, error);
	if (cdbmap_refresh(&q->aliases, &error) < 0)
		log_warn(NULL, "%s: %s", q->aliases.path, error);
}

/* The targets of the current recipient delivered in an earlier attempt
 * (or before a restart): recorded in the file, skipped now. */
static void rcpt_done_targets(struct msg *m)
{
	const char *error;

	queue_targets_free(&m->done);
	if (m->trailer_end <= m->trailer)
		return;
	if (queue_file_targets(m->fd, m->trailer, m->rcpt_total,
			       m->win_first + m->rcpt, &m->done, &error) < 0) {
		log_warn(m->id, "cannot read the targets already delivered: "
			 "%s; they may get a second copy", error);
		queue_targets_free(&m->done);
	}
}

/* A target of a recipient that expands into several was delivered:
 * recorded in the file (synced with the others of this turn), so that
 * neither a retry nor a restart delivers to it again. */
static void target_record(struct msg *m, const char *addr)
{
	if (m->no_trailer)
		return;
	if (queue_file_add_target(m->fd, &m->trailer_end,
				  m->win_first + m->rcpt, addr) < 0) {
		log_warn(m->id, "cannot record the delivery to %s: %s; a "
			 "restart may deliver it again", addr,
			 strerror(errno));
		m->no_trailer = 1;
		return;
	}
	qmgr_sync_soon(m->q, m);
}

static void rcpt_begin(struct qmgr *q, struct msg *m)
{
	const struct resolve_ops ops = { domain_is_local, map_lookup, q };
	const char *rcpt = m->env.rcpts[m->rcpt].addr;
	struct str reason = STR_INIT(0);
	const char *error;

	m->rcpt_started = 1;
	m->target = 0;
	free(m->defer_reason);
	m->defer_reason = NULL;
	maps_refresh(q);
	if (resolve_rcpt(&ops, rcpt, &m->targets, &error) < 0) {
		/* no targets: the recipient is deferred as a whole */
		str_appendf(&reason, "4.3.0 %s", error);
		log_outcome(m, rcpt, "none", "deferred", str_c(&reason));
		m->defer_reason = str_steal(&reason);
	}
	free(m->results);
	m->results = xcalloc(m->targets.n + 1, sizeof(*m->results));
	free(m->fresh);
	m->fresh = xcalloc(m->targets.n + 1, 1);
	str_free(&reason);
	if (m->targets.n > 1)
		rcpt_done_targets(m);
}

/* Write a final state; the last queued recipient needs no write (the
 * unlink that follows records it). */
static void rcpt_record(struct msg *m, char state)
{
	struct queue_rcpt *r = &m->env.rcpts[m->rcpt];

	if (qmgr_bounce_hold(m, m->rcpt, state))
		return;	/* written once its DSN is queued */
	if (m->pending == 1 && !m->write_failed && !m->read_failed) {
		r->state = state;
		m->pending--;
		return;
	}
	if (queue_file_set_state(m->fd, &m->env, m->rcpt, state) < 0) {
		log_warn(m->id, "cannot record the state of recipient %zu: "
			 "%s; it will be tried again", m->win_first + m->rcpt,
			 strerror(errno));
		r->state = QUEUE_RCPT_QUEUED;
		m->write_failed = 1;
		return;
	}
	m->pending--;
	qmgr_sync_soon(m->q, m);	/* with the others of this turn */
}

/* Remember finished targets of a recipient that stays queued that the
 * file does not record: bounced ones, and delivered ones when the record
 * could not be written. */
static void rcpt_memo(struct qmgr *q, struct msg *m)
{
	for (size_t i = 0; i < m->targets.n; i++)
		if (m->targets.v[i].kind != RESOLVE_FAILED &&
		    (m->results[i] == TR_BOUNCED ||
		     (m->results[i] == TR_SENT &&
		      (m->no_trailer || m->targets.n == 1))))
			memo_add(q, m, m->targets.v[i].addr);
}

static void rcpt_end(struct qmgr *q, struct msg *m)
{
	int deferred = m->targets.n == 0, sent = 0;
	const char *rcpt = m->env.rcpts[m->rcpt].addr;
	int fresh = 0;

	for (size_t i = 0; i < m->targets.n; i++) {
		deferred |= m->results[i] == TR_DEFERRED;
		sent |= m->results[i] == TR_SENT;
		fresh |= m->results[i] == TR_SENT && m->fresh != NULL &&
			 m->fresh[i];
	}
	if (deferred && retry_expired(m->env.arrival.tv_sec, time(NULL),
				      q->conf->queue_lifetime)) {
		log_outcome(m, rcpt, "none", "expired", m->defer_reason ?
			    m->defer_reason : "queue_lifetime passed");
		qmgr_bounce_note(m, m->rcpt, rcpt, DSN_EXPIRED,
				 m->defer_reason, NULL, NULL);
		rcpt_record(m, QUEUE_RCPT_EXPIRED);
	} else if (deferred) {
		qmgr_bounce_note(m, m->rcpt, rcpt, DSN_DELAYED,
				 m->defer_reason, NULL, NULL);
		m->deferred = 1;
		rcpt_memo(q, m);
	} else {
		if (sent && fresh && m->targets.n > 1)
			qmgr_bounce_note(m, m->rcpt, rcpt, DSN_EXPANDED,
					 "2.0.0 alias expanded", NULL, NULL);
		rcpt_record(m, sent ? QUEUE_RCPT_DELIVERED : QUEUE_RCPT_FAILED);
	}
	resolve_result_free(&m->targets);
	queue_targets_free(&m->done);
	m->rcpt_started = 0;
	m->rcpt++;
}

/* ---- targets ------------------------------------------------------------ */

/* A success notice for a recipient of one target (see the top). */
static void target_success(struct msg *m, const char *relay, int next_dsn,
			   const char *reason)
{
	const struct resolve_target *t = &m->targets.v[m->target];

	if (m->targets.n != 1 ||
	    !(m->env.rcpts[m->rcpt].notify & QUEUE_NOTIFY_SUCCESS))
		return;
	if (t->kind != RESOLVE_REMOTE)
		qmgr_bounce_note(m, m->rcpt, t->addr, DSN_DELIVERED,
				 "2.0.0 delivered to the mailbox", NULL, NULL);
	else if (!next_dsn)
		qmgr_remote_note(m, m->rcpt, t->addr, DSN_RELAYED, relay,
				 reason);
}

static void target_done(struct msg *m, enum target_result r,
			const char *relay, int next_dsn, const char *reason)
{
	const struct resolve_target *t = &m->targets.v[m->target];

	m->results[m->target] = r;
	if (r == TR_SENT) {
		m->fresh[m->target] = 1;
		target_success(m, relay, next_dsn, reason);
	}
	if (r == TR_SENT && m->targets.n > 1)
		target_record(m, t->addr);
	if (r == TR_BOUNCED)
		qmgr_bounce_note(m, m->rcpt, t->addr, DSN_FAILED, reason,
				 NULL, NULL);
	if (r == TR_DEFERRED) {
		free(m->defer_reason);
		m->defer_reason = xstrdup(reason);
	}
	log_outcome(m, t->addr, relay, result_name(r), reason);
	m->target++;
}

/* Settle targets that need no agent. 1 if the current one needs one. */
static int targets_settle(struct qmgr *q, struct msg *m)
{
	while (m->target < m->targets.n) {
		const struct resolve_target *t = &m->targets.v[m->target];

		if (t->kind == RESOLVE_FAILED)
			target_done(m, TR_BOUNCED, "none", 0, t->reason);
		else if (memo_has(q, m, t->addr) ||
			 queue_targets_has(&m->done, t->addr))
			m->results[m->target++] = TR_SENT;
		else
			return 1;
	}
	return 0;
}

/* Advance to the next queued recipient; 0 when there is none. */
static int rcpt_next(struct msg *m)
{
	while (m->rcpt < m->env.rcpt_count &&
	       (m->env.rcpts[m->rcpt].state != QUEUE_RCPT_QUEUED ||
		qmgr_remote_owned(m, m->rcpt)))
		m->rcpt++;
	return m->rcpt < m->env.rcpt_count;
}

/* ---- windows of recipients ---------------------------------------------- */

size_t qmgr_window_bytes(const struct queue_env *env)
{
	size_t n = env->rcpt_alloc * sizeof(*env->rcpts);

	for (size_t i = 0; i < env->rcpt_count; i++)
		n += strlen(env->rcpts[i].addr) + 1 +
		     (env->rcpts[i].orig ? strlen(env->rcpts[i].orig) + 1 : 0);
	return n;
}

void qmgr_msg_account(struct qmgr *q, struct msg *m, long delta)
{
	if (delta < 0 && (size_t)-delta > m->bytes)
		delta = -(long)m->bytes;
	m->bytes += (size_t)delta;
	q->active_bytes += (size_t)delta;
}

int qmgr_msg_window(struct qmgr *q, struct msg *m)
{
	const char *error;
	size_t n = m->env.rcpt_count;

	qmgr_msg_account(q, m, -(long)qmgr_window_bytes(&m->env));
	if (queue_file_read_rcpts(m->fd, &m->env, m->win_next,
				  QMGR_WINDOW_RCPTS, QMGR_WINDOW_BYTES,
				  &m->win_next, &error) < 0) {
		log_warn(m->id, "cannot read recipients %zu and on: %s; "
			 "retrying later", m->win_first + n, error);
		m->read_failed = 1;
		return -1;
	}
	m->win_first += n;
	m->rcpt = 0;
	qmgr_msg_account(q, m, (long)qmgr_window_bytes(&m->env));
	return 0;
}

/* The window is done: its DSN out (and the states it held written),
 * then the next window. 0 when there is none (or it cannot be read). */
static int window_next(struct qmgr *q, struct msg *m)
{
	if (m->win_next >= m->rcpts_end || m->read_failed)
		return 0;
	qmgr_bounce_flush(q, m);
	qmgr_remote_window_end(m);
	return qmgr_msg_window(q, m) == 0;
}

void qmgr_msg_step(struct qmgr *q, struct msg *m)
{
	while (!m->inflight) {
		if (m->delete_req || m->hold_req) {
			if (m->rcpt_started)
				rcpt_memo(q, m);
			qmgr_finish(q, m);
			return;
		}
		if (qmgr_remote_begin(q, m))
			return;		/* remote requests out first */
		if (!m->rcpt_started) {
			if (!rcpt_next(m)) {
				if (window_next(q, m))
					continue;
				qmgr_finish(q, m);
				return;
			}
			rcpt_begin(q, m);
		}
		if (targets_settle(q, m)) {
			if (q->stopping)
				return;
			if (m->targets.v[m->target].kind == RESOLVE_REMOTE)
				qmgr_remote_target(q, m);
			else
				qmgr_ready(q, m);
			return;
		}
		rcpt_end(q, m);
	}
}

/* The one translation of an agent's answer into a target result. */
void qmgr_msg_result(struct qmgr *q, struct msg *m, enum delivery_status st,
		     const char *reason)
{
	m->inflight = 0;
	switch (st) {
	case DELIVERY_OK:
		target_done(m, TR_SENT, "local", 0, "delivered to maildir");
		break;
	case DELIVERY_PERM:
		target_done(m, TR_BOUNCED, "local", 0, reason);
		break;
	case DELIVERY_TEMP:
		target_done(m, TR_DEFERRED, "local", 0, reason);
		break;
	}
	qmgr_msg_step(q, m);
}

/* postern-remote's answer for the current target (a forward). */
void qmgr_msg_remote_result(struct qmgr *q, struct msg *m,
			    enum delivery_status st, const char *relay,
			    int next_dsn, const char *reason)
{
	m->inflight = 0;
	target_done(m, st == DELIVERY_OK ? TR_SENT : st == DELIVERY_PERM ?
		    TR_BOUNCED : TR_DEFERRED, relay, next_dsn, reason);
	qmgr_msg_step(q, m);
}

void qmgr_msg_free(struct msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	queue_env_free(&m->env);
	resolve_result_free(&m->targets);
	queue_targets_free(&m->done);
	free(m->results);
	free(m->fresh);
	free(m->defer_reason);
	qmgr_bounce_free(m);
	qmgr_remote_msg_free(m);
	free(m);
}
