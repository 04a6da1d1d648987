/*
 * test_conf_limit - configured counts and timeouts: 0 taken as 1,
 * timeouts capped at a day
 */
#include <limits.h>

#include "test.h"
#include "mail/conf_limit.h"

static void test_count(void)
{
	TEST_ASSERT(conf_limit_count(0) == 1);
	TEST_ASSERT(conf_limit_count(1) == 1);
	TEST_ASSERT(conf_limit_count(1000) == 1000);
	TEST_ASSERT(conf_limit_count(UINT_MAX) == UINT_MAX);
}

static void test_timeout(void)
{
	TEST_ASSERT(conf_limit_timeout_ms(0) == 1000);
	TEST_ASSERT(conf_limit_timeout_ms(1) == 1000);
	TEST_ASSERT(conf_limit_timeout_ms(300) == 300000);
	TEST_ASSERT(conf_limit_timeout_ms(86400) == 86400000);
	TEST_ASSERT(conf_limit_timeout_ms(86401) == 86400000);
	TEST_ASSERT(conf_limit_timeout_ms(UINT_MAX) == 86400000);
}

TEST_MAIN(test_count, test_timeout)
