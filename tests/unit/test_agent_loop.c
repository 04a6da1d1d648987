/*
 * test_agent_loop - the delivery agents' waits and signals
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/agent_loop.h"
#include "test.h"

static sigset_t mask;

/* Nothing to read: 0 after the timeout; something to read: 1. */
static void test_wait_timeout_then_readable(void)
{
	int p[2];

	TEST_ASSERT(pipe(p) == 0);
	TEST_ASSERT(agent_wait_readable(p[0], 30, &mask) == 0);
	TEST_ASSERT(write(p[1], "x", 1) == 1);
	TEST_ASSERT(agent_wait_readable(p[0], 30, &mask) == 1);
	TEST_ASSERT(agent_wait_readable(p[0], -1, &mask) == 1);
	TEST_ASSERT(!agent_quitting());
	close(p[0]);
	close(p[1]);
}

/* A SIGTERM that came while it was blocked (a request in hand) is taken
 * at the next wait, which then reports -1, and the agent quits. */
static void test_blocked_sigterm_ends_the_next_wait(void)
{
	int p[2];

	TEST_ASSERT(pipe(p) == 0);
	TEST_ASSERT(raise(SIGTERM) == 0);	/* blocked: only pending */
	TEST_ASSERT(!agent_quitting());
	TEST_ASSERT(agent_wait_readable(p[0], 5000, &mask) == -1);
	TEST_ASSERT(agent_quitting());
	close(p[0]);
	close(p[1]);
}

static void on_sigio(int sig)
{
	(void)sig;
}

/* After ms milliseconds a child sends the parent SIGIO (a signal with a
 * handler that is not a stop: the status pipe sent one whenever the
 * master read it, once); after ms2 it writes to fd, unless ms2 is 0. */
static pid_t poke(int ms, int ms2, int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		usleep((useconds_t)ms * 1000);
		kill(getppid(), SIGIO);
		if (ms2 > 0) {
			usleep((useconds_t)(ms2 - ms) * 1000);
			if (write(fd, "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	return pid;
}

/* Another signal interrupts the wait but ends nothing: the data that
 * comes later is still waited for, the timeout still holds. */
static void test_other_signal_does_not_end_the_wait(void)
{
	struct sigaction sa;
	int p[2], status;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	TEST_ASSERT(sigaction(SIGIO, &sa, NULL) == 0);
	TEST_ASSERT(pipe(p) == 0);
	pid = poke(50, 300, p[1]);
	TEST_ASSERT(agent_wait_readable(p[0], 10000, &mask) == 1);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(read(p[0], &status, 1) == 1);
	pid = poke(50, 0, -1);
	TEST_ASSERT(agent_wait_readable(p[0], 300, &mask) == 0);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(!agent_quitting());
	close(p[0]);
	close(p[1]);
}

static void test_setup(void)
{
	agent_signals(&mask);
	TEST_ASSERT(!sigismember(&mask, SIGTERM));
	TEST_ASSERT(!sigismember(&mask, SIGHUP));
}

TEST_MAIN(test_setup, test_wait_timeout_then_readable,
	  test_other_signal_does_not_end_the_wait,
	  test_blocked_sigterm_ends_the_next_wait)
