/*
 * inject_wake - tell the queue manager which messages new/ has
 *
 * After each commit round, "WAKE <TAB> ID\n" for each message it published
 * goes to queue_dir/private/qmgr over one connection that is kept open and
 * reused, so the queue manager picks the messages up without reading the
 * directory. It is a hint, never a duty: the queue manager also rescans
 * new/ on its own. So the connect is non-blocking; what the socket does
 * not take at once waits (up to INJECT_WAKE_BUF_MAX bytes; beyond that,
 * or after the connection failed, one bare "WAKE\n", a full scan, stands
 * for all that was lost); the lines the queue manager answers are read and
 * ignored, and a failure is logged at most once a minute.
 */
#include "inject_daemon.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"

#define WAKE_SCAN "WAKE\n"

void inject_wake_init(struct inject_wake *w, const struct conf *c)
{
	str_init(&w->path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	str_init(&w->out, INJECT_WAKE_BUF_MAX);
	w->fd = -1;
	w->warned_ms = 0;
	w->scan_owed = 0;
	if (conf_queue_path(c, "private/qmgr", &w->path) < 0)
		log_fatal("queue manager socket path too long: %s/private/qmgr",
			  c->queue_dir);
}

static void wake_close(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;

	if (w->fd < 0)
		return;
	ev_fd_del(srv->loop, w->fd);
	close(w->fd);
	w->fd = -1;
	if (w->out.len > 0)
		w->scan_owed = 1;	/* a line may have gone half-way */
	str_clear(&w->out);
}

static void wake_flush(struct inject_server *srv);

static void wake_warn(struct inject_server *srv, const char *what)
{
	struct inject_wake *w = &srv->wake;
	int64_t now = clock_ms();

	if (w->warned_ms != 0 && now - w->warned_ms < INJECT_WAKE_LOG_MS)
		return;
	w->warned_ms = now;
	log_warn(NULL, "cannot wake the queue manager (%s): %s; it will "
		 "find the new messages when it rescans", what,
		 strerror(errno));
}

/* Its answers are read and thrown away; EOF or an error closes. When
 * writable again, what waits is sent. */
static void wake_on_event(void *arg, int fd, unsigned revents)
{
	struct inject_server *srv = arg;
	char buf[4096];
	ssize_t n;

	if (revents & EV_WRITE) {
		wake_flush(srv);
		if (srv->wake.fd < 0)
			return;
	}
	if (!(revents & (EV_READ | EV_ERROR)))
		return;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		continue;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		       errno != EINTR))
		wake_close(srv);
}

static int wake_connect(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, w->path.s, w->path.len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (ev_fd_add(srv->loop, fd, EV_READ, wake_on_event, srv) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	w->fd = fd;
	return 0;
}

void inject_wake_add(struct inject_server *srv, const char *id)
{
	struct inject_wake *w = &srv->wake;

	if (w->scan_owed)
		return;		/* the scan finds this one too */
	if (str_appendf(&w->out, "WAKE\t%s\n", id) < 0) {
		str_clear(&w->out);	/* whole lines only: see wake_flush */
		w->scan_owed = 1;
	}
}

/* Send what waits; keep what the socket does not take, and ask to be
 * told when it can take more. */
static void wake_flush(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;
	ssize_t n;

	if (w->scan_owed) {
		/* a scan says it all, and ends any half-sent line first
		 * (the buffer only ever lost whole lines) */
		str_clear(&w->out);
		if (str_sets(&w->out, WAKE_SCAN) < 0)
			log_panic("wake buffer");
		w->scan_owed = 0;
	}
	while (w->out.len > 0) {
		n = send(w->fd, w->out.s, w->out.len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			str_consume(&w->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ev_fd_mod(srv->loop, w->fd, EV_READ | EV_WRITE) < 0)
				log_fatal("wake socket: %s", strerror(errno));
			return;
		}
		wake_warn(srv, "send");
		wake_close(srv);
		return;
	}
	if (ev_fd_mod(srv->loop, w->fd, EV_READ) < 0)
		log_fatal("wake socket: %s", strerror(errno));
}

void inject_wake_send(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;

	if (w->out.len == 0 && !w->scan_owed)
		return;
	if (w->fd < 0 && wake_connect(srv) < 0) {
		wake_warn(srv, "connect");
		str_clear(&w->out);
		w->scan_owed = 1;	/* once it can be reached again */
		return;
	}
	wake_flush(srv);
}

void inject_wake_free(struct inject_server *srv)
{
	wake_close(srv);
	str_free(&srv->wake.out);
	str_free(&srv->wake.path);
}
