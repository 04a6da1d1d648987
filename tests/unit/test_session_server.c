/*
 * test_session_server - inside a session: the stop signal sets the flag
 * and ends a blocked read; after session_stop_release the descriptor is
 * left alone. The key a client's connections are counted under: its
 * IPv4 address, its IPv6 /64.
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

static const struct {
	const char *ip, *key;
} client_keys[] = {
	{ "192.0.2.7", "192.0.2.7" },
	{ "127.0.0.1", "127.0.0.1" },
	{ "::ffff:192.0.2.7", "192.0.2.7" },	/* mapped: an IPv4 client */
	{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
	{ "2001:db8:1:2::ffff", "2001:db8:1:2::/64" },
	{ "2001:db8:1:2::", "2001:db8:1:2::/64" },
	{ "2001:db8:1:3::1", "2001:db8:1:3::/64" },
	{ "::1", "::/64" },
	{ "fe80::1%eth0", "fe80::/64" },
	{ "unix", "unix" },
};

static void test_client_key(void)
{
	char key[SESSION_IP_MAX];

	for (size_t i = 0; i < sizeof(client_keys) / sizeof(client_keys[0]);
	     i++) {
		TEST_ASSERT(session_client_key(client_keys[i].ip, key,
					       sizeof(key)) == 0);
		TEST_STREQ(key, client_keys[i].key);
	}
	/* every address of one /64 is one client, the next /64 another */
	TEST_ASSERT(session_client_key("2001:db8::a", key, sizeof(key)) == 0);
	TEST_STREQ(key, "2001:db8::/64");
	TEST_ASSERT(session_client_key("2001:db8::b:c:d:e", key,
				       sizeof(key)) == 0);
	TEST_STREQ(key, "2001:db8::/64");
	TEST_ASSERT(session_client_key("2001:db8::a", key, 8) < 0);
}

TEST_MAIN(test_stop_shuts_reading, test_release_leaves_fd, test_client_key)
