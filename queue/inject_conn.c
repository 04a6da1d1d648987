/*
 * inject_conn - one client of postern-inject: request, queue file, answer
 *
 * A connection is READING while the request arrives: the bytes go through
 * the protocol parser (inject_proto.c), the envelope opens the queue file
 * (inject_store.c) and the message bytes are written into it as they come
 * (queue_writer). When the end chunk has been read the file is complete,
 * the connection is COMMITTING: its descriptor leaves the event loop (a
 * hang-up cannot disturb the commit) and the message joins the next group
 * commit round (inject_commit.c). When the round comes back the answer is
 * written, the message logged, and the connection closed.
 *
 * An answer is at most a few hundred bytes and is the only thing ever
 * written on the connection, into an empty socket buffer: one
 * non-blocking send() suffices, and if it fails the client has gone.
 *
 * The client's uid (SO_PEERCRED) decides how far it is trusted: root, the
 * smtpd account and, when the injector was not started as root, the
 * injector's own uid may set CLIENT, HELO, AUTH and PROTO; anyone else is
 * a local submission (inject.h).
 */
#include "inject_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/event.h"
#include "util/log.h"

enum conn_state { CONN_READING, CONN_COMMITTING };

struct inject_conn {
	struct unix_conn uc;		/* in the server's list */
	struct inject_server *srv;
	int fd;
	enum conn_state state;
	uid_t uid;
	int64_t active_ms;		/* last byte received */
	struct inject_proto proto;
	struct queue_writer writer;
	int writing;			/* writer begun, not yet freed */
	struct hopcount hops;		/* Received: fields of the header */
	struct inject_msg msg;
};

struct inject_conn *inject_conn_of(struct unix_conn *uc)
{
	return UNIX_CONN_OWNER(uc, struct inject_conn, uc);
}

void inject_conn_close(struct inject_conn *c)
{
	struct inject_server *srv = c->srv;

	if (c->state == CONN_READING)
		ev_fd_del(srv->loop, c->fd);
	if (close(c->fd) < 0)
		log_warn(c->msg.id[0] ? c->msg.id : NULL, "close: %s",
			 strerror(errno));
	if (c->writing)
		queue_writer_free(&c->writer);
	inject_store_discard(&srv->store, &c->msg);
	inject_proto_free(&c->proto);
	unix_server_closed(&srv->us, &c->uc);
	free(c);
}

/* Write the one answer; a client that has gone is logged. */
static void conn_answer(struct inject_conn *c, const char *word,
			const char *text)
{
	struct str a = STR_INIT(INJECT_LINE_MAX);

	if (str_appendf(&a, "%s\t%s\n", word, text) < 0) {
		str_clear(&a);
		str_appendf(&a, "%s\tanswer too long\n", word);
	}
	if (send(c->fd, a.s, a.len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)a.len)
		log_warn(c->msg.id[0] ? c->msg.id : NULL, "answer %s not "
			 "delivered: client gone (uid=%u)", word,
			 (unsigned)c->uid);
	str_free(&a);
}

/* Refuse the request: answer, log, close (discarding the file). */
static void conn_refuse(struct inject_conn *c, const char *word,
			const char *reason)
{
	struct str esc = STR_INIT(0);

	log_escape(&esc, reason, strlen(reason), 200);
	log_info(c->msg.id[0] ? c->msg.id : NULL, "refused: %s uid=%u "
		 "reason=%s", word, (unsigned)c->uid, str_c(&esc));
	str_free(&esc);
	conn_answer(c, word, reason);
	inject_conn_close(c);
}

static void conn_write_failed(struct inject_conn *c, const char *error)
{
	char reason[256];

	if (errno == EINVAL || errno == EFBIG) {
		conn_refuse(c, "PERM", error);
		return;
	}
	snprintf(reason, sizeof(reason), "queue write failed: %s",
		 strerror(errno));
	conn_refuse(c, "TEMP", reason);
}

/* The first recipient: open the queue file and write the envelope's
 * head. */
static int conn_begin(struct inject_conn *c)
{
	struct inject_server *srv = c->srv;
	const char *error;
	char reason[256];

	if (clock_gettime(CLOCK_REALTIME, &c->proto.env.arrival) < 0 ||
	    inject_store_create(&srv->store, &c->msg,
				&c->proto.env.arrival) < 0) {
		snprintf(reason, sizeof(reason), "queue write failed: %s",
			 strerror(errno));
		log_warn(NULL, "cannot create a queue file in tmp/: %s",
			 strerror(errno));
		conn_refuse(c, "TEMP", reason);
		return -1;
	}
	c->writing = 1;
	if (queue_writer_head(&c->writer, c->msg.fd, &c->proto.env,
			      &error) < 0) {
		conn_write_failed(c, error);
		return -1;
	}
	return 0;
}

/* One recipient, straight into the file. */
static int conn_rcpt(struct inject_conn *c)
{
	const char *error;

	if (!c->writing && conn_begin(c) < 0)
		return -1;
	if (queue_writer_rcpt(&c->writer, c->proto.rcpt_addr,
			      c->proto.rcpt_orig, c->proto.rcpt_notify,
			      &error) < 0) {
		conn_write_failed(c, error);
		return -1;
	}
	return 0;
}

/* The end chunk was read: finish the file and join the next round. */
static void conn_end(struct inject_conn *c)
{
	const char *error;

	if (queue_writer_end(&c->writer, &error) < 0) {
		conn_write_failed(c, error);
		return;
	}
	queue_writer_free(&c->writer);
	c->writing = 0;
	ev_fd_del(c->srv->loop, c->fd);
	c->state = CONN_COMMITTING;
	inject_commit_submit(c->srv, &c->msg);
}

/* Count the header's Received: fields (hopcount.h); a loop is refused
 * at once: PERM with 5.4.6, which smtpd turns into 554 5.4.6, so the
 * sending MTA bounces it and we make no backscatter. */
static int conn_hops(struct inject_conn *c, const char *data, size_t len)
{
	char reason[128];

	if (hopcount_done(&c->hops))
		return 0;
	hopcount_feed(&c->hops, data, len);
	if (!hopcount_exceeds(&c->hops, c->srv->hop_limit))
		return 0;
	snprintf(reason, sizeof(reason), "5.4.6 too many hops (more than %u "
		 "Received: header fields): mail loop", c->srv->hop_limit);
	conn_refuse(c, "PERM", reason);
	return -1;
}

/* Feed received bytes to the parser. 0 go on reading, -1 stop (the
 * connection is closed or committing). */
static int conn_feed(struct inject_conn *c, const char *buf, size_t n)
{
	const char *data, *error;
	size_t used, len;

	while (n > 0) {
		switch (inject_proto_next(&c->proto, buf, n, &used, &data,
					  &len)) {
		case INJECT_EV_MORE:
			return 0;
		case INJECT_EV_RCPT:
			if (conn_rcpt(c) < 0)
				return -1;
			break;
		case INJECT_EV_ENVELOPE:
			break;
		case INJECT_EV_BODY:
			if (queue_writer_body(&c->writer, data, len,
					      &error) < 0) {
				conn_write_failed(c, error);
				return -1;
			}
			if (conn_hops(c, data, len) < 0)
				return -1;
			break;
		case INJECT_EV_END:
			conn_end(c);
			return -1;
		case INJECT_EV_ERROR:
			conn_refuse(c, "PERM", c->proto.error);
			return -1;
		}
		buf += used;
		n -= used;
	}
	return 0;
}

static void conn_on_read(void *arg, int fd, unsigned revents)
{
	struct inject_conn *c = arg;
	struct inject_server *srv = c->srv;
	ssize_t n;

	(void)revents;
	for (int i = 0; i < INJECT_READS_PER_EVENT; i++) {
		n = recv(fd, srv->rbuf, sizeof(srv->rbuf), MSG_DONTWAIT);
		if (n > 0) {
			c->active_ms = clock_ms();
			if (conn_feed(c, srv->rbuf, (size_t)n) < 0)
				return;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_info(c->msg.id[0] ? c->msg.id : NULL, "client "
				 "uid=%u: %s; nothing queued",
				 (unsigned)c->uid, strerror(errno));
		else if (c->msg.id[0] != '\0')
			log_info(c->msg.id, "client uid=%u went away before "
				 "the end; nothing queued", (unsigned)c->uid);
		inject_conn_close(c);
		return;
	}
}

/* Root, smtpd, or (not started as root) ourselves: a trusted client. */
static int conn_is_local(const struct inject_server *srv, uid_t uid)
{
	if (uid == 0)
		return 0;
	if (srv->smtpd_known && uid == srv->smtpd_uid)
		return 0;
	if (!srv->root && uid == srv->own_uid)
		return 0;
	return 1;
}

struct unix_conn *inject_conn_new(struct inject_server *srv, int fd,
				  const struct unix_peer *peer)
{
	struct inject_conn *c;
	uid_t uid = peer->uid;
	int local;

	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	c->uid = uid;
	c->msg.fd = -1;
	c->msg.conn = c;
	c->active_ms = clock_ms();
	hopcount_init(&c->hops);
	local = conn_is_local(srv, uid);
	inject_proto_init(&c->proto, local, srv->size_limit,
			  local ? srv->local_rcpt_limit : 0);
	if (ev_fd_add(srv->loop, fd, EV_READ, conn_on_read, c) < 0) {
		log_warn(NULL, "event loop: %s", strerror(errno));
		inject_proto_free(&c->proto);
		close(fd);
		free(c);
		return NULL;
	}
	service_child_busy(srv->sc);
	return &c->uc;
}

/* "ID: from=<sender> size=N nrcpt=K proto=P client=IP uid=U" */
static void conn_log_queued(struct inject_conn *c)
{
	const struct queue_env *env = &c->proto.env;
	struct str from = STR_INIT(0), proto = STR_INIT(0),
		   client = STR_INIT(0);
	const char *p = env->protocol != NULL ? env->protocol : "unknown";
	const char *ip = env->client_addr != NULL ? env->client_addr : "local";

	log_escape(&from, env->sender, strlen(env->sender), 300);
	log_escape(&proto, p, strlen(p), 40);
	log_escape(&client, ip, strlen(ip), 80);
	log_info(c->msg.id, "from=<%s> size=%llu nrcpt=%zu proto=%s "
		 "client=%s uid=%u", str_c(&from),
		 (unsigned long long)c->proto.size, c->proto.nrcpts,
		 str_c(&proto), str_c(&client), (unsigned)c->uid);
	str_free(&from);
	str_free(&proto);
	str_free(&client);
}

void inject_conn_committed(struct inject_conn *c)
{
	struct inject_msg *m = &c->msg;
	char reason[256];

	if (m->error == 0) {
		conn_log_queued(c);
		conn_answer(c, "OK", m->id);
		close(m->fd);
		m->fd = -1;
	} else {
		log_warn(m->id, "commit failed: %s: %s", m->step,
			 strerror(m->error));
		snprintf(reason, sizeof(reason), "queue write failed: %s: %s",
			 m->step, strerror(m->error));
		conn_answer(c, "TEMP", reason);
	}
	inject_conn_close(c);
}

void inject_conn_stop(struct inject_conn *c)
{
	if (c->state == CONN_COMMITTING)
		return;
	conn_refuse(c, "TEMP", "queue service stopping");
}

void inject_conn_sweep(struct inject_conn *c, int64_t now_ms)
{
	if (c->state == CONN_READING && now_ms - c->active_ms > c->srv->idle_ms)
		conn_refuse(c, "TEMP", "timeout waiting for data");
}
