/*
 * remote_server - postern-remote's accept loop, request framing and the
 * session kept between requests
 *
 * One connection (the queue manager's) at a time, one request at a time,
 * as postern-local. SIGTERM and SIGHUP are blocked except inside ppoll(2):
 * the request in hand always completes and is answered (each of its
 * steps is bounded by remote_timeout), then the process leaves.
 *
 * Framing: a SEND request (delivery_proto.h) is its header line and its
 * RCPT lines, sent in one sendmsg with the queue file descriptor; it is
 * read until it is complete (within REMOTE_REQUEST_TIMEOUT_MS of its first
 * byte). One descriptor per request, no bytes after it. The answer is one
 * line per recipient and a DONE line, written at once.
 *
 * Between requests the SMTP session of the last one stays open for
 * remote_reuse_time (remote_send.c reuses it for the same next hop); the
 * wait for the next request is cut to that, and the session is closed
 * with QUIT when it runs out, when another next hop comes, or when the
 * queue manager's connection ends.
 */
#include "remote.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/agent_loop.h"
#include "util/event.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/sock.h"
#include "util/tls.h"

struct request {
	struct str buf;
	int fd;			/* the message, or -1 */
	struct delivery_send req;
};

/* Before a request begins: wait, closing the kept session when its time
 * is up. 1 readable, 0/-1 as wait_readable. */
static int wait_first(struct remote_agent *ra, int conn, const sigset_t *mask)
{
	while (ra->sess.fd >= 0) {
		int64_t left = ra->sess.idle_until - clock_ms();
		int w = left > 0 ? agent_wait_readable(conn, left, mask) : 0;

		if (w != 0)
			return w;
		remote_smtp_quit(ra);
	}
	return agent_wait_readable(conn, -1, mask);
}

/* Read one request. 1 complete, 0 EOF or signal before it began, -1
 * protocol error or timeout (logged). */
static int read_request(struct remote_agent *ra, int conn, struct request *rq,
			const sigset_t *mask)
{
	int64_t deadline = 0;
	const char *error = "";
	size_t used = 0;
	int parsed = 0;

	str_clear(&rq->buf);
	rq->fd = -1;
	while (parsed == 0) {
		char chunk[16384];
		int fd = -1, w;
		ssize_t n;

		w = rq->buf.len == 0 ? wait_first(ra, conn, mask) :
		    agent_wait_readable(conn, deadline > clock_ms() ?
				  deadline - clock_ms() : 0, mask);
		if (w <= 0) {
			if (rq->buf.len > 0)
				log_warn(NULL, "request incomplete; closing");
			return rq->buf.len > 0 ? -1 : 0;
		}
		n = sock_recv_fd(conn, &fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 || rq->buf.len > 0)
				log_warn(NULL, "connection lost in a request");
			return n < 0 || rq->buf.len > 0 ? -1 : 0;
		}
		if (fd >= 0 && rq->fd >= 0) {
			close(fd);
			log_warn(NULL, "two descriptors in one request; closing");
			return -1;
		}
		if (fd >= 0)
			rq->fd = fd;
		if (rq->buf.len == 0)
			deadline = clock_ms() + REMOTE_REQUEST_TIMEOUT_MS;
		if (str_append(&rq->buf, chunk, (size_t)n) < 0) {
			log_warn(NULL, "request too long; closing");
			return -1;
		}
		parsed = delivery_send_parse(rq->buf.s, rq->buf.len, &rq->req,
					     &used, &error);
	}
	if (parsed < 0 || used != rq->buf.len) {
		log_warn(NULL, "bad request from the queue manager: %s; "
			 "closing", parsed < 0 ? error : "bytes after it");
		return -1;
	}
	return 1;
}


/* Deliver and answer. 0, or -1 to close the connection. */
static int serve_request(struct remote_agent *ra, int conn,
			 struct request *rq)
{
	struct remote_outcome out[DELIVERY_RCPT_MAX];
	struct str reply = STR_INIT(0);
	enum remote_reach reach;
	int r = 0;

	if (rq->fd < 0) {
		log_warn(rq->req.id, "request without a message descriptor; "
			 "closing");
		return -1;
	}
	memset(out, 0, sizeof(out));
	for (size_t i = 0; i < rq->req.nrcpt; i++)
		str_init(&out[i].reason, DELIVERY_REASON_MAX);
	reach = remote_send(ra, &rq->req, rq->fd, out);
	for (size_t i = 0; i < rq->req.nrcpt; i++) {
		delivery_rreply_format(out[i].status, out[i].relay,
				       out[i].dsn, str_c(&out[i].reason),
				       &reply);
		str_free(&out[i].reason);
	}
	delivery_rdone_format(reach == REACH_UP, &reply);
	if (fd_send_all(conn, reply.s, reply.len) < 0) {
		log_warn(rq->req.id, "cannot answer the queue manager: %s",
			 strerror(errno));
		r = -1;
	}
	str_free(&reply);
	if (ra->sess.fd >= 0) {
		if (ra->conf->remote_reuse_time == 0 || agent_quitting())
			remote_smtp_quit(ra);
		else
			ra->sess.idle_until = clock_ms() +
				(int64_t)ra->conf->remote_reuse_time * 1000;
	}
	return r;
}

static void serve_conn(struct remote_agent *ra, int conn, const sigset_t *mask)
{
	struct request rq;
	int r;

	str_init(&rq.buf, DELIVERY_SEND_MAX);
	delivery_send_init(&rq.req);
	rq.fd = -1;
	while (!agent_quitting()) {
		r = read_request(ra, conn, &rq, mask);
		if (r > 0 && serve_request(ra, conn, &rq) < 0)
			r = -1;
		if (rq.fd >= 0)
			close(rq.fd);
		rq.fd = -1;
		delivery_send_free(&rq.req);
		if (r <= 0)
			break;
	}
	str_free(&rq.buf);
	remote_smtp_quit(ra);
}

static void remote_agent_init(struct remote_agent *ra,
			      struct service_child *sc)
{
	const char *error;

	memset(ra, 0, sizeof(*ra));
	ra->sc = sc;
	ra->conf = &sc->conf;
	ra->sess.fd = -1;
	smtp_reply_init(&ra->reply);
	str_init(&ra->line, 0);
	ra->tls = tls_client_ctx(0, &error);
	if (ra->tls == NULL)
		log_warn(NULL, "no TLS client context (%s): STARTTLS will not "
			 "be used", error);
	if (remote_dns_init(ra, &error) < 0)
		log_fatal("DNS resolver: %s", error);
}

static void remote_agent_free(struct remote_agent *ra)
{
	remote_smtp_close(ra);
	remote_dns_free(ra);
	if (ra->tls != NULL)
		SSL_CTX_free(ra->tls);
	smtp_reply_free(&ra->reply);
	str_free(&ra->line);
}

int remote_run(struct service_child *sc)
{
	struct remote_agent ra;
	sigset_t mask;
	int conn;

	if (sc->nlisten == 0)
		log_fatal("no listening socket (start me with postern-master)");
	agent_signals(&mask);
	remote_agent_init(&ra, sc);
	service_child_ready(sc);
	while (!agent_quitting()) {
		conn = agent_accept_one(sc, &mask);
		if (conn < 0)
			continue;
		service_child_busy(sc);
		serve_conn(&ra, conn, &mask);
		close(conn);
	}
	remote_agent_free(&ra);
	conf_free(&sc->conf);
	return 0;
}
