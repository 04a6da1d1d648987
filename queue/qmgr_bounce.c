/*
 * qmgr_bounce - one DSN per message and round, queued before the
 * recipients' outcomes are written (the rules are in qmgr_bounce.h)
 *
 * The DSN goes through the injector like any local submission (the queue
 * manager is only a client of queue_dir/private/inject), so it is on
 * stable storage, gets its own queue id, and reaches a local sender by
 * ordinary local delivery. The call blocks the queue manager for as long
 * as one group commit takes (QMGR_BOUNCE_TIMEOUT_MS at most): bounces are
 * rare, and the injector never waits for the queue manager (its wake-up
 * is non-blocking, inject_wake.c), so the two cannot deadlock.
 */
#include "qmgr.h"
#include "qmgr_bounce.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/dsn_param.h"
#include "proto/inject.h"
#include "util/alloc.h"
#include "util/log.h"

_Static_assert(DSN_NOTIFY_NEVER == QUEUE_NOTIFY_NEVER &&
	       DSN_NOTIFY_SUCCESS == QUEUE_NOTIFY_SUCCESS &&
	       DSN_NOTIFY_FAILURE == QUEUE_NOTIFY_FAILURE &&
	       DSN_NOTIFY_DELAY == QUEUE_NOTIFY_DELAY,
	       "NOTIFY bits differ between dsn_param and queue_file");

struct bounce_note {
	size_t rcpt;
	char *addr, *reason, *remote_mta, *smtp_reply;
	char *orig_type, *orig_addr;	/* the ORCPT, decoded; or NULL */
	enum dsn_action action;
	time_t when;
};

struct held_state {
	size_t rcpt;
	char state;
};

struct qmgr_bounce {
	struct bounce_note *notes;
	size_t nnotes;
	struct held_state *held;
	size_t nheld;
	unsigned char *failed;		/* per recipient of the window: a
					 * failed or expired note */
	size_t nfailed_rcpts;		/* its size */
	size_t unlisted, unlisted_failed,	/* notes past the cap */
	       unlisted_success;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static size_t len_or_0(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* What a note costs in memory, roughly. */
static size_t note_bytes(const struct bounce_note *n)
{
	return sizeof(*n) + len_or_0(n->addr) + len_or_0(n->reason) +
	       len_or_0(n->remote_mta) + len_or_0(n->smtp_reply) +
	       len_or_0(n->orig_type) + len_or_0(n->orig_addr);
}

/* Does the sender want to hear about this outcome of recipient r? Its
 * NOTIFY (RFC 3461 4.1), or FAILURE,DELAY when it gave none. A failure
 * nobody is told about is logged, so that it is never lost silently. */
static int note_wanted(const struct msg *m, const struct queue_rcpt *r,
		       const char *addr, enum dsn_action action)
{
	unsigned notify = r->notify != 0 ? r->notify : DSN_NOTIFY_DEFAULT;
	struct str a = STR_INIT(0), n = STR_INIT(0);
	int want;

	if (dsn_action_failure(action))
		want = (notify & DSN_NOTIFY_FAILURE) != 0;
	else if (action == DSN_DELAYED)
		return (notify & DSN_NOTIFY_DELAY) != 0;
	else
		return (notify & DSN_NOTIFY_SUCCESS) != 0;
	if (!want) {
		log_escape(&a, addr, strlen(addr), 256);
		dsn_notify_format(notify, &n);
		log_info(m->id, "to=<%s>: no non-delivery notification: the "
			 "sender asked for NOTIFY=%s", str_c(&a), str_c(&n));
	}
	str_free(&a);
	str_free(&n);
	return want;
}

/* The note's Original-Recipient: the ORCPT decoded, else the recipient
 * when delivery went to another address (an alias target). */
static void note_orig(struct bounce_note *n, const struct queue_rcpt *r)
{
	struct str type = STR_INIT(0), addr = STR_INIT(0);

	if (r->orig != NULL &&
	    dsn_orcpt_decode(r->orig, strlen(r->orig), &type, &addr) == 0) {
		n->orig_type = str_steal(&type);
		n->orig_addr = str_steal(&addr);
	} else if (strcmp(r->addr, n->addr) != 0) {
		n->orig_addr = xstrdup(r->addr);
	}
	str_free(&type);
	str_free(&addr);
}

void qmgr_bounce_note(struct msg *m, size_t rcpt, const char *addr,
		      enum dsn_action action, const char *reason,
		      const char *remote_mta, const char *smtp_reply)
{
	struct qmgr_bounce *b = m->bounce;
	struct bounce_note *n;

	if (rcpt >= m->env.rcpt_count)
		log_panic("%s: bounce note for recipient %zu of %zu", m->id,
			  rcpt, m->env.rcpt_count);
	if (addr == NULL)
		addr = m->env.rcpts[rcpt].addr;
	if (!note_wanted(m, &m->env.rcpts[rcpt], addr, action))
		return;
	if (b == NULL)
		b = m->bounce = xcalloc(1, sizeof(*b));
	if (dsn_action_failure(action)) {
		if (b->failed == NULL) {
			b->nfailed_rcpts = m->env.rcpt_count;
			b->failed = xcalloc(b->nfailed_rcpts, 1);
			qmgr_msg_account(m->q, m, (long)b->nfailed_rcpts);
		}
		b->failed[rcpt] = 1;
	}
	if (b->nnotes >= QMGR_BOUNCE_NOTES_MAX) {
		/* counted, not listed: memory stays bounded */
		b->unlisted++;
		b->unlisted_failed += dsn_action_failure(action);
		b->unlisted_success += dsn_action_success(action);
		return;
	}
	b->notes = xreallocarray(b->notes, b->nnotes + 1, sizeof(*b->notes));
	n = &b->notes[b->nnotes++];
	memset(n, 0, sizeof(*n));
	n->rcpt = rcpt;
	n->addr = xstrdup(addr);
	note_orig(n, &m->env.rcpts[rcpt]);
	n->reason = dup_or_null(reason);
	n->remote_mta = dup_or_null(remote_mta);
	n->smtp_reply = dup_or_null(smtp_reply);
	n->action = action;
	n->when = time(NULL);
	qmgr_msg_account(m->q, m, (long)note_bytes(n));
}

/* Has recipient rcpt a failed or expired note? */
static int rcpt_failed(const struct qmgr_bounce *b, size_t rcpt)
{
	return b != NULL && b->failed != NULL && rcpt < b->nfailed_rcpts &&
	       b->failed[rcpt];
}

static int rcpt_held(const struct qmgr_bounce *b, size_t rcpt)
{
	for (size_t i = 0; b != NULL && i < b->nheld; i++)
		if (b->held[i].rcpt == rcpt)
			return 1;
	return 0;
}

int qmgr_bounce_hold(struct msg *m, size_t rcpt, char state)
{
	struct qmgr_bounce *b = m->bounce;

	if (!dsn_wanted(m->env.sender) || !rcpt_failed(b, rcpt))
		return 0;
	for (size_t i = 0; i < b->nheld; i++)
		if (b->held[i].rcpt == rcpt) {
			b->held[i].state = state;	/* the later word */
			return 1;
		}
	b->held = xreallocarray(b->held, b->nheld + 1, sizeof(*b->held));
	b->held[b->nheld].rcpt = rcpt;
	b->held[b->nheld].state = state;
	b->nheld++;
	return 1;
}

void qmgr_bounce_free(struct msg *m)
{
	struct qmgr_bounce *b = m->bounce;

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nnotes; i++) {
		qmgr_msg_account(m->q, m, -(long)note_bytes(&b->notes[i]));
		free(b->notes[i].addr);
		free(b->notes[i].reason);
		free(b->notes[i].remote_mta);
		free(b->notes[i].smtp_reply);
		free(b->notes[i].orig_type);
		free(b->notes[i].orig_addr);
	}
	qmgr_msg_account(m->q, m, -(long)b->nfailed_rcpts);
	free(b->notes);
	free(b->held);
	free(b->failed);
	free(b);
	m->bounce = NULL;
}

/* ---- the held states ---------------------------------------------------- */

/* Write the held states and sync them once; on a failure they stay Q (in
 * memory too) and the message is tried again. */
static void held_write(struct msg *m, const struct qmgr_bounce *b)
{
	size_t i;

	if (b->nheld == 0)
		return;
	for (i = 0; i < b->nheld; i++)
		if (queue_file_set_state(m->fd, &m->env, b->held[i].rcpt,
					 b->held[i].state) < 0)
			break;
	if (i == b->nheld && fdatasync(m->fd) == 0) {
		m->pending -= b->nheld;
		return;
	}
	log_warn(m->id, "cannot record the state of %zu bounced "
		 "recipient(s): %s; they will be tried again", b->nheld,
		 strerror(errno));
	for (i = 0; i < b->nheld; i++)
		m->env.rcpts[b->held[i].rcpt].state = QUEUE_RCPT_QUEUED;
	m->write_failed = 1;
}

/* ---- the delay warning -------------------------------------------------- */

static int delay_sent(const struct msg *m)
{
	struct stat st;

	if (fstat(m->fd, &st) < 0) {
		log_warn(m->id, "fstat: %s; no delay warning this time",
			 strerror(errno));
		return 1;
	}
	return (st.st_mode & S_IXUSR) != 0;
}

static void delay_mark(const struct msg *m)
{
	struct stat st;

	if (fstat(m->fd, &st) < 0 ||
	    fchmod(m->fd, (st.st_mode & 07777) | S_IXUSR) < 0)
		log_warn(m->id, "cannot mark the delay warning as sent: %s; "
			 "it may be sent again", strerror(errno));
}

static int delay_due(const struct qmgr *q, const struct msg *m,
		     const struct qmgr_bounce *b)
{
	unsigned after = q->conf->delay_warning_time;
	int delayed = 0;

	for (size_t i = 0; i < b->nnotes && !delayed; i++)
		delayed = b->notes[i].action == DSN_DELAYED &&
			  m->env.rcpts[b->notes[i].rcpt].state ==
			  QUEUE_RCPT_QUEUED;
	return delayed && after != 0 && dsn_wanted(m->env.sender) &&
	       time(NULL) - m->env.arrival.tv_sec >= (time_t)after &&
	       !delay_sent(m);
}

/* ---- building and queueing the DSN -------------------------------------- */

/* The notes that go into this DSN; how many failed and successful ones
 * among them. */
static size_t rcpts_collect(const struct msg *m, const struct qmgr_bounce *b,
			    int with_delayed, struct dsn_rcpt *out,
			    size_t *nfailed_r, size_t *nsuccess_r,
			    size_t *total_r)
{
	size_t n = 0;

	*nfailed_r = *nsuccess_r = *total_r = 0;
	for (size_t i = 0; i < b->nnotes; i++) {
		const struct bounce_note *bn = &b->notes[i];
		const struct queue_rcpt *r = &m->env.rcpts[bn->rcpt];

		if (bn->action == DSN_DELAYED &&
		    (!with_delayed || r->state != QUEUE_RCPT_QUEUED))
			continue;
		*nfailed_r += dsn_action_failure(bn->action);
		*nsuccess_r += dsn_action_success(bn->action);
		if ((*total_r)++ >= QMGR_BOUNCE_LIST_MAX)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].final_rcpt = bn->addr;
		out[n].orig_rcpt = bn->orig_addr;
		out[n].orig_type = bn->orig_type;
		out[n].action = bn->action;
		out[n].reason = bn->reason;
		out[n].remote_mta = bn->remote_mta;
		out[n].smtp_reply = bn->smtp_reply;
		out[n].last_attempt = bn->when;
		n++;
	}
	return n;
}

/* Read the start of the message (all of it when whole) into buf. */
static int original_read(const struct msg *m, size_t want, struct str *buf)
{
	off_t off = m->env.message_offset;
	ssize_t r;

	if (str_reserve(buf, want) < 0)
		return -1;
	while (buf->len < want) {
		r = pread(m->fd, buf->s + buf->len, want - buf->len,
			  off + (off_t)buf->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EBADMSG;
			return -1;
		}
		buf->len += (size_t)r;
	}
	buf->s[buf->len] = '\0';
	return 0;
}

/* Return the whole original? Only within bounce_size_limit and with room
 * for the rest of the DSN under message_size_limit. */
static int original_whole(const struct qmgr *q, const struct msg *m)
{
	uint64_t size = (uint64_t)m->env.message_size;

	return q->conf->bounce_size_limit != 0 &&
	       size <= q->conf->bounce_size_limit &&
	       size + DSN_HEADERS_MAX < q->conf->message_size_limit;
}

static int dsn_inject(const struct qmgr *q, const struct msg *m,
		      const struct str *text, int eightbit, struct str *id_r,
		      struct str *reason_r)
{
	const char *rcpts[1] = { m->env.sender };
	struct inject_env ie;
	struct inject_client ic;
	struct str path = STR_INIT(0);
	int r;

	memset(&ie, 0, sizeof(ie));
	ie.sender = "";
	ie.rcpts = rcpts;
	ie.nrcpts = 1;
	ie.protocol = "local";
	ie.flags = (eightbit ? QUEUE_FLAG_8BITMIME : 0) |
		   (m->env.flags & QUEUE_FLAG_SMTPUTF8);
	if (conf_queue_path(q->conf, INJECT_SOCKET, &path) < 0) {
		str_sets(reason_r, "injector socket path too long");
		str_free(&path);
		return INJECT_TEMP;
	}
	r = inject_begin(&ic, str_c(&path), &ie, QMGR_BOUNCE_TIMEOUT_MS,
			 reason_r);
	if (r == INJECT_OK) {
		(void)inject_write(&ic, text->s, text->len);
		r = inject_commit(&ic, id_r, reason_r);
	}
	str_free(&path);
	return r;
}

/* Return the whole original in this DSN? Never for RET=HDRS, nor in a
 * notice of success only (RFC 3461 4.3: RET is about failed DSNs); else
 * within the limits of original_whole(). */
static int return_whole(const struct qmgr *q, const struct msg *m,
			const struct dsn_rcpt *rcpts, size_t n)
{
	int unhappy = 0;

	for (size_t i = 0; i < n && !unhappy; i++)
		unhappy = !dsn_action_success(rcpts[i].action);
	return unhappy && !(m->env.flags & QUEUE_FLAG_RET_HDRS) &&
	       original_whole(q, m);
}

/* Build and queue the DSN; INJECT_OK with its id, or TEMP/PERM. */
static int dsn_send(const struct qmgr *q, const struct msg *m,
		    const struct dsn_rcpt *rcpts, size_t n, struct str *id_r,
		    struct str *reason_r)
{
	static unsigned counter;
	struct dsn_report d;
	struct str orig = STR_INIT(0), uniq = STR_INIT(0), text = STR_INIT(0),
		   envid = STR_INIT(0);
	size_t want = DSN_HEADERS_MAX;
	const char *error;
	int eightbit, r = INJECT_TEMP;

	memset(&d, 0, sizeof(d));
	d.original_whole = return_whole(q, m, rcpts, n);
	if (m->env.envid != NULL &&
	    dsn_xtext_decode(m->env.envid, strlen(m->env.envid), &envid) == 0)
		d.envid = str_c(&envid);
	if (d.original_whole || (uint64_t)m->env.message_size < want)
		want = (size_t)m->env.message_size;
	if (original_read(m, want, &orig) < 0) {
		str_appendf(reason_r, "cannot read the message: %s",
			    strerror(errno));
		goto out;
	}
	d.now = time(NULL);
	str_appendf(&uniq, "%s.%lld.%u", m->id, (long long)d.now, counter++);
	d.hostname = q->conf->hostname;
	d.queue_id = m->id;
	d.sender = m->env.sender;
	d.unique = str_c(&uniq);
	d.arrival = m->env.arrival.tv_sec;
	d.retry_until = d.arrival + (time_t)q->conf->queue_lifetime;
	d.rcpts = rcpts;
	d.nrcpts = n;
	d.original = str_c(&orig);
	d.original_len = orig.len;
	if (dsn_build(&d, &text, &eightbit, &error) < 0) {
		str_sets(reason_r, error);
		r = INJECT_PERM;
		goto out;
	}
	r = dsn_inject(q, m, &text, eightbit, id_r, reason_r);
out:
	str_free(&orig);
	str_free(&uniq);
	str_free(&text);
	str_free(&envid);
	return r;
}

/* The DSN could not be queued and will be tried again: the notes'
 * recipients that stay queued must not keep finished targets in the memo,
 * or their failed targets would count as done at the retry. */
static void retry_prepare(struct qmgr *q, struct msg *m,
			  const struct qmgr_bounce *b)
{
	if (b->unlisted_failed > 0) {
		qmgr_memo_forget(q, m->id);
		return;
	}
	for (size_t i = 0; i < b->nnotes; i++)
		if (dsn_action_failure(b->notes[i].action) &&
		    !rcpt_held(b, b->notes[i].rcpt)) {
			qmgr_memo_forget(q, m->id);
			return;
		}
}

static void log_sent(const struct msg *m, size_t nfailed, size_t nsuccess,
		     size_t total, const struct str *id)
{
	struct str more = STR_INIT(0);

	if (total > QMGR_BOUNCE_LIST_MAX)
		str_appendf(&more, " (lists %d of %zu recipients)",
			    QMGR_BOUNCE_LIST_MAX, total);
	log_info(m->id, "sender %s notification: %s%s", nfailed > 0 ?
		 "non-delivery" : nsuccess < total ? "delay" : "success",
		 str_c(id), str_c(&more));
	str_free(&more);
}

void qmgr_bounce_flush(struct qmgr *q, struct msg *m)
{
	struct qmgr_bounce *b = m->bounce;
	struct dsn_rcpt *rcpts;
	struct str id = STR_INIT(0), reason = STR_INIT(0), esc = STR_INIT(0);
	size_t n, nfailed, nsuccess, total;
	int delayed, r;

	if (b == NULL)
		return;
	delayed = delay_due(q, m, b);
	rcpts = xcalloc(b->nnotes + 1, sizeof(*rcpts));
	n = rcpts_collect(m, b, delayed, rcpts, &nfailed, &nsuccess, &total);
	nfailed += b->unlisted_failed;
	nsuccess += b->unlisted_success;
	total += b->unlisted_failed + b->unlisted_success +
		 (delayed ? b->unlisted - b->unlisted_failed -
			    b->unlisted_success : 0);
	if (n == 0) {
		held_write(m, b);
	} else if (!dsn_wanted(m->env.sender)) {
		log_info(m->id, "no DSN for the null sender (a bounce never "
			 "bounces)");
		held_write(m, b);
	} else if ((r = dsn_send(q, m, rcpts, n, &id, &reason)) ==
		   INJECT_OK) {
		log_sent(m, nfailed, nsuccess, total, &id);
		if (delayed)
			delay_mark(m);
		held_write(m, b);
	} else {
		log_escape(&esc, reason.s, reason.len, 256);
		if (r == INJECT_PERM) {
			log_warn(m->id, "the DSN was refused (%s); the "
				 "recipients are recorded without one",
				 str_c(&esc));
			held_write(m, b);
		} else {
			log_warn(m->id, "cannot queue the DSN (%s); its "
				 "failed recipients stay queued and are tried "
				 "again%s", str_c(&esc), nsuccess > 0 ?
				 ", its success notices are dropped" : "");
			retry_prepare(q, m, b);
		}
	}
	free(rcpts);
	str_free(&id);
	str_free(&reason);
	str_free(&esc);
	qmgr_bounce_free(m);
}
