/*
 * inject_wake - tell the queue manager that new/ has new messages
 *
 * After each commit round that published a message, "WAKE\n" goes to
 * queue_dir/private/qmgr over one connection that is kept open and reused.
 * It is a hint, never a duty: the queue manager also rescans new/ on its
 * own. So the connect is non-blocking, a full socket buffer means the
 * queue manager has wake-ups to read already, the lines it answers are
 * read and ignored, and a failure is logged at most once a minute.
 */
#include "inject_daemon.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"

#define WAKE_LINE "WAKE\n"

void inject_wake_init(struct inject_wake *w, const struct conf *c)
{
	str_init(&w->path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	w->fd = -1;
	w->warned_ms = 0;
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
}

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

/* Its answers are read and thrown away; EOF or an error closes. */
static void wake_on_read(void *arg, int fd, unsigned revents)
{
	struct inject_server *srv = arg;
	char buf[256];
	ssize_t n;

	(void)revents;
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
	if (ev_fd_add(srv->loop, fd, EV_READ, wake_on_read, srv) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	w->fd = fd;
	return 0;
}

void inject_wake_send(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;
	ssize_t n;

	if (w->fd < 0 && wake_connect(srv) < 0) {
		wake_warn(srv, "connect");
		return;
	}
	n = send(w->fd, WAKE_LINE, sizeof(WAKE_LINE) - 1,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(WAKE_LINE) - 1)
		return;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;		/* it has wake-ups to read already */
	if (n >= 0)
		errno = EIO;	/* a short write: start afresh next time */
	wake_warn(srv, "send");
	wake_close(srv);
}

void inject_wake_free(struct inject_server *srv)
{
	wake_close(srv);
	str_free(&srv->wake.path);
}
