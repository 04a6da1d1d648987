/*
 * pop3_server - postern-pop3's accept loop on queue_dir/private/pop3
 *
 * Each connection carries one hand-over from a login process: the line,
 * the client descriptor, and the client's pipelined input up to the end
 * of the connection (pop3_handover.h). The parent reads it under a short
 * deadline (login processes send it at once), checks pop3_process_limit
 * and pop3_max_user_connections (answering the client "-ERR [SYS/TEMP]"
 * or "-ERR [IN-USE]" itself), and forks the session. A malformed
 * hand-over is logged and dropped; it never stops the daemon. The
 * accept loop, session table and signals are common/daemon/session_server.c.
 */
#include "pop3.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "daemon/session_server.h"
#include "util/log.h"
#include "util/sock.h"

#define HANDOVER_TIMEOUT_MS 5000
#define HANDOVER_BUF (POP3_HANDOVER_LINE_MAX + POP3_HANDOVER_PENDING_MAX)

_Static_assert(POP3_ADDRESS_MAX <= CHILD_KEY_MAX,
	       "a user's address fits the session table's key");

struct pop3_server {
	struct pop3 *p3;
	char buf[HANDOVER_BUF + 1];
};

static long ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 +
	       (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* Read the whole hand-over: the message with the descriptor, then the
 * rest until EOF. Bytes in sv->buf, count in *len_r, fd in *fd_r. */
static int server_receive(struct pop3_server *sv, int conn, size_t *len_r,
			  int *fd_r)
{
	struct timespec end;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += HANDOVER_TIMEOUT_MS / 1000;
	*fd_r = -1;
	for (;;) {
		struct pollfd pfd = { .fd = conn, .events = POLLIN };
		long left = ms_left(&end);
		int fd = -1;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = sock_recv_fd(conn, &fd, sv->buf + len, HANDOVER_BUF - len);
		if (fd >= 0 && *fd_r >= 0) {
			close(fd);
			return -1;
		}
		if (fd >= 0)
			*fd_r = fd;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n == 0 || (n < 0 && len == HANDOVER_BUF))
			break;
		if (n > 0)
			len += (size_t)n;
		if (len == HANDOVER_BUF)
			return -1;
	}
	*len_r = len;
	return *fd_r >= 0 ? 0 : -1;
}

static void server_refuse(int fd, const struct pop3_handover *h,
			  const char *reply, const char *why)
{
	size_t n = strlen(reply);

	if (send(fd, reply, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		log_info(NULL, "refused %s: could not send the reply: %s",
			 h->address, strerror(errno));
	log_warn(NULL, "refused login of %s from %s: %s", h->address, h->ip,
		 why);
}

static void server_start(struct session_server *ss, int fd,
			 const struct pop3_handover *h, size_t used,
			 size_t len)
{
	struct pop3_server *sv = session_server_arg(ss);
	pid_t pid;

	if (session_server_full(ss)) {
		server_refuse(fd, h, "-ERR [SYS/TEMP] Too busy, try again "
			      "later.\r\n", "pop3_process_limit reached");
		return;
	}
	if (session_server_count(ss, h->address) >= sv->p3->user_max) {
		server_refuse(fd, h, "-ERR [IN-USE] Too many connections for "
			      "this user.\r\n",
			      "pop3_max_user_connections reached");
		return;
	}
	pid = session_server_fork(ss, h->address);
	if (pid < 0)
		server_refuse(fd, h, "-ERR [SYS/TEMP] Try again later.\r\n",
			      strerror(errno));
	else if (pid == 0)
		pop3_session_run(sv->p3, fd, h, sv->buf + used, len - used);
}

static void server_conn(struct session_server *ss, int conn)
{
	struct pop3_server *sv = session_server_arg(ss);
	struct pop3_handover h;
	size_t len = 0, used = 0;
	int fd = -1;

	if (server_receive(sv, conn, &len, &fd) < 0 ||
	    pop3_handover_parse(sv->buf, len, &h, &used) < 0 ||
	    len - used > POP3_HANDOVER_PENDING_MAX) {
		log_warn(NULL, "malformed hand-over from a login process "
			 "(%zu bytes, %s descriptor); dropped", len,
			 fd >= 0 ? "with" : "no");
	} else {
		server_start(ss, fd, &h, used, len);
	}
	if (fd >= 0)
		close(fd);
	close(conn);
}

void pop3_server_run(struct pop3 *p3)
{
	struct pop3_server *sv = calloc(1, sizeof(*sv));

	if (sv == NULL)
		log_fatal("out of memory");
	sv->p3 = p3;
	session_server_run(p3->sc, p3->process_limit, server_conn, sv);
	free(sv);
}
