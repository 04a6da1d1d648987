/*
 * inject_wake - tell the queue manager which messages new/ has
 *
 * After each commit round, "WAKE <TAB> ID\n" for each message it published
 * goes to queue_dir/private/qmgr over one connection that is kept open and
 * reused, so the queue manager picks the messages up without reading the
 * directory. It is a hint, never a duty: the queue manager also rescans
 * new/ on its own. What the socket does not take at once waits (up to
 * INJECT_WAKE_BUF_MAX bytes; beyond that one bare "WAKE\n", a full scan,
 * stands for all that was lost); the lines the queue manager answers are
 * read and ignored.
 *
 * ONE CONNECTION  The injector may not create sockets once confined (its
 * sandbox, postern-inject(8)), so the connection is made at start, before
 * confining, and its first line is a bare WAKE (messages committed while
 * no injector could wake the queue manager). The master keeps the
 * listening socket across restarts of the queue manager, but a connection
 * ends with the process that accepted it: when the queue manager's end
 * closes, this injector retires (finishes its clients, exits 0) and tells
 * the master, which starts one that connects to the new queue manager at
 * once (new clients wait in the listening socket for a few milliseconds,
 * not for the old injector's clients to finish). Messages
 * committed meanwhile are found by that one's first WAKE. If the socket
 * cannot be reached at start, the injector runs without wake-ups (logged)
 * and the queue manager finds new messages by its periodic scans.
 */
#include "inject_daemon.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"
#include "util/sock.h"

#define WAKE_SCAN "WAKE\n"

void inject_wake_init(struct inject_wake *w, const struct conf *c)
{
	str_init(&w->path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	str_init(&w->out, INJECT_WAKE_BUF_MAX);
	w->fd = -1;
	w->scan_owed = 0;
	if (conf_queue_path(c, "private/qmgr", &w->path) < 0)
		log_fatal("queue manager socket path too long: %s/private/qmgr",
			  c->queue_dir);
}

/* The connection ended (lost: the queue manager's end closed or failed). */
static void wake_close(struct inject_server *srv, int lost)
{
	struct inject_wake *w = &srv->wake;

	if (w->fd < 0)
		return;
	ev_fd_del(srv->loop, w->fd);
	close(w->fd);
	w->fd = -1;
	str_clear(&w->out);
	if (lost && !srv->us.retiring && !srv->us.stopping) {
		log_info(NULL, "the queue manager closed the wake-up "
			 "connection (restarted?): retiring, so that the "
			 "master starts an injector that reaches the new one");
		unix_server_retire(&srv->us);
		service_child_retiring(srv->sc);
	}
}

static void wake_flush(struct inject_server *srv);

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
		wake_close(srv, 1);
}

void inject_wake_open(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;
	int fd = sock_connect_unix(str_c(&w->path));

	if (fd < 0 || fd_nonblock(fd, 1) < 0 ||
	    ev_fd_add(srv->loop, fd, EV_READ, wake_on_event, srv) < 0) {
		log_warn(NULL, "cannot connect to the queue manager (%s): %s; "
			 "it will find new messages when it rescans",
			 str_c(&w->path), strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	w->fd = fd;
	w->scan_owed = 1;	/* sent by the first inject_wake_send() */
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
		log_warn(NULL, "wake-up to the queue manager: send: %s",
			 strerror(errno));
		wake_close(srv, 1);
		return;
	}
	if (ev_fd_mod(srv->loop, w->fd, EV_READ) < 0)
		log_fatal("wake socket: %s", strerror(errno));
}

void inject_wake_send(struct inject_server *srv)
{
	struct inject_wake *w = &srv->wake;

	if (w->fd < 0) {
		str_clear(&w->out);	/* no connection: the scans find them */
		w->scan_owed = 0;
		return;
	}
	if (w->out.len == 0 && !w->scan_owed)
		return;
	wake_flush(srv);
}

void inject_wake_free(struct inject_server *srv)
{
	wake_close(srv, 0);
	str_free(&srv->wake.out);
	str_free(&srv->wake.path);
}
