/*
 * qmgr_agent - the bounded pool of connections to postern-local
 *
 * local_delivery_limit connections (never more than the local service's
 * processes: each process serves one connection, and a connection beyond
 * them would wait for ever), opened when first needed. Each carries one
 * request at a time: the request line and a read-only descriptor of the
 * queue file in one sendmsg (delivery_proto.h), then exactly one reply
 * line. A connection that closes, times out or answers something else is
 * dropped and its delivery counts as deferred (4.3.0 / 4.4.7): the agent
 * may or may not have written the file, so a retry may bring a duplicate,
 * never a loss. An idle connection that the agent closed (a retired
 * process) is simply dropped, and the next request opens a new one.
 */
#include "qmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/sock.h"

static int dispatching;

void qmgr_agents_init(struct qmgr *q)
{
	/* the master starts local_delivery_limit postern-local processes
	 * (the services table names the key), one per connection here */
	size_t n = q->conf->local_delivery_limit ?
		   q->conf->local_delivery_limit : 1;

	if (n > SERVICE_PROCESSES_MAX)
		n = SERVICE_PROCESSES_MAX;
	q->nagents = n;
	q->agents = xcalloc(n, sizeof(*q->agents));
	for (size_t i = 0; i < n; i++) {
		q->agents[i].q = q;
		q->agents[i].fd = -1;
	}
}

static void agent_close(struct agent *a)
{
	if (a->fd >= 0) {
		ev_fd_del(a->q->loop, a->fd);
		close(a->fd);
	}
	a->fd = -1;
	ev_timer_cancel(a->q->loop, a->timer);
	a->timer = NULL;
	a->inlen = 0;
}

/* Drop the connection; the delivery in flight is deferred. */
static void agent_fail(struct agent *a, const char *reason)
{
	struct qmgr *q = a->q;
	struct msg *m = a->msg;

	agent_close(a);
	a->msg = NULL;
	if (m != NULL)
		qmgr_msg_result(q, m, DELIVERY_TEMP, reason);
	qmgr_dispatch(q);
	qmgr_maybe_done(q);
}

static void agent_timeout(void *arg)
{
	struct agent *a = arg;

	a->timer = NULL;
	log_warn(a->msg ? a->msg->id : NULL, "delivery agent did not answer "
		 "within %d s", QMGR_DELIVERY_TIMEOUT_MS / 1000);
	agent_fail(a, "4.4.7 delivery agent timed out");
}

/* A complete reply line is in a->in. */
static void agent_reply(struct agent *a, size_t linelen)
{
	struct qmgr *q = a->q;
	struct msg *m = a->msg;
	struct str reason = STR_INIT(0);
	enum delivery_status st;
	const char *error;

	if (m == NULL || linelen != a->inlen ||
	    delivery_reply_parse(a->in, linelen, &st, &reason, &error) < 0) {
		log_warn(m ? m->id : NULL, "bad reply from postern-local; "
			 "closing the connection");
		agent_fail(a, "4.3.0 bad reply from the delivery agent");
		str_free(&reason);
		return;
	}
	ev_timer_cancel(q->loop, a->timer);
	a->timer = NULL;
	a->inlen = 0;
	a->msg = NULL;
	qmgr_msg_result(q, m, st, str_c(&reason));
	str_free(&reason);
	qmgr_dispatch(q);
	qmgr_maybe_done(q);
}

static void agent_readable(void *arg, int fd, unsigned revents)
{
	struct agent *a = arg;
	char *nl;
	ssize_t n;

	(void)revents;
	n = recv(fd, a->in + a->inlen, sizeof(a->in) - a->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return;
	if (n <= 0) {
		if (a->msg != NULL)
			log_warn(a->msg->id, "postern-local closed the "
				 "connection during a delivery");
		agent_fail(a, "4.3.0 delivery agent closed the connection");
		return;
	}
	a->inlen += (size_t)n;
	nl = memchr(a->in, '\n', a->inlen);
	if (nl != NULL)
		agent_reply(a, (size_t)(nl - a->in) + 1);
	else if (a->inlen == sizeof(a->in))
		agent_reply(a, a->inlen);	/* refused as too long */
}

static int agent_connect(struct qmgr *q, struct agent *a)
{
	struct str path = STR_INIT(0);

	conf_queue_path(q->conf, "private/local", &path);
	a->fd = sock_connect_unix(str_c(&path));
	str_free(&path);
	if (a->fd < 0)
		return -1;
	if (ev_fd_add(q->loop, a->fd, EV_READ, agent_readable, a) < 0) {
		close(a->fd);
		a->fd = -1;
		return -1;
	}
	return 0;
}

/* Send line with the message descriptor, reconnecting once if the agent
 * had closed an idle connection. 0 or -1 with errno. */
static int agent_send_line(struct qmgr *q, struct agent *a, int msgfd,
			   const struct str *line)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (a->fd < 0 && agent_connect(q, a) < 0)
			return -1;
		if (sock_send_fd(a->fd, msgfd, line->s, line->len) == 0)
			return 0;
		agent_close(a);
	}
	return -1;
}

static int request_make(const struct msg *m, struct str *line,
			const char **error_r)
{
	const struct resolve_target *t = &m->targets.v[m->target];
	struct delivery_req req;

	memset(&req, 0, sizeof(req));
	if (cstr_copy(req.id, sizeof(req.id), m->id) < 0 ||
	    cstr_copy(req.sender, sizeof(req.sender), m->env.sender) < 0 ||
	    cstr_copy(req.rcpt, sizeof(req.rcpt), t->addr) < 0 ||
	    delivery_mailbox_set(&req, t->mailbox, error_r) < 0) {
		*error_r = "field too long or mailbox not a safe name";
		return -1;
	}
	req.offset = (uint64_t)m->env.message_offset;
	req.size = (uint64_t)m->env.message_size;
	return delivery_req_format(&req, line, error_r);
}

static void agent_send(struct qmgr *q, struct agent *a, struct msg *m)
{
	struct str line = STR_INIT(0), reason = STR_INIT(0);
	const char *error;
	int msgfd;

	m->inflight = 1;
	if (request_make(m, &line, &error) < 0) {
		str_appendf(&reason, "5.3.0 cannot make a delivery request: %s",
			    error);
		qmgr_msg_result(q, m, DELIVERY_PERM, str_c(&reason));
	} else if ((msgfd = openat(q->dirfd[QD_ACTIVE], m->id,
				   O_RDONLY | O_CLOEXEC)) < 0) {
		str_appendf(&reason, "4.3.0 cannot open the queue file: %s",
			    strerror(errno));
		qmgr_msg_result(q, m, DELIVERY_TEMP, str_c(&reason));
	} else if (agent_send_line(q, a, msgfd, &line) < 0) {
		str_appendf(&reason, "4.3.0 local delivery agent "
			    "unavailable: %s", strerror(errno));
		close(msgfd);
		qmgr_msg_result(q, m, DELIVERY_TEMP, str_c(&reason));
	} else {
		close(msgfd);
		a->msg = m;
		a->timer = ev_timer_add(q->loop, QMGR_DELIVERY_TIMEOUT_MS,
					agent_timeout, a);
		service_child_busy(q->sc);
	}
	str_free(&line);
	str_free(&reason);
}

void qmgr_ready(struct qmgr *q, struct msg *m)
{
	if (m->queued)
		return;
	m->queued = 1;
	m->ready_next = NULL;
	if (q->ready_tail != NULL)
		q->ready_tail->ready_next = m;
	else
		q->ready = m;
	q->ready_tail = m;
	qmgr_dispatch(q);
}

static struct agent *agent_idle(struct qmgr *q)
{
	for (size_t i = 0; i < q->nagents; i++)
		if (q->agents[i].msg == NULL)
			return &q->agents[i];
	return NULL;
}

void qmgr_dispatch(struct qmgr *q)
{
	struct agent *a;
	struct msg *m;

	if (dispatching)
		return;
	dispatching = 1;
	while (q->ready != NULL && !q->stopping &&
	       (a = agent_idle(q)) != NULL) {
		m = q->ready;
		q->ready = m->ready_next;
		if (q->ready == NULL)
			q->ready_tail = NULL;
		m->queued = 0;
		if (m->hold_req || m->delete_req)
			qmgr_msg_step(q, m);
		else
			agent_send(q, a, m);
	}
	dispatching = 0;
}

int qmgr_agents_busy(const struct qmgr *q)
{
	for (size_t i = 0; i < q->nagents; i++)
		if (q->agents[i].msg != NULL)
			return 1;
	return 0;
}

void qmgr_agents_close(struct qmgr *q)
{
	for (size_t i = 0; i < q->nagents; i++)
		agent_close(&q->agents[i]);
	free(q->agents);
	q->agents = NULL;
	q->nagents = 0;
}
