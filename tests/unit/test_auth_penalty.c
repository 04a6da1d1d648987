/*
 * test_auth_penalty - failed-login bookkeeping and delays
 * (auth/auth_penalty.h), with a clock moved by hand
 */
#include "test.h"

#include "auth/auth_penalty.h"

#define SEC 1000
#define WINDOW (15 * 60 * SEC)

static struct auth_penalty p;

static void setup(size_t entries)
{
	auth_penalty_init(&p, entries, 2 * SEC, 15 * SEC, WINDOW);
}

static void test_nothing_counted(void)
{
	setup(16);
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1", 0) == 0);
	TEST_ASSERT(auth_penalty_user_count(&p, "a@b", 0) == 0);
	TEST_ASSERT(auth_penalty_delay(&p, "192.0.2.1", "a@b", 0) == 0);
	auth_penalty_free(&p);
}

static void test_delay_doubles_to_max(void)
{
	static const int64_t want[] = { 2, 4, 8, 15, 15, 15 };

	setup(16);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		TEST_ASSERT(auth_penalty_fail(&p, "192.0.2.1", "a@b",
					      (int64_t)i * SEC) ==
			    want[i] * SEC);
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1", 10 * SEC) == 6);
	TEST_ASSERT(auth_penalty_user_count(&p, "a@b", 10 * SEC) == 6);
	auth_penalty_free(&p);
}

static void test_delay_for(void)
{
	setup(1);
	TEST_ASSERT(auth_penalty_delay_for(&p, 0) == 0);
	TEST_ASSERT(auth_penalty_delay_for(&p, 1) == 2 * SEC);
	TEST_ASSERT(auth_penalty_delay_for(&p, 3) == 8 * SEC);
	TEST_ASSERT(auth_penalty_delay_for(&p, 4) == 15 * SEC);
	TEST_ASSERT(auth_penalty_delay_for(&p, 1000) == 15 * SEC);
	TEST_ASSERT(auth_penalty_delay_for(&p, 4000000000u) == 15 * SEC);
	p.delay_ms = 0;
	TEST_ASSERT(auth_penalty_delay_for(&p, 5) == 0);
	p.delay_ms = 20 * SEC;		/* larger than the maximum */
	TEST_ASSERT(auth_penalty_delay_for(&p, 1) == 15 * SEC);
	auth_penalty_free(&p);
}

static void test_success_waits_like_a_failure(void)
{
	setup(16);
	TEST_ASSERT(auth_penalty_fail(&p, "192.0.2.1", "a@b", 0) == 2 * SEC);
	/* one failure recorded: any answer waits as a second failure would */
	TEST_ASSERT(auth_penalty_delay(&p, "192.0.2.1", "c@d", SEC) == 4 * SEC);
	TEST_ASSERT(auth_penalty_delay(&p, "198.51.100.7", "a@b", SEC) ==
		    4 * SEC);
	TEST_ASSERT(auth_penalty_delay(&p, "198.51.100.7", "c@d", SEC) == 0);
	/* a success resets nothing */
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1", SEC) == 1);
	auth_penalty_free(&p);
}

static void test_max_of_client_and_user(void)
{
	setup(16);
	/* three users from one address, then a fresh user */
	auth_penalty_fail(&p, "192.0.2.1", "a@b", 0);
	auth_penalty_fail(&p, "192.0.2.1", "c@d", 0);
	TEST_ASSERT(auth_penalty_fail(&p, "192.0.2.1", "e@f", 0) == 8 * SEC);
	/* one user from three addresses */
	auth_penalty_fail(&p, "198.51.100.1", "x@y", 0);
	auth_penalty_fail(&p, "198.51.100.2", "x@y", 0);
	TEST_ASSERT(auth_penalty_fail(&p, "198.51.100.3", "x@y", 0) ==
		    8 * SEC);
	TEST_ASSERT(auth_penalty_client_count(&p, "198.51.100.3", 0) == 1);
	auth_penalty_free(&p);
}

static void test_window_expiry(void)
{
	setup(16);
	auth_penalty_fail(&p, "192.0.2.1", "a@b", 0);
	auth_penalty_fail(&p, "192.0.2.1", "a@b", 60 * SEC);
	/* the window runs from the latest failure */
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1",
					      WINDOW + 59 * SEC) == 2);
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1",
					      WINDOW + 60 * SEC) == 0);
	TEST_ASSERT(auth_penalty_delay(&p, "192.0.2.1", "a@b",
				       WINDOW + 60 * SEC) == 0);
	/* counting starts again from one */
	TEST_ASSERT(auth_penalty_fail(&p, "192.0.2.1", "a@b",
				      WINDOW + 61 * SEC) == 2 * SEC);
	TEST_ASSERT(auth_penalty_user_count(&p, "a@b", WINDOW + 61 * SEC) == 1);
	auth_penalty_free(&p);
}

static void test_eviction_keeps_the_attacked(void)
{
	setup(4);
	for (int i = 0; i < 5; i++)
		auth_penalty_fail(&p, "192.0.2.1", "victim@b", i);
	auth_penalty_fail(&p, "192.0.2.2", "u1@b", 10);
	auth_penalty_fail(&p, "192.0.2.3", "u2@b", 11);
	auth_penalty_fail(&p, "192.0.2.4", "u3@b", 12);
	TEST_ASSERT(p.user.n == 4);
	/* full: the oldest of the least-failed entries (u1) gives way */
	auth_penalty_fail(&p, "192.0.2.5", "u4@b", 13);
	TEST_ASSERT(p.user.n == 4);
	TEST_ASSERT(auth_penalty_user_count(&p, "u1@b", 14) == 0);
	TEST_ASSERT(auth_penalty_user_count(&p, "u2@b", 14) == 1);
	TEST_ASSERT(auth_penalty_user_count(&p, "u4@b", 14) == 1);
	/* a flood of fresh names does not reset the victim */
	for (int i = 0; i < 100; i++) {
		char name[32];

		snprintf(name, sizeof(name), "flood%d@b", i);
		auth_penalty_fail(&p, "192.0.2.9", name, 20 + i);
	}
	TEST_ASSERT(auth_penalty_user_count(&p, "victim@b", 200) == 5);
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1", 200) == 5);
	auth_penalty_free(&p);
}

static void test_eviction_prefers_expired(void)
{
	setup(2);
	for (int i = 0; i < 3; i++)
		auth_penalty_fail(&p, "192.0.2.1", "old@b", 0);
	auth_penalty_fail(&p, "192.0.2.2", "new@b", WINDOW);
	/* old@b has expired at WINDOW + 1: it is replaced, new@b stays */
	auth_penalty_fail(&p, "192.0.2.3", "third@b", WINDOW + 1);
	TEST_ASSERT(auth_penalty_user_count(&p, "new@b", WINDOW + 2) == 1);
	TEST_ASSERT(auth_penalty_user_count(&p, "third@b", WINDOW + 2) == 1);
	TEST_ASSERT(auth_penalty_user_count(&p, "old@b", WINDOW + 2) == 0);
	auth_penalty_free(&p);
}

static void test_ipv6_counts_per_64(void)
{
	char key[AUTH_PENALTY_KEY_MAX + 1];

	auth_penalty_client_key("2001:db8:1:2:aaaa::1", key, sizeof(key));
	TEST_STREQ(key, "2001:db8:1:2::/64");
	auth_penalty_client_key("::ffff:192.0.2.1", key, sizeof(key));
	TEST_STREQ(key, "192.0.2.1");
	auth_penalty_client_key("192.0.2.1", key, sizeof(key));
	TEST_STREQ(key, "192.0.2.1");
	auth_penalty_client_key("unix", key, sizeof(key));
	TEST_STREQ(key, "unix");
	setup(16);
	auth_penalty_fail(&p, "2001:db8:1:2::1", "a@b", 0);
	auth_penalty_fail(&p, "2001:db8:1:2:ffff::9", "c@d", 0);
	TEST_ASSERT(auth_penalty_client_count(&p, "2001:db8:1:2::77", 0) == 2);
	TEST_ASSERT(auth_penalty_client_count(&p, "2001:db8:1:3::1", 0) == 0);
	auth_penalty_fail(&p, "::ffff:192.0.2.1", "a@b", 0);
	TEST_ASSERT(auth_penalty_client_count(&p, "192.0.2.1", 0) == 1);
	auth_penalty_free(&p);
}

static void test_long_keys(void)
{
	char user[AUTH_PENALTY_KEY_MAX + 50];

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	setup(4);
	auth_penalty_fail(&p, "192.0.2.1", user, 0);
	auth_penalty_fail(&p, "192.0.2.1", user, 0);
	TEST_ASSERT(auth_penalty_user_count(&p, user, 0) == 2);
	auth_penalty_free(&p);
}

TEST_MAIN(test_nothing_counted, test_delay_doubles_to_max, test_delay_for,
	  test_success_waits_like_a_failure, test_max_of_client_and_user,
	  test_window_expiry, test_eviction_keeps_the_attacked,
	  test_eviction_prefers_expired, test_ipv6_counts_per_64,
	  test_long_keys)
