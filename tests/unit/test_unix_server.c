/*
 * test_unix_server - the unix-socket server skeleton: two listeners with
 * their own policies, the total, per-listener and per-uid limits with the
 * refusal line, counts released when a connection closes, another uid
 * (as root), the pause when descriptors run out, retire and stop by
 * signal, the stop deadline, and ops->busy holding the end back
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "daemon/unix_server.h"
#include "util/event.h"
#include "util/log.h"

#define MAX_CLIENTS 16

struct tconn {
	struct unix_conn uc;
	struct tserver *ts;
	int fd;
};

struct tserver {
	struct unix_server us;
	int stop_closes;	/* stop(): write "BYE" and close */
	int busy;
	unsigned stops, sweeps;
	char dir[64];
	char path[2][108];
};

static void t_refuse(int fd, const struct unix_peer *peer,
		     enum unix_refusal why, unsigned limit)
{
	char line[80];

	snprintf(line, sizeof(line), "NO %s %u uid=%lu\n",
		 why == UNIX_REFUSE_TOTAL ? "total" :
		 why == UNIX_REFUSE_LISTENER ? "listener" : "uid", limit,
		 (unsigned long)peer->uid);
	unix_server_send_line(fd, line);
}

static const struct unix_policy open_policy = {
	.name = "open", .id = 1,
};
static const struct unix_policy capped_policy = {
	.name = "capped", .id = 2, .uid_conn_max = 2, .refuse = t_refuse,
};
static const struct unix_policy small_policy = {
	.name = "small", .id = 3, .conn_max = 1, .refuse = t_refuse,
};

static void t_close(struct tconn *c)
{
	ev_fd_del(c->ts->us.loop, c->fd);
	close(c->fd);
	unix_server_closed(&c->ts->us, &c->uc);
	free(c);
}

static void t_on_read(void *arg, int fd, unsigned revents)
{
	struct tconn *c = arg;
	char buf[64];

	(void)revents;
	if (read(fd, buf, sizeof(buf)) <= 0)
		t_close(c);
}

static struct unix_conn *t_accept(void *arg, int fd,
				  const struct unix_peer *peer)
{
	struct tserver *ts = arg;
	struct tconn *c = calloc(1, sizeof(*c));

	(void)peer;
	c->ts = ts;
	c->fd = fd;
	if (ev_fd_add(ts->us.loop, fd, EV_READ, t_on_read, c) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	return &c->uc;
}

static void t_stop(void *arg, struct unix_conn *uc)
{
	struct tserver *ts = arg;
	struct tconn *c = UNIX_CONN_OWNER(uc, struct tconn, uc);

	ts->stops++;
	if (ts->stop_closes) {
		unix_server_send_line(c->fd, "BYE\n");
		t_close(c);
	}
}

static void t_sweep(void *arg, struct unix_conn *uc, int64_t now)
{
	struct tserver *ts = arg;

	(void)uc;
	(void)now;
	ts->sweeps++;
}

static int t_busy(void *arg)
{
	return ((struct tserver *)arg)->busy;
}

/* The other work is over: tell the server. */
static void t_unbusy(void *arg)
{
	struct tserver *ts = arg;

	ts->busy = 0;
	unix_server_check_done(&ts->us);
}

static int t_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0)
		return -1;
	return fd;
}

static int t_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Two listeners: 0 open, 1 with the given policy. */
static void t_start(struct tserver *ts, unsigned conn_max,
		    const struct unix_policy *second)
{
	struct unix_server_ops ops = {
		.conn_max = conn_max,
		.accept_errors = UNIX_ACCEPT_PAUSE_RESOURCES,
		.resume_ms = 50,
		.stop_ms = 200,
		.sweep_ms = 20,
		.accept = t_accept,
		.stop = t_stop,
		.sweep = t_sweep,
		.busy = t_busy,
	};

	memset(ts, 0, sizeof(*ts));
	ops.arg = ts;
	snprintf(ts->dir, sizeof(ts->dir), "/tmp/test_unix_server.XXXXXX");
	TEST_ASSERT(mkdtemp(ts->dir) != NULL);
	chmod(ts->dir, 0755);
	for (int i = 0; i < 2; i++)
		snprintf(ts->path[i], sizeof(ts->path[i]), "%s/s%d", ts->dir,
			 i);
	unix_server_init(&ts->us, &ops);
	unix_server_listen(&ts->us, t_listen(ts->path[0]), &open_policy);
	unix_server_listen(&ts->us, t_listen(ts->path[1]), second);
	chmod(ts->path[1], 0666);
}

static void t_end(struct tserver *ts)
{
	while (ts->us.conns != NULL)
		t_close(UNIX_CONN_OWNER(ts->us.conns, struct tconn, uc));
	unix_server_free(&ts->us);
	unlink(ts->path[0]);
	unlink(ts->path[1]);
	rmdir(ts->dir);
}

/* A few rounds of the loop, enough for pending accepts. */
static void t_spin(struct tserver *ts, int rounds)
{
	for (int i = 0; i < rounds; i++)
		ev_run_once(ts->us.loop, 10);
}

/* What the server wrote before closing, or "" while it keeps fd open. */
static void t_read_refusal(int fd, char *buf, size_t size)
{
	struct timeval tv = { .tv_sec = 2 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static int t_peer_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_listeners_and_uid_limit(void)
{
	struct tserver ts;
	int a[3], b[3];
	char line[80];
	unsigned open_n = 0, capped_n = 0;

	t_start(&ts, 0, &capped_policy);
	for (int i = 0; i < 3; i++) {
		a[i] = t_connect(ts.path[0]);
		b[i] = t_connect(ts.path[1]);
		TEST_ASSERT(a[i] >= 0 && b[i] >= 0);
	}
	t_spin(&ts, 5);
	TEST_ASSERT(ts.us.nconns == 5);
	for (struct unix_conn *c = ts.us.conns; c != NULL; c = c->next) {
		TEST_ASSERT(c->peer.uid == getuid());
		TEST_ASSERT(c->peer.pid == getpid());
		open_n += c->peer.policy == &open_policy;
		capped_n += c->peer.policy->id == 2;
	}
	TEST_ASSERT(open_n == 3 && capped_n == 2);
	/* the third on the capped listener was refused with its line */
	TEST_ASSERT(t_peer_open(b[0]) && t_peer_open(b[1]));
	t_read_refusal(b[2], line, sizeof(line));
	{
		char want[80];

		snprintf(want, sizeof(want), "NO uid 2 uid=%lu\n",
			 (unsigned long)getuid());
		TEST_STREQ(line, want);
	}
	/* a closed one frees its uid's slot */
	close(b[0]);
	t_spin(&ts, 5);
	TEST_ASSERT(ts.us.nconns == 4);
	b[0] = t_connect(ts.path[1]);
	t_spin(&ts, 5);
	TEST_ASSERT(ts.us.nconns == 5);
	TEST_ASSERT(t_peer_open(b[0]));
	TEST_ASSERT(ts.sweeps > 0);
	for (int i = 0; i < 3; i++) {
		close(a[i]);
		close(b[i]);
	}
	t_end(&ts);
}

static void test_total_and_listener_limits(void)
{
	struct tserver ts;
	int a[3], s[2];
	char line[80];

	t_start(&ts, 3, &small_policy);
	s[0] = t_connect(ts.path[1]);
	t_spin(&ts, 3);
	s[1] = t_connect(ts.path[1]);
	t_spin(&ts, 3);
	t_read_refusal(s[1], line, sizeof(line));
	TEST_ASSERT(strncmp(line, "NO listener 1 ", 14) == 0);
	a[0] = t_connect(ts.path[0]);
	a[1] = t_connect(ts.path[0]);
	t_spin(&ts, 3);
	TEST_ASSERT(ts.us.nconns == 3);
	/* over the total; the open listener has no refusal line: closed
	 * without a word */
	a[2] = t_connect(ts.path[0]);
	t_spin(&ts, 3);
	line[0] = 1;
	t_read_refusal(a[2], line, sizeof(line));
	TEST_STREQ(line, "");
	TEST_ASSERT(t_peer_open(a[0]) && t_peer_open(a[1]));
	close(a[2]);
	close(s[0]);
	close(s[1]);
	t_spin(&ts, 3);
	TEST_ASSERT(ts.us.nconns == 2);
	s[0] = t_connect(ts.path[1]);
	t_spin(&ts, 3);
	TEST_ASSERT(ts.us.nconns == 3 && t_peer_open(s[0]));
	close(s[0]);
	close(a[0]);
	close(a[1]);
	t_end(&ts);
}

/* The total limit refuses through the listener's line, naming it. */
static void test_total_refusal_line(void)
{
	struct tserver ts;
	int b[3];
	char line[80];

	t_start(&ts, 1, &capped_policy);
	b[0] = t_connect(ts.path[1]);
	t_spin(&ts, 3);
	b[1] = t_connect(ts.path[1]);
	t_spin(&ts, 3);
	t_read_refusal(b[1], line, sizeof(line));
	TEST_ASSERT(strncmp(line, "NO total 1 ", 11) == 0);
	TEST_ASSERT(ts.us.nconns == 1);
	close(b[0]);
	close(b[1]);
	t_end(&ts);
}

/* As root: another uid has its own count on the capped listener. */
static void test_other_uid_counts_apart(void)
{
	struct tserver ts;
	int b[2], p[2];
	pid_t pid;
	char c = 0;

	if (geteuid() != 0) {
		printf("(not root: another uid cannot be tested)\n");
		return;
	}
	t_start(&ts, 0, &capped_policy);
	b[0] = t_connect(ts.path[1]);
	b[1] = t_connect(ts.path[1]);
	TEST_ASSERT(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		int fd;
		char line[80];

		close(p[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = t_connect(ts.path[1]);
		/* accepted: nothing arrives until the parent closes it */
		t_read_refusal(fd, line, sizeof(line));
		c = line[0] == '\0' ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	for (int i = 0; i < 50 && ts.us.nconns < 3; i++)
		t_spin(&ts, 2);
	TEST_ASSERT(ts.us.nconns == 3);
	for (struct unix_conn *uc = ts.us.conns; uc != NULL; uc = uc->next)
		if (uc->peer.uid == 65534)
			c = 'u';
	TEST_ASSERT(c == 'u');
	/* close the child's connection: it sees the end without a line */
	for (struct unix_conn *uc = ts.us.conns; uc != NULL; uc = uc->next)
		if (uc->peer.uid == 65534) {
			t_close(UNIX_CONN_OWNER(uc, struct tconn, uc));
			break;
		}
	TEST_ASSERT(read(p[0], &c, 1) == 1 && c == 'y');
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(b[0]);
	close(b[1]);
	t_end(&ts);
}

/* Out of descriptors: the listeners rest, then accept again. */
static void test_pause_when_descriptors_run_out(void)
{
	struct tserver ts;
	struct rlimit old, low;
	int client, fillers[64], n = 0, fd;

	t_start(&ts, 0, &open_policy);
	client = t_connect(ts.path[0]);
	TEST_ASSERT(client >= 0);
	TEST_ASSERT(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	fd = dup(0);
	low.rlim_cur = (rlim_t)fd + 1;
	close(fd);
	TEST_ASSERT(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (n < 64 && (fd = dup(0)) >= 0)
		fillers[n++] = fd;
	t_spin(&ts, 2);
	TEST_ASSERT(ts.us.resume_timer != NULL);
	TEST_ASSERT(ts.us.nconns == 0);
	while (n > 0)
		close(fillers[--n]);
	TEST_ASSERT(setrlimit(RLIMIT_NOFILE, &old) == 0);
	for (int i = 0; i < 50 && ts.us.nconns == 0; i++)
		t_spin(&ts, 2);
	TEST_ASSERT(ts.us.resume_timer == NULL);
	TEST_ASSERT(ts.us.nconns == 1);
	close(client);
	t_end(&ts);
}

static void test_retire_serves_then_ends(void)
{
	struct tserver ts;
	int a, b;

	t_start(&ts, 0, &capped_policy);
	a = t_connect(ts.path[0]);
	t_spin(&ts, 3);
	TEST_ASSERT(raise(SIGHUP) == 0);
	t_spin(&ts, 3);
	TEST_ASSERT(ts.us.retiring && !ts.us.stopping);
	TEST_ASSERT(ts.us.nconns == 1 && t_peer_open(a));
	/* the listeners are closed: nobody new gets in */
	b = t_connect(ts.path[1]);
	TEST_ASSERT(b < 0);
	/* busy holds the end back; the last close, then busy over, ends */
	ts.busy = 1;
	close(a);
	t_spin(&ts, 3);
	TEST_ASSERT(ts.us.nconns == 0);
	ev_timer_add(ts.us.loop, 50, t_unbusy, &ts);
	alarm(10);
	unix_server_run(&ts.us);	/* returns once busy is over */
	alarm(0);
	TEST_ASSERT(ts.busy == 0);
	TEST_ASSERT(ts.stops == 0);
	t_end(&ts);
}

static void test_stop_by_signal(void)
{
	struct tserver ts;
	int a, b;
	char line[80];

	t_start(&ts, 0, &capped_policy);
	ts.stop_closes = 1;
	a = t_connect(ts.path[0]);
	b = t_connect(ts.path[1]);
	t_spin(&ts, 3);
	TEST_ASSERT(ts.us.nconns == 2);
	TEST_ASSERT(raise(SIGTERM) == 0);
	alarm(10);
	unix_server_run(&ts.us);
	alarm(0);
	TEST_ASSERT(ts.us.stopping && ts.stops == 2 && ts.us.nconns == 0);
	t_read_refusal(a, line, sizeof(line));
	TEST_STREQ(line, "BYE\n");
	close(a);
	close(b);
	t_end(&ts);
}

/* A connection that does not finish: the loop ends at the deadline. */
static void test_stop_deadline(void)
{
	struct tserver ts;
	int a;
	int64_t t0;

	t_start(&ts, 0, &capped_policy);
	a = t_connect(ts.path[0]);
	t_spin(&ts, 3);
	t0 = clock_ms();
	unix_server_stop(&ts.us);
	unix_server_stop(&ts.us);	/* a second call does nothing */
	alarm(10);
	unix_server_run(&ts.us);
	alarm(0);
	TEST_ASSERT(ts.stops == 1 && ts.us.nconns == 1);
	TEST_ASSERT(clock_ms() - t0 >= 150);
	close(a);
	t_end(&ts);
}

TEST_MAIN(test_listeners_and_uid_limit, test_total_and_listener_limits,
	  test_total_refusal_line, test_other_uid_counts_apart,
	  test_pause_when_descriptors_run_out, test_retire_serves_then_ends,
	  test_stop_by_signal, test_stop_deadline)
