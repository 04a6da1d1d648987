/*
 * qmgr_remote - remote recipients: requests by destination, the pool of
 * connections to postern-remote, back-off of destinations that are down
 * (the rules are in qmgr_remote.h)
 */
#include "qmgr.h"
#include "qmgr_bounce.h"
#include "qmgr_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "retry.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/sock.h"

#define LOG_ADDR_MAX 256

struct rdest {
	char *name;			/* next hop: a domain or relay_host */
	unsigned active;		/* requests at postern-remote */
	time_t until;			/* backed off until then */
	unsigned backoff;		/* the last back-off, seconds */
	char *reason;			/* why it is down */
	struct rdest *next;
};

struct rjob {
	struct msg *m;
	struct rdest *d;
	int target;			/* m's current alias target */
	size_t n;
	size_t rcpt[DELIVERY_RCPT_MAX];	/* indexes into m->env.rcpts */
	char *addr[DELIVERY_RCPT_MAX];	/* the addresses sent */
	unsigned notify[DELIVERY_RCPT_MAX];	/* their DSN NOTIFY, 0: none */
	struct rjob *next;
};

struct rconn {
	struct qmgr *q;
	int fd;				/* -1: not connected */
	struct rjob *job;		/* in flight, or NULL */
	struct rdest *last;		/* destination of the last request */
	struct ev_timer *timer;
	struct str in;
};

struct qmgr_remote {
	struct rconn *conns;
	size_t nconns;
	struct rdest *dests;
	struct rjob *wait, *wait_tail;	/* requests not yet sent */
	int dispatching;
};

struct qmgr_remote_msg {
	size_t jobs;			/* requests not yet answered */
	unsigned char *own;		/* per recipient: handed out */
	time_t not_before;
};

/* ---- set-up ------------------------------------------------------------- */

void qmgr_remote_init(struct qmgr *q)
{
	/* the master starts remote_connection_limit postern-remote
	 * processes (the services table names the key), one per connection */
	struct qmgr_remote *r = xcalloc(1, sizeof(*r));
	size_t n = q->conf->remote_connection_limit ?
		   q->conf->remote_connection_limit : 1;

	if (n > SERVICE_PROCESSES_MAX)
		n = SERVICE_PROCESSES_MAX;
	r->nconns = n;
	r->conns = xcalloc(n, sizeof(*r->conns));
	for (size_t i = 0; i < n; i++) {
		r->conns[i].q = q;
		r->conns[i].fd = -1;
		str_init(&r->conns[i].in, (DELIVERY_RCPT_MAX + 1) *
			 DELIVERY_RREPLY_MAX);
	}
	q->remote = r;
}

static void job_free(struct rjob *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->addr[i]);
	free(j);
}

static void conn_close(struct rconn *c)
{
	if (c->fd >= 0) {
		ev_fd_del(c->q->loop, c->fd);
		close(c->fd);
	}
	c->fd = -1;
	ev_timer_cancel(c->q->loop, c->timer);
	c->timer = NULL;
	str_clear(&c->in);
}

void qmgr_remote_close(struct qmgr *q)
{
	struct qmgr_remote *r = q->remote;
	struct rjob *j;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nconns; i++) {
		conn_close(&r->conns[i]);
		if (r->conns[i].job != NULL)
			job_free(r->conns[i].job);
		str_free(&r->conns[i].in);
	}
	while ((j = r->wait) != NULL) {
		r->wait = j->next;
		job_free(j);
	}
	while (r->dests != NULL) {
		struct rdest *d = r->dests;

		r->dests = d->next;
		free(d->name);
		free(d->reason);
		free(d);
	}
	free(r->conns);
	free(r);
	q->remote = NULL;
}

void qmgr_remote_msg_free(struct msg *m)
{
	if (m->remote == NULL)
		return;
	free(m->remote->own);
	free(m->remote);
	m->remote = NULL;
}

void qmgr_remote_window_end(struct msg *m)
{
	if (m->remote == NULL)
		return;
	free(m->remote->own);
	m->remote->own = NULL;
}

int qmgr_remote_owned(const struct msg *m, size_t rcpt)
{
	return m->remote != NULL && m->remote->own != NULL &&
	       rcpt < m->env.rcpt_count && m->remote->own[rcpt];
}

time_t qmgr_remote_not_before(const struct msg *m)
{
	return m->remote != NULL ? m->remote->not_before : 0;
}

int qmgr_remote_busy(const struct qmgr *q)
{
	for (size_t i = 0; q->remote != NULL && i < q->remote->nconns; i++)
		if (q->remote->conns[i].job != NULL)
			return 1;
	return 0;
}

void qmgr_remote_flush(struct qmgr *q)
{
	for (struct rdest *d = q->remote->dests; d != NULL; d = d->next) {
		d->until = 0;
		d->backoff = 0;
	}
}

/* ---- destinations and requests ------------------------------------------ */

static struct rdest *dest_get(struct qmgr *q, const char *name)
{
	struct rdest *d;

	for (d = q->remote->dests; d != NULL; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	d->next = q->remote->dests;
	q->remote->dests = d;
	return d;
}

/* The next hop of addr: relay_host, or its domain in lower case. */
static void nexthop_of(const struct qmgr *q, const char *addr,
		       struct str *out)
{
	const char *at = strrchr(addr, '@');

	str_clear(out);
	if (q->conf->relay_host[0] != '\0') {
		str_appends(out, q->conf->relay_host);
		return;
	}
	for (const char *p = at ? at + 1 : addr; *p != '\0'; p++)
		str_appendc(out, (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32)
							  : *p);
}

static struct qmgr_remote_msg *msg_state(struct msg *m)
{
	if (m->remote == NULL)
		m->remote = xcalloc(1, sizeof(*m->remote));
	return m->remote;
}

static void job_enqueue(struct qmgr *q, struct rjob *j)
{
	struct qmgr_remote *r = q->remote;

	msg_state(j->m)->jobs++;
	j->m->inflight = 1;
	j->next = NULL;
	if (r->wait_tail != NULL)
		r->wait_tail->next = j;
	else
		r->wait = j;
	r->wait_tail = j;
}

static struct rjob *job_new(struct msg *m, struct rdest *d, int target)
{
	struct rjob *j = xcalloc(1, sizeof(*j));

	j->m = m;
	j->d = d;
	j->target = target;
	return j;
}

static void dispatch(struct qmgr *q);

/* Resolve a recipient that is in no local domain; 1 with its address. */
static int plainly_remote(struct qmgr *q, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	return at != NULL && at[1] != '\0' && at != rcpt &&
	       !conf_domain_is_local(q->conf, at + 1);
}

int qmgr_remote_begin(struct qmgr *q, struct msg *m)
{
	struct qmgr_remote_msg *rm = msg_state(m);
	size_t limit = q->conf->remote_recipient_limit;
	struct str hop = STR_INIT(0);
	struct rjob **open = NULL;
	size_t nopen = 0;

	if (rm->own != NULL || q->stopping)
		return rm->jobs > 0;
	rm->own = xcalloc(m->env.rcpt_count + 1, 1);
	if (limit == 0)
		limit = 1;
	if (limit > DELIVERY_RCPT_MAX)
		limit = DELIVERY_RCPT_MAX;
	for (size_t i = 0; i < m->env.rcpt_count; i++) {
		const char *addr = m->env.rcpts[i].addr;
		struct rjob *j = NULL;
		struct rdest *d;

		if (m->env.rcpts[i].state != QUEUE_RCPT_QUEUED ||
		    !plainly_remote(q, addr))
			continue;
		nexthop_of(q, addr, &hop);
		d = dest_get(q, str_c(&hop));
		for (size_t k = 0; k < nopen && j == NULL; k++)
			if (open[k]->d == d && open[k]->n < limit)
				j = open[k];
		if (j == NULL) {
			j = job_new(m, d, 0);
			open = xreallocarray(open, nopen + 1, sizeof(*open));
			open[nopen++] = j;
		}
		j->rcpt[j->n] = i;
		j->notify[j->n] = m->env.rcpts[i].notify;
		j->addr[j->n++] = xstrdup(addr);
		rm->own[i] = 1;
	}
	for (size_t k = 0; k < nopen; k++)
		job_enqueue(q, open[k]);
	free(open);
	str_free(&hop);
	if (nopen > 0)
		dispatch(q);
	return nopen > 0;
}

/* The NOTIFY passed on with a forward: the recipient's, but without
 * SUCCESS when it expands into several targets (RFC 3461 6.2.7.3: the
 * sender gets one "expanded" notice from us instead); NEVER if nothing
 * is left. */
static unsigned target_notify(const struct msg *m)
{
	unsigned n = m->env.rcpts[m->rcpt].notify;

	if (m->targets.n <= 1 || !(n & QUEUE_NOTIFY_SUCCESS))
		return n;
	n &= ~QUEUE_NOTIFY_SUCCESS;
	return n != 0 ? n : QUEUE_NOTIFY_NEVER;
}

void qmgr_remote_target(struct qmgr *q, struct msg *m)
{
	const char *addr = m->targets.v[m->target].addr;
	struct str hop = STR_INIT(0);
	struct rjob *j;

	nexthop_of(q, addr, &hop);
	j = job_new(m, dest_get(q, str_c(&hop)), 1);
	j->rcpt[0] = m->rcpt;
	j->notify[0] = target_notify(m);
	j->addr[0] = xstrdup(addr);
	j->n = 1;
	str_free(&hop);
	job_enqueue(q, j);
	dispatch(q);
}

/* ---- outcomes ----------------------------------------------------------- */

static void log_outcome(const struct msg *m, const char *to,
			const char *relay, const char *status,
			const char *reason)
{
	struct str t = STR_INIT(0), r = STR_INIT(0), l = STR_INIT(0);
	struct timespec now;
	double delay;

	clock_gettime(CLOCK_REALTIME, &now);
	delay = (double)(now.tv_sec - m->env.arrival.tv_sec) +
		(double)(now.tv_nsec - m->env.arrival.tv_nsec) / 1e9;
	log_escape(&t, to, strlen(to), LOG_ADDR_MAX);
	log_escape(&l, relay, strlen(relay), 320);
	log_escape(&r, reason, strlen(reason), 512);
	log_info(m->id, "to=<%s> relay=%s delay=%.1f status=%s (%s)",
		 str_c(&t), str_c(&l), delay < 0 ? 0.0 : delay, status,
		 str_c(&r));
	str_free(&t);
	str_free(&l);
	str_free(&r);
}

void qmgr_remote_note(struct msg *m, size_t rcpt, const char *addr,
		      enum dsn_action action, const char *relay,
		      const char *reason)
{
	const char *said = strstr(reason, " said: ");
	const char *br = strchr(relay, '[');
	char *mta = NULL;

	if (said != NULL && br != NULL && strcmp(relay, "none") != 0)
		mta = xstrndup(relay, (size_t)(br - relay));
	qmgr_bounce_note(m, rcpt, addr, action, reason, mta,
			 mta != NULL ? said + 7 : NULL);
	free(mta);
}

struct final {
	size_t rcpt;
	char state;
};

/* Write final states and join this turn's group sync (qmgr_sync.c); the
 * last ones of the message need no write (the unlink that follows records
 * them, as in qmgr_msg.c). */
static void record(struct msg *m, const struct final *f, size_t n)
{
	int last = m->pending == n && !m->write_failed && !m->read_failed &&
		   m->remote->jobs == 1;
	int failed = 0;

	for (size_t i = 0; i < n && !failed; i++) {
		if (last)
			m->env.rcpts[f[i].rcpt].state = f[i].state;
		else
			failed = queue_file_set_state(m->fd, &m->env,
						      f[i].rcpt, f[i].state) < 0;
	}
	if (n == 0 || last || !failed) {
		if (n > 0 && !last)	/* with the others of this turn */
			qmgr_sync_soon(m->q, m);
		m->pending -= n;
		return;
	}
	log_warn(m->id, "cannot record the state of %zu recipients: %s; "
		 "they will be tried again", n, strerror(errno));
	for (size_t i = 0; i < n; i++)
		m->env.rcpts[f[i].rcpt].state = QUEUE_RCPT_QUEUED;
	m->write_failed = 1;
}

/* One recipient's answer: the final state to write, or 0. A success
 * notice (NOTIFY=SUCCESS) says "relayed" when the next hop did not offer
 * DSN; one that did was given the NOTIFY and reports itself. */
static char outcome(struct qmgr *q, struct msg *m, size_t rcpt,
		    const char *addr, enum delivery_status st,
		    const char *relay, int next_dsn, const char *reason)
{
	switch (st) {
	case DELIVERY_OK:
		log_outcome(m, addr, relay, "sent", reason);
		if (!next_dsn && (m->env.rcpts[rcpt].notify &
				  QUEUE_NOTIFY_SUCCESS))
			qmgr_remote_note(m, rcpt, addr, DSN_RELAYED, relay,
					 reason);
		return QUEUE_RCPT_DELIVERED;
	case DELIVERY_PERM:
		log_outcome(m, addr, relay, "bounced", reason);
		qmgr_remote_note(m, rcpt, addr, DSN_FAILED, relay, reason);
		return QUEUE_RCPT_FAILED;
	case DELIVERY_TEMP:
		break;
	}
	if (retry_expired(m->env.arrival.tv_sec, time(NULL),
			  q->conf->queue_lifetime)) {
		log_outcome(m, addr, relay, "expired", reason);
		qmgr_remote_note(m, rcpt, addr, DSN_EXPIRED, relay, reason);
		return QUEUE_RCPT_EXPIRED;
	}
	log_outcome(m, addr, relay, "deferred", reason);
	qmgr_remote_note(m, rcpt, addr, DSN_DELAYED, relay, reason);
	m->deferred = 1;
	return 0;
}

/* A request is answered: statuses in st/relays/reasons, one each. */
static void job_done(struct qmgr *q, struct rjob *j,
		     const enum delivery_status *st, char *const *relay,
		     const int *dsn, char *const *reason)
{
	struct msg *m = j->m;
	struct final f[DELIVERY_RCPT_MAX];
	size_t nf = 0;

	if (j->target) {
		m->remote->jobs--;
		job_free(j);
		qmgr_msg_remote_result(q, m, st[0], relay[0], dsn[0],
				       reason[0]);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		char s = outcome(q, m, j->rcpt[i], j->addr[i], st[i],
				 relay[i], dsn[i], reason[i]);

		if (s != 0 && !qmgr_bounce_hold(m, j->rcpt[i], s)) {
			f[nf].rcpt = j->rcpt[i];
			f[nf++].state = s;
		}
	}
	record(m, f, nf);
	job_free(j);
	if (--m->remote->jobs == 0) {
		m->inflight = 0;
		qmgr_msg_step(q, m);
	}
}

/* Every recipient of j gets the same answer. */
static void job_all(struct qmgr *q, struct rjob *j, enum delivery_status st,
		    const char *relay, const char *reason)
{
	enum delivery_status sts[DELIVERY_RCPT_MAX];
	char *relays[DELIVERY_RCPT_MAX], *reasons[DELIVERY_RCPT_MAX];
	int dsn[DELIVERY_RCPT_MAX] = { 0 };

	for (size_t i = 0; i < j->n; i++) {
		sts[i] = st;
		relays[i] = (char *)relay;
		reasons[i] = (char *)reason;
	}
	job_done(q, j, sts, relays, dsn, reasons);
}

/* A request of a message on hold or deleted meanwhile: not sent, its
 * recipients stay queued without an attempt. */
static void job_drop(struct qmgr *q, struct rjob *j)
{
	struct msg *m = j->m;
	int target = j->target;

	job_free(j);
	m->remote->jobs--;
	if (target) {
		m->inflight = 0;
		m->rcpt_started = 0;
		resolve_result_free(&m->targets);
		qmgr_msg_step(q, m);
	} else if (m->remote->jobs == 0) {
		m->inflight = 0;
		qmgr_msg_step(q, m);
	}
}

/* ---- destination back-off ----------------------------------------------- */

static void dest_down(struct qmgr *q, struct rdest *d, const char *reason)
{
	unsigned min = q->conf->retry_min ? q->conf->retry_min : 1;
	unsigned max = q->conf->retry_max > min ? q->conf->retry_max : min;

	d->backoff = d->backoff == 0 ? min : d->backoff > max / 2 ? max :
		     d->backoff * 2;
	d->until = time(NULL) + (time_t)d->backoff;
	free(d->reason);
	d->reason = xstrdup(reason);
	log_info(NULL, "destination %s is down; no attempt for %u s (%s)",
		 d->name, d->backoff, reason);
}

static void dest_up(struct rdest *d)
{
	d->backoff = 0;
	d->until = 0;
}

/* A destination backed off: its request is deferred without an attempt.
 * 1 if it was. */
static int dest_skip(struct qmgr *q, struct rjob *j)
{
	struct rdest *d = j->d;
	struct str why = STR_INIT(0);

	if (d->until == 0 || d->until <= time(NULL))
		return 0;
	msg_state(j->m)->not_before = d->until;
	str_appendf(&why, "%s (destination backed off)", d->reason ?
		    d->reason : "4.4.1 destination down");
	job_all(q, j, DELIVERY_TEMP, "none", str_c(&why));
	str_free(&why);
	return 1;
}

/* ---- connections to postern-remote -------------------------------------- */

static void conn_fail(struct rconn *c, const char *reason)
{
	struct qmgr *q = c->q;
	struct rjob *j = c->job;

	conn_close(c);
	c->job = NULL;
	c->last = NULL;
	if (j != NULL) {
		j->d->active--;
		job_all(q, j, DELIVERY_TEMP, "none", reason);
	}
	dispatch(q);
	qmgr_maybe_done(q);
}

static void conn_timeout(void *arg)
{
	struct rconn *c = arg;

	c->timer = NULL;
	log_warn(c->job ? c->job->m->id : NULL, "postern-remote did not "
		 "answer in time");
	conn_fail(c, "4.4.7 remote delivery agent timed out");
}

/* Parse the complete answer in c->in: 0, or -1 if it is malformed. */
static int conn_answer(struct rconn *c)
{
	struct rjob *j = c->job;
	enum delivery_status st[DELIVERY_RCPT_MAX];
	char *relay[DELIVERY_RCPT_MAX] = { 0 }, *reason[DELIVERY_RCPT_MAX];
	int dsn[DELIVERY_RCPT_MAX] = { 0 };
	struct str rl = STR_INIT(0), rs = STR_INIT(0);
	const char *p = c->in.s, *error;
	int up = -1;
	size_t i, n = j->n;

	for (i = 0; i <= j->n; i++) {
		const char *nl = memchr(p, '\n', c->in.len - (size_t)(p -
				       c->in.s));
		size_t len = (size_t)(nl - p) + 1;

		if (i == j->n)
			up = delivery_rdone_parse(p, len);
		else if (delivery_rreply_parse(p, len, &st[i], &rl, &dsn[i],
					       &rs, &error) < 0)
			break;
		else {
			relay[i] = str_steal(&rl);
			reason[i] = str_steal(&rs);
		}
		p = nl + 1;
	}
	if (up >= 0) {
		c->job = NULL;
		ev_timer_cancel(c->q->loop, c->timer);
		c->timer = NULL;
		str_clear(&c->in);
		j->d->active--;
		if (up)
			dest_up(j->d);
		else
			dest_down(c->q, j->d, reason[0]);
		job_done(c->q, j, st, relay, dsn, reason);
	}
	for (size_t k = 0; k < i && k < n; k++) {
		free(relay[k]);
		free(reason[k]);
	}
	str_free(&rl);
	str_free(&rs);
	return up >= 0 ? 0 : -1;
}

static size_t count_lines(const struct str *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->len; i++)
		n += s->s[i] == '\n';
	return n;
}

static void conn_readable(void *arg, int fd, unsigned revents)
{
	struct rconn *c = arg;
	char buf[8192];
	ssize_t n;

	(void)revents;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return;
	if (n <= 0 || c->job == NULL) {
		if (c->job != NULL)
			log_warn(c->job->m->id, "postern-remote closed the "
				 "connection during a delivery");
		conn_fail(c, "4.3.0 remote delivery agent closed the "
			  "connection");
		return;
	}
	if (str_append(&c->in, buf, (size_t)n) < 0) {
		log_warn(c->job->m->id, "answer from postern-remote too long");
		conn_fail(c, "4.3.0 bad answer from the remote delivery agent");
		return;
	}
	if (count_lines(&c->in) < c->job->n + 1)
		return;
	if (count_lines(&c->in) > c->job->n + 1 || conn_answer(c) < 0) {
		log_warn(c->job ? c->job->m->id : NULL, "bad answer from "
			 "postern-remote; closing the connection");
		conn_fail(c, "4.3.0 bad answer from the remote delivery agent");
		return;
	}
	dispatch(c->q);
	qmgr_maybe_done(c->q);
}

static int conn_connect(struct qmgr *q, struct rconn *c)
{
	struct str path = STR_INIT(0);

	conf_queue_path(q->conf, "private/remote", &path);
	c->fd = sock_connect_unix(str_c(&path));
	str_free(&path);
	if (c->fd < 0)
		return -1;
	if (ev_fd_add(q->loop, c->fd, EV_READ, conn_readable, c) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static int request_make(const struct rjob *j, struct str *out,
			const char **error_r)
{
	struct delivery_send req;
	int r = -1;

	delivery_send_init(&req);
	if (cstr_copy(req.id, sizeof(req.id), j->m->id) < 0 ||
	    cstr_copy(req.sender, sizeof(req.sender), j->m->env.sender) < 0 ||
	    cstr_copy(req.nexthop, sizeof(req.nexthop), j->d->name) < 0) {
		*error_r = "field too long";
		return -1;
	}
	req.flags = j->m->env.flags;
	if (j->m->env.envid != NULL &&
	    cstr_copy(req.envid, sizeof(req.envid), j->m->env.envid) < 0) {
		*error_r = "envelope id too long";
		return -1;
	}
	req.offset = (uint64_t)j->m->env.message_offset;
	req.size = (uint64_t)j->m->env.message_size;
	for (size_t i = 0; i < j->n; i++)
		if (delivery_send_add(&req, j->addr[i], j->notify[i],
				      j->m->env.rcpts[j->rcpt[i]].orig) < 0) {
			*error_r = "bad recipient";
			goto out;
		}
	r = delivery_send_format(&req, out, error_r);
out:
	delivery_send_free(&req);
	return r;
}

/* Send the request with the queue file, reconnecting once if the agent
 * had closed an idle connection. */
static int conn_send(struct qmgr *q, struct rconn *c, int msgfd,
		     const struct str *line)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0 && conn_connect(q, c) < 0)
			return -1;
		if (sock_send_fd(c->fd, msgfd, line->s, line->len) == 0)
			return 0;
		conn_close(c);
	}
	return -1;
}

static int64_t job_timeout_ms(const struct qmgr *q, const struct rjob *j)
{
	return (int64_t)QMGR_DELIVERY_TIMEOUT_MS +
	       (int64_t)q->conf->remote_connect_timeout * 2000 * 10 +
	       (int64_t)q->conf->remote_timeout * 1000 * (int64_t)(j->n + 8);
}

static void job_send(struct qmgr *q, struct rconn *c, struct rjob *j)
{
	struct str line = STR_INIT(0), reason = STR_INIT(0);
	const char *error;
	int msgfd = -1;

	if (request_make(j, &line, &error) < 0) {
		str_appendf(&reason, "5.3.0 cannot make a delivery request: %s",
			    error);
		job_all(q, j, DELIVERY_PERM, "none", str_c(&reason));
	} else if ((msgfd = openat(q->dirfd[QD_ACTIVE], j->m->id,
				   O_RDONLY | O_CLOEXEC)) < 0) {
		str_appendf(&reason, "4.3.0 cannot open the queue file: %s",
			    strerror(errno));
		job_all(q, j, DELIVERY_TEMP, "none", str_c(&reason));
	} else if (conn_send(q, c, msgfd, &line) < 0) {
		str_appendf(&reason, "4.3.0 remote delivery agent "
			    "unavailable: %s", strerror(errno));
		job_all(q, j, DELIVERY_TEMP, "none", str_c(&reason));
	} else {
		c->job = j;
		c->last = j->d;
		j->d->active++;
		c->timer = ev_timer_add(q->loop, job_timeout_ms(q, j),
					conn_timeout, c);
		service_child_busy(q->sc);
	}
	if (msgfd >= 0)
		close(msgfd);
	str_free(&line);
	str_free(&reason);
}

/* An idle connection for d: the one that served d last, else any. */
static struct rconn *conn_idle(struct qmgr *q, const struct rdest *d)
{
	struct rconn *any = NULL;

	for (size_t i = 0; i < q->remote->nconns; i++) {
		struct rconn *c = &q->remote->conns[i];

		if (c->job != NULL)
			continue;
		if (c->last == d)
			return c;
		if (any == NULL || (any->last != NULL && c->last == NULL))
			any = c;
	}
	return any;
}

/* Take *pp off the waiting list. */
static struct rjob *wait_remove(struct qmgr_remote *r, struct rjob **pp)
{
	struct rjob *j = *pp;

	*pp = j->next;
	if (r->wait_tail == j) {
		r->wait_tail = r->wait;
		while (r->wait_tail != NULL && r->wait_tail->next != NULL)
			r->wait_tail = r->wait_tail->next;
	}
	j->next = NULL;
	return j;
}

/* May j go now? 1 with *c_r (NULL: settle it without a connection),
 * 0 if it must wait for a connection or its destination's limit. */
static int job_can_go(struct qmgr *q, struct rjob *j, unsigned dlimit,
		      struct rconn **c_r)
{
	*c_r = NULL;
	if (j->m->hold_req || j->m->delete_req ||
	    (j->d->until != 0 && j->d->until > time(NULL)))
		return 1;
	if (j->d->active >= dlimit)
		return 0;
	*c_r = conn_idle(q, j->d);
	return *c_r != NULL;
}

static void dispatch(struct qmgr *q)
{
	struct qmgr_remote *r = q->remote;
	unsigned dlimit = q->conf->remote_destination_limit ?
			  q->conf->remote_destination_limit : 1;
	struct rjob **pp = &r->wait, *j;
	struct rconn *c;

	if (r->dispatching)
		return;
	r->dispatching = 1;
	while (*pp != NULL && !q->stopping) {
		if (!job_can_go(q, *pp, dlimit, &c)) {
			pp = &(*pp)->next;
			continue;
		}
		j = wait_remove(r, pp);
		if (j->m->hold_req || j->m->delete_req)
			job_drop(q, j);
		else if (!dest_skip(q, j))
			job_send(q, c, j);
		pp = &r->wait;	/* settling a job may have changed the list */
	}
	r->dispatching = 0;
}
