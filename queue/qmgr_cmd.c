/*
 * qmgr_cmd - the command socket queue_dir/private/qmgr
 *
 * Lines of at most QMGR_CMD_LINE_MAX bytes, each answered at once:
 *
 *   WAKE             scan new/ now
 *   WAKE <TAB> ID    new/ID is there: pick it up (the injector, for each
 *                    message it committed; left to the next scan while
 *                    QMGR_ACTIVE_MAX messages are active)
 *   FLUSH            try every deferred message now (and every
 *                    destination backed off, qmgr_remote.h)
 *   HOLD <TAB> ID    move the message to hold/ (after the delivery in
 *                    flight, if any)
 *   RELEASE <TAB> ID move it from hold/ to deferred/, due now
 *   DELETE <TAB> ID  remove it (after the delivery in flight, if any)
 *
 * answered "OK" or "ERR <TAB> reason". An id is checked with
 * queue_id_valid() before any path is made from it. A line that is too
 * long or not a command gets an ERR; the connection stays open. The
 * socket is group postern-queue, mode 0660: only the injector, the
 * postern command (as root) and the queue manager's own account can
 * connect.
 */
#include "qmgr.h"
#include "qmgr_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

static void cmd_close(struct cmdconn *c)
{
	struct qmgr *q = c->q;

	for (struct cmdconn **p = &q->conns; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ev_fd_del(q->loop, c->fd);
	close(c->fd);
	str_free(&c->in);
	free(c);
}

void qmgr_cmd_close_all(struct qmgr *q)
{
	while (q->conns != NULL)
		cmd_close(q->conns);
}

static int unlink_in(struct qmgr *q, const char *id)
{
	static const enum qdir dirs[] = { QD_NEW, QD_DEFERRED, QD_HOLD,
					  QD_CORRUPT };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (unlinkat(q->dirfd[dirs[i]], id, 0) == 0) {
			log_info(id, "removed (deleted by the administrator)");
			qmgr_memo_forget(q, id);
			return 0;
		}
	return -1;
}

static int hold_from(struct qmgr *q, const char *id)
{
	static const enum qdir dirs[] = { QD_NEW, QD_DEFERRED };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (renameat(q->dirfd[dirs[i]], id, q->dirfd[QD_HOLD],
			     id) == 0) {
			log_info(id, "held by the administrator");
			return 0;
		}
	return -1;
}

/* hold/ID -> deferred/ID with mtime now: due at the next scan. */
static int release(struct qmgr *q, const char *id)
{
	if (utimensat(q->dirfd[QD_HOLD], id, NULL, AT_SYMLINK_NOFOLLOW) < 0 ||
	    renameat(q->dirfd[QD_HOLD], id, q->dirfd[QD_DEFERRED], id) < 0)
		return -1;
	log_info(id, "released by the administrator");
	qmgr_scan_soon(q, 0);
	return 0;
}

/* HOLD or DELETE of a message in memory: after its delivery in flight. */
static void flag_active(struct qmgr *q, struct msg *m, int del)
{
	if (del)
		m->delete_req = 1;
	else
		m->hold_req = 1;
	if (!m->inflight && !m->queued)
		qmgr_msg_step(q, m);
}

static const char *cmd_id(struct qmgr *q, const char *verb, const char *id)
{
	struct msg *m;

	if (!queue_id_valid(id))
		return "bad queue id";
	if (strcmp(verb, "WAKE") == 0) {
		/* no directory scan: new/ may be large, and this is the one
		 * message that is new */
		if (!q->overflow && qmgr_load(q, id, QD_NEW) == 0)
			qmgr_dispatch(q);
		return NULL;
	}
	m = qmgr_find(q, id);
	if (strcmp(verb, "HOLD") == 0) {
		if (m != NULL)
			flag_active(q, m, 0);
		else if (hold_from(q, id) < 0)
			return "no such message in new/ or deferred/";
	} else if (strcmp(verb, "RELEASE") == 0) {
		if (release(q, id) < 0)
			return "no such message in hold/";
	} else if (strcmp(verb, "DELETE") == 0) {
		if (m != NULL)
			flag_active(q, m, 1);
		else if (unlink_in(q, id) < 0)
			return "no such message";
	} else {
		return "unknown command";
	}
	return NULL;
}

/* Run one command line (no LF); NULL for OK, else the reason. */
static const char *cmd_run(struct qmgr *q, char *line)
{
	char *tab = strchr(line, '\t');

	if (q->stopping)
		return "the queue manager is stopping";
	if (tab != NULL) {
		*tab = '\0';
		return cmd_id(q, line, tab + 1);
	}
	if (strcmp(line, "WAKE") == 0)
		qmgr_scan_soon(q, 0);
	else if (strcmp(line, "FLUSH") == 0) {
		qmgr_remote_flush(q);	/* destinations backed off, too */
		clock_gettime(CLOCK_REALTIME, &q->flush_since);
		qmgr_scan_soon(q, 1);
	}
	else
		return "unknown command";
	return NULL;
}

static int cmd_answer(struct cmdconn *c, const char *error)
{
	struct str out = STR_INIT(0);
	int r = 0;

	if (error == NULL)
		str_appends(&out, "OK\n");
	else
		str_appendf(&out, "ERR\t%s\n", error);
	if (send(c->fd, out.s, out.len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)out.len)
		r = -1;		/* a client that does not read: dropped */
	str_free(&out);
	return r;
}

/* Answer each complete line in c->in. -1 to close. */
static int cmd_lines(struct cmdconn *c)
{
	char *nl;

	while ((nl = memchr(c->in.s, '\n', c->in.len)) != NULL) {
		size_t len = (size_t)(nl - c->in.s);
		const char *error;

		*nl = '\0';
		/* a command, not a connection (the injector connects at its
		 * start and keeps the connection), makes the process busy */
		service_child_busy(c->q->sc);
		error = len >= QMGR_CMD_LINE_MAX ? "line too long" :
			cmd_run(c->q, c->in.s);
		str_consume(&c->in, len + 1);
		if (cmd_answer(c, error) < 0)
			return -1;
	}
	if (c->in.len >= QMGR_CMD_LINE_MAX) {
		cmd_answer(c, "line too long");
		return -1;
	}
	return 0;
}

static void cmd_readable(void *arg, int fd, unsigned revents)
{
	struct cmdconn *c = arg;
	char buf[4096];
	ssize_t n;

	(void)revents;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return;
	if (n <= 0 || str_append(&c->in, buf, (size_t)n) < 0 ||
	    cmd_lines(c) < 0)
		cmd_close(c);
}

void qmgr_cmd_accept(void *arg, int fd, unsigned revents)
{
	struct qmgr *q = arg;
	struct cmdconn *c;
	int conn;

	(void)revents;
	conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			log_warn(NULL, "accept: %s", strerror(errno));
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->q = q;
	c->fd = conn;
	str_init(&c->in, 4096 + QMGR_CMD_LINE_MAX);
	if (ev_fd_add(q->loop, conn, EV_READ, cmd_readable, c) < 0) {
		log_warn(NULL, "cannot watch a command connection: %s",
			 strerror(errno));
		close(conn);
		str_free(&c->in);
		free(c);
		return;
	}
	c->next = q->conns;
	q->conns = c;
}
