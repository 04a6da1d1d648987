/*
 * test_agent_loop - the delivery agents' waits and signals
 */
#include <signal.h>
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

static void test_setup(void)
{
	agent_signals(&mask);
	TEST_ASSERT(!sigismember(&mask, SIGTERM));
	TEST_ASSERT(!sigismember(&mask, SIGHUP));
}

TEST_MAIN(test_setup, test_wait_timeout_then_readable,
	  test_blocked_sigterm_ends_the_next_wait)
