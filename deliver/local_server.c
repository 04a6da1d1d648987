/*
 * local_server - postern-local's accept loop and request framing
 *
 * One connection at a time, one request at a time. SIGTERM and SIGHUP are
 * blocked except inside ppoll(2), so a signal can only interrupt a wait,
 * never a delivery: the request in hand always completes and is answered,
 * and then the process leaves (closing the connection, so that the queue
 * manager reconnects to the next generation).
 *
 * Framing: the queue manager sends one request per sendmsg, with the
 * descriptor attached to its first byte. The line is read until its LF
 * (it normally arrives whole); one descriptor per request, no bytes after
 * the LF (the queue manager waits for each reply). Anything else is a
 * protocol error: logged, and that connection is closed.
 */
#include "local.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/maildir_name.h"
#include "daemon/agent_loop.h"
#include "util/event.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/sock.h"

struct request {
	char buf[DELIVERY_LINE_MAX];
	size_t len;
	int fd;			/* the message, or -1 */
};

/* Read one request. 1 complete, 0 EOF or signal before it began, -1
 * protocol error or timeout (logged). */
static int read_request(int conn, struct request *rq, const sigset_t *mask)
{
	int64_t deadline = 0;

	rq->len = 0;
	rq->fd = -1;
	while (memchr(rq->buf, '\n', rq->len) == NULL) {
		int timeout = rq->len == 0 ? -1 :
			      (int)(deadline - clock_ms());
		int fd = -1, w;
		ssize_t n;

		if (rq->len == sizeof(rq->buf)) {
			log_warn(NULL, "request line too long; closing");
			return -1;
		}
		if (rq->len > 0 && timeout < 0)
			timeout = 0;	/* the deadline has passed */
		w = agent_wait_readable(conn, timeout, mask);
		if (w <= 0) {
			if (rq->len > 0)
				log_warn(NULL, "request incomplete; closing");
			return rq->len > 0 ? -1 : 0;
		}
		n = sock_recv_fd(conn, &fd, rq->buf + rq->len,
				 sizeof(rq->buf) - rq->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 || rq->len > 0)
				log_warn(NULL, "connection lost in a request");
			return n < 0 || rq->len > 0 ? -1 : 0;
		}
		if (fd >= 0 && rq->fd >= 0) {
			close(fd);
			log_warn(NULL, "two descriptors in one request; closing");
			return -1;
		}
		if (fd >= 0)
			rq->fd = fd;
		if (rq->len == 0)
			deadline = clock_ms() + LOCAL_REQUEST_TIMEOUT_MS;
		rq->len += (size_t)n;
	}
	if (rq->buf[rq->len - 1] != '\n') {
		log_warn(NULL, "bytes after a request line; closing");
		return -1;
	}
	return 1;
}


/* Parse, deliver, answer. 0, or -1 to close the connection. */
static int serve_request(struct local_agent *la, int conn,
			 struct request *rq)
{
	struct delivery_req req;
	struct str reason = STR_INIT(0), reply = STR_INIT(0);
	enum delivery_status st;
	const char *error;
	int r = 0;

	if (delivery_req_parse(rq->buf, rq->len, &req, &error) < 0) {
		log_warn(NULL, "bad request from the queue manager: %s; "
			 "closing", error);
		return -1;
	}
	if (rq->fd < 0) {
		log_warn(req.id, "request without a message descriptor; "
			 "closing");
		return -1;
	}
	st = local_deliver(la, &req, rq->fd, &reason);
	delivery_reply_format(st, str_c(&reason), &reply);
	if (fd_send_all(conn, reply.s, reply.len) < 0) {
		log_warn(req.id, "cannot answer the queue manager: %s",
			 strerror(errno));
		r = -1;
	}
	str_free(&reason);
	str_free(&reply);
	return r;
}

static void serve_conn(struct local_agent *la, int conn, const sigset_t *mask)
{
	struct request rq;
	int r;

	rq.fd = -1;
	while (!agent_quitting()) {
		r = read_request(conn, &rq, mask);
		if (r > 0 && serve_request(la, conn, &rq) < 0)
			r = -1;
		if (rq.fd >= 0)
			close(rq.fd);
		rq.fd = -1;
		if (r <= 0)
			break;
	}
}

static void local_agent_init(struct local_agent *la, struct service_child *sc)
{
	memset(la, 0, sizeof(*la));
	la->sc = sc;
	la->conf = &sc->conf;
	la->root_fd = -1;
	str_init(&la->host, 0);
	maildir_name_host_escape(sc->conf.hostname, &la->host);
}

int local_run(struct service_child *sc)
{
	struct local_agent la;
	sigset_t mask;
	int conn;

	if (sc->nlisten == 0)
		log_fatal("no listening socket (start me with postern-master)");
	agent_signals(&mask);
	local_agent_init(&la, sc);
	service_child_ready(sc);
	while (!agent_quitting()) {
		conn = agent_accept_one(sc, &mask);
		if (conn < 0)
			continue;
		service_child_busy(sc);
		serve_conn(&la, conn, &mask);
		close(conn);
	}
	str_free(&la.host);
	conf_free(&sc->conf);
	return 0;
}
