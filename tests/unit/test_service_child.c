/*
 * test_service_child - a supervised daemon notices its master's death
 *
 * The test process plays the child: fd 3 is the write end of a status
 * pipe whose read end is held by a forked "master", fd 5 (no listeners,
 * no instance lock) the read end of a death pipe whose write end only the
 * "master" holds. Reading a status line must neither stop the child nor
 * interrupt its waits (a signal there once made the delivery agents drop
 * their connection: "delivery agent unavailable: Broken pipe"); the
 * master's death (SIGKILL) must bring SIGTERM, through the pipe's close
 * alone (the "master" is not our parent here, so PR_SET_PDEATHSIG plays no
 * part).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "daemon/service_child.h"
#include "util/str.h"

/* SIGTERM within ms? (it is blocked, so it waits to be taken here) */
static int sigterm_within(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	return sigtimedwait(&set, NULL, &ts) == SIGTERM;
}

static pid_t fake_master(int *status_w, int *death_r)
{
	int p[2], d[2];
	pid_t pid;

	if (pipe(p) < 0 || pipe(d) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char buf[64];

		close(p[1]);
		close(d[0]);
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		pause();
		_exit(0);
	}
	close(p[0]);
	close(d[1]);
	*status_w = p[1];
	*death_r = d[0];
	return pid;
}

/* A wait of ms on a pipe nobody writes: 0 when it timed out untouched,
 * -1 when a signal cut it short. */
static int quiet_wait(long ms)
{
	int p[2], r;
	struct pollfd pf;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (pipe(p) < 0)
		return -2;
	pf.fd = p[0];
	pf.events = POLLIN;
	r = ppoll(&pf, 1, &ts, NULL);
	close(p[0]);
	close(p[1]);
	return r;
}

static void test_master_death_brings_sigterm(void)
{
	char conf[] = "/tmp/test_service_child.XXXXXX";
	char *argv[] = { "postern-test", "-c", conf, "-s", "auth", NULL };
	struct service_child sc;
	sigset_t set;
	pid_t master;
	int w = -1, d = -1, fd;

	fd = mkstemp(conf);
	TEST_ASSERT(fd >= 0);
	close(fd);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	TEST_ASSERT(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	master = fake_master(&w, &d);
	TEST_ASSERT(master > 0);
	TEST_ASSERT(dup2(w, SERVICE_STATUS_FD) == SERVICE_STATUS_FD);
	TEST_ASSERT(dup2(d, SERVICE_LISTEN_FD0 + 1) == SERVICE_LISTEN_FD0 + 1);
	if (w != SERVICE_STATUS_FD)
		close(w);
	if (d != SERVICE_LISTEN_FD0 + 1)
		close(d);
	service_child_init(&sc, 5, argv, "postern-test");
	/* the master reads our lines: no signal, no interrupted wait */
	for (int k = 0; k < 20; k++) {
		service_child_ready(&sc);
		TEST_ASSERT(quiet_wait(20) == 0);
	}
	TEST_ASSERT(!sigterm_within(300));
	/* the master dies: its end of the pipe closes */
	TEST_ASSERT(kill(master, SIGKILL) == 0);
	TEST_ASSERT(waitpid(master, NULL, 0) == master);
	TEST_ASSERT(sigterm_within(5000));
	/* once only */
	TEST_ASSERT(!sigterm_within(100));
	conf_free(&sc.conf);
	close(SERVICE_STATUS_FD);
	close(SERVICE_LISTEN_FD0 + 1);
	signal(SIGIO, SIG_DFL);
	unlink(conf);
}

/* "retiring" tells the master to start the replacement now (the
 * injector without its queue manager): written once, however often the
 * daemon says it. */
static void test_retiring_is_said_once(void)
{
	struct service_child sc;
	int p[2], q[2], saved = dup(SERVICE_STATUS_FD);
	char buf[64];
	ssize_t n;

	memset(&sc, 0, sizeof(sc));
	TEST_ASSERT(pipe(q) == 0);
	/* both ends away from the status descriptor's number */
	p[0] = fcntl(q[0], F_DUPFD_CLOEXEC, 10);
	p[1] = fcntl(q[1], F_DUPFD_CLOEXEC, 10);
	close(q[0]);
	close(q[1]);
	TEST_ASSERT(p[0] >= 10 && p[1] >= 10);
	TEST_ASSERT(dup2(p[1], SERVICE_STATUS_FD) == SERVICE_STATUS_FD);
	service_child_retiring(&sc);
	service_child_retiring(&sc);
	close(SERVICE_STATUS_FD);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	TEST_ASSERT(n == 9 && memcmp(buf, "retiring\n", 9) == 0);
	close(p[0]);
	if (saved >= 0) {
		dup2(saved, SERVICE_STATUS_FD);
		close(saved);
	}
}

TEST_MAIN(test_retiring_is_said_once, test_master_death_brings_sigterm)
