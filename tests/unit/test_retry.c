/*
 * test_retry - the backoff schedule and queue_lifetime expiry
 */
#include "queue/retry.h"
#include "test.h"

static void test_first_delay_is_min(void)
{
	TEST_ASSERT(retry_delay(1000, 1000, 60, 3600) == 60);
	TEST_ASSERT(retry_next(1000, 1000, 60, 3600) == 1060);
}

static void test_doubles_then_caps(void)
{
	/* attempts at the due times: 0, 60, 120, 240, ... capped at 1h */
	time_t arrival = 5000, now = arrival, want[] = { 60, 60, 120, 240,
		480, 960, 1920, 3600, 3600 };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		time_t d = retry_delay(arrival, now, 60, 3600);

		TEST_ASSERT(d == want[i]);
		now += d;
	}
}

static void test_clock_behind_arrival(void)
{
	/* a clock set back: age 0, still the minimum, never negative */
	TEST_ASSERT(retry_delay(2000, 1000, 60, 3600) == 60);
}

static void test_degenerate_limits(void)
{
	TEST_ASSERT(retry_delay(0, 0, 0, 0) == 1);
	TEST_ASSERT(retry_delay(0, 100000, 30, 10) == 30);
}

static void test_expiry(void)
{
	TEST_ASSERT(!retry_expired(1000, 1000, 432000));
	TEST_ASSERT(!retry_expired(1000, 1000 + 431999, 432000));
	TEST_ASSERT(retry_expired(1000, 1000 + 432000, 432000));
	TEST_ASSERT(!retry_expired(5000, 1000, 10));
}

TEST_MAIN(test_first_delay_is_min, test_doubles_then_caps,
	  test_clock_behind_arrival, test_degenerate_limits, test_expiry)
