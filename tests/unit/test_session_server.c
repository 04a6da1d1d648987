/*
 * test_session_server - inside a session: the stop signal sets the flag
 * and ends a blocked read; after session_stop_release the descriptor is
 * left alone
 */
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "daemon/session_server.h"

static volatile sig_atomic_t stopping;

static void test_stop_shuts_reading(void)
{
	int sv[2];
	char c;

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	stopping = 0;
	session_stop_on(SIGUSR1, &stopping, sv[0]);
	TEST_ASSERT(raise(SIGUSR1) == 0);
	TEST_ASSERT(stopping == 1);
	/* the peer is still open, yet the read sees the end at once */
	TEST_ASSERT(read(sv[0], &c, 1) == 0);
	signal(SIGUSR1, SIG_DFL);
	close(sv[0]);
	close(sv[1]);
}

static void test_release_leaves_fd(void)
{
	int sv[2];
	char c = 'x';

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	stopping = 0;
	session_stop_on(SIGUSR1, &stopping, sv[0]);
	session_stop_release();
	TEST_ASSERT(raise(SIGUSR1) == 0);
	TEST_ASSERT(stopping == 1);
	TEST_ASSERT(write(sv[1], &c, 1) == 1);
	c = 0;
	TEST_ASSERT(read(sv[0], &c, 1) == 1 && c == 'x');
	signal(SIGUSR1, SIG_DFL);
	close(sv[0]);
	close(sv[1]);
}

TEST_MAIN(test_stop_shuts_reading, test_release_leaves_fd)
