/*
 * test_auth_hash - postern-auth's pool of password-check threads
 * (auth/auth_hash.h): results, the order jobs are handed out in (one
 * client address cannot crowd out another), skipped and cancelled jobs
 */
#include "test.h"

#include <poll.h>
#include <string.h>

#include "auth/auth_hash.h"
#include "util/event.h"

#define MAX_JOBS 16

static char order[MAX_JOBS][AUTHPROTO_CLIENT_MAX + 1];
static int norder, ndone, results[MAX_JOBS];
static const char *skip_ip;

static int skip(void *arg, const struct auth_hash_job *j)
{
	(void)arg;
	if (norder < MAX_JOBS)
		strcpy(order[norder++], j->client_ip);
	return skip_ip != NULL && strcmp(j->client_ip, skip_ip) == 0;
}

static void done(void *arg, struct auth_hash_job *j)
{
	results[(int)(long)arg - 1] = j->result;
	ndone++;
	auth_hash_job_free(j);
}

/* Collect until n jobs are done (at most 10 s). */
static void wait_done(struct auth_hash *h, int n)
{
	int64_t end = clock_ms() + 10000;

	while (ndone < n && clock_ms() < end) {
		struct pollfd p = { .fd = auth_hash_fd(h), .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			auth_hash_collect(h);
	}
}

static struct auth_hash_job *job(const char *ip, const char *pw, long i)
{
	/* arg i + 1: a NULL arg would mean "cancelled" */
	return auth_hash_job_new(ip, pw, "{PLAIN}right", done,
				 (void *)(i + 1));
}

static void reset(void)
{
	memset(order, 0, sizeof(order));
	memset(results, 0, sizeof(results));
	norder = ndone = 0;
	skip_ip = NULL;
}

static void test_results(void)
{
	struct auth_hash h;

	reset();
	auth_hash_init(&h, 2, 1, skip, NULL);
	auth_hash_start(&h);
	auth_hash_submit(&h, job("192.0.2.1", "right", 0));
	auth_hash_submit(&h, job("192.0.2.2", "wrong", 1));
	auth_hash_submit(&h, auth_hash_job_new("192.0.2.3", "x", "{NOPE}x",
					       done, (void *)3));
	wait_done(&h, 3);
	TEST_ASSERT(ndone == 3);
	TEST_ASSERT(results[0] == 1 && results[1] == 0 && results[2] == -1);
	TEST_ASSERT(auth_hash_pending(&h) == 0);
	auth_hash_free(&h);
}

/* Five jobs of one address, then one of another: with two threads and
 * one check per address, the other address goes second, not sixth. */
static void test_fair_order(void)
{
	struct auth_hash h;

	reset();
	auth_hash_init(&h, 2, 1, skip, NULL);
	/* no thread yet: the order is decided on this thread alone */
	for (long i = 0; i < 5; i++)
		auth_hash_submit(&h, job("192.0.2.66", "wrong", i));
	auth_hash_submit(&h, job("198.51.100.5", "right", 5));
	TEST_ASSERT(norder == 2);
	TEST_STREQ(order[0], "192.0.2.66");
	TEST_STREQ(order[1], "198.51.100.5");
	TEST_ASSERT(auth_hash_pending(&h) == 6);
	auth_hash_start(&h);
	wait_done(&h, 6);
	TEST_ASSERT(ndone == 6 && results[5] == 1 && results[0] == 0);
	/* an IPv6 client counts per /64 */
	reset();
	auth_hash_submit(&h, job("2001:db8:1:2::1", "x", 0));
	auth_hash_submit(&h, job("2001:db8:1:2::2", "x", 1));
	auth_hash_submit(&h, job("2001:db8:9::1", "x", 2));
	TEST_STREQ(order[1], "2001:db8:9::1");
	wait_done(&h, 3);
	auth_hash_free(&h);
}

static void test_skip_and_cancel(void)
{
	struct auth_hash h;
	struct auth_hash_job *a, *b;

	reset();
	auth_hash_init(&h, 1, 1, skip, NULL);
	skip_ip = "192.0.2.9";
	auth_hash_submit(&h, job("192.0.2.9", "right", 0));
	a = job("192.0.2.10", "right", 1);
	b = job("192.0.2.11", "right", 2);
	auth_hash_submit(&h, a);	/* handed out (no thread yet) */
	auth_hash_submit(&h, b);	/* waits */
	auth_hash_cancel(&h, b);	/* freed now */
	auth_hash_cancel(&h, a);	/* dropped when it comes back */
	auth_hash_start(&h);
	wait_done(&h, 1);
	TEST_ASSERT(ndone == 1 && results[0] == AUTH_HASH_SKIPPED);
	for (int i = 0; i < 20 && auth_hash_pending(&h) > 0; i++) {
		struct pollfd p = { .fd = auth_hash_fd(&h), .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			auth_hash_collect(&h);
	}
	TEST_ASSERT(ndone == 1 && auth_hash_pending(&h) == 0);
	auth_hash_free(&h);
}

TEST_MAIN(test_results, test_fair_order, test_skip_and_cancel)
