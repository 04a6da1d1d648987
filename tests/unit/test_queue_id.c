/*
 * test_queue_id - queue ids: format, round trip, uniqueness, validation
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "proto/queue_id.h"
#include "test.h"

static int make(ino_t ino, time_t sec, long nsec, char *buf)
{
	struct timespec t = { sec, nsec };

	return queue_id_make(ino, &t, buf, QUEUE_ID_SIZE);
}

static void test_known_value(void)
{
	char id[QUEUE_ID_SIZE];

	/* 0 s, 0 us, inode 1: all-zero time part, one inode digit */
	TEST_ASSERT(make(1, 0, 0, id) == 0);
	TEST_STREQ(id, "000000000001");
	/* 32 s, 33 us, inode 32*32 + 31 */
	TEST_ASSERT(make(32 * 32 + 31, 32, 33000, id) == 0);
	TEST_STREQ(id, "0000010001110Z");
	TEST_ASSERT(make(UINT64_MAX, 1700000000, 999999999, id) == 0);
	TEST_ASSERT(strlen(id) == QUEUE_ID_MAX);
	TEST_STREQ(id, "1JN7W80YGHZFZZZZZZZZZZZZ");
}

static void test_round_trip(void)
{
	char id[QUEUE_ID_SIZE];
	ino_t ino;
	struct timespec t;

	TEST_ASSERT(make(123456789, 1700000000, 123456789, id) == 0);
	TEST_ASSERT(queue_id_valid(id));
	TEST_ASSERT(queue_id_parse(id, &ino, &t) == 0);
	TEST_ASSERT(ino == 123456789);
	TEST_ASSERT(t.tv_sec == 1700000000);
	TEST_ASSERT(t.tv_nsec == 123456000);
}

static void test_unique_across_inodes(void)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];
	ino_t i;
	int same = 0;

	/* same instant, different inodes: always different ids */
	for (i = 1; i < 5000; i++) {
		TEST_ASSERT(make(i, 1700000000, 5000, a) == 0);
		TEST_ASSERT(make(i + 1, 1700000000, 5000, b) == 0);
		same += strcmp(a, b) == 0;
	}
	TEST_ASSERT(same == 0);
}

static void test_unique_across_times(void)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];
	long us;
	int same = 0;

	/* a reused inode one microsecond later gets another id */
	for (us = 0; us < 999999; us += 7) {
		TEST_ASSERT(make(42, 1700000000, us * 1000, a) == 0);
		TEST_ASSERT(make(42, 1700000000, (us + 1) * 1000, b) == 0);
		same += strcmp(a, b) == 0;
	}
	TEST_ASSERT(make(42, 1700000000, 999999000, a) == 0);
	TEST_ASSERT(make(42, 1700000001, 0, b) == 0);
	TEST_ASSERT(strcmp(a, b) != 0);
	TEST_ASSERT(same == 0);
}

static void test_sorts_by_time(void)
{
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];

	TEST_ASSERT(make(999999, 1700000000, 999999000, a) == 0);
	TEST_ASSERT(make(1, 1700000001, 0, b) == 0);
	TEST_ASSERT(strcmp(a, b) < 0);
}

static void test_make_refuses(void)
{
	char id[QUEUE_ID_SIZE];
	char small[8];
	struct timespec t = { 1700000000, 0 };

	errno = 0;
	TEST_ASSERT(make(0, 1700000000, 0, id) < 0 && errno == EINVAL);
	TEST_ASSERT(make(1, -1, 0, id) < 0 && errno == EINVAL);
	TEST_ASSERT(make(1, (time_t)1 << 35, 0, id) < 0);
	TEST_ASSERT(make(1, 0, 1000000000L, id) < 0);
	TEST_ASSERT(make(1, 0, -1, id) < 0);
	errno = 0;
	TEST_ASSERT(queue_id_make(5, &t, small, sizeof(small)) < 0);
	TEST_ASSERT(errno == ENAMETOOLONG);
	TEST_STREQ(small, "");
	/* exactly the right size works */
	TEST_ASSERT(queue_id_make(5, &t, id, 13) == 0);
	TEST_ASSERT(strlen(id) == 12);
}

static void test_invalid_ids(void)
{
	static const char *const bad[] = {
		"", "../x", "a/b", ".", "..", "1NDC4VQ0F2K/",
		"1NDC4VQ0F2K", /* no inode digit */
		"1NDC4VQ0F2K0", /* inode 0 / leading zero */
		"1NDC4VQ0F2K07", /* leading zero */
		"1ndc4vq0f2k7", /* lower case */
		"1NDC4VQ0F2KI", /* I is not in the alphabet */
		"1NDC4VQ0F2KL", "1NDC4VQ0F2KO", "1NDC4VQ0F2KU",
		"1NDC4VQYGJ07", /* microseconds >= 10^6 */
		"1NDC4VQ0F2K7 ", " 1NDC4VQ0F2K7", "1NDC4VQ0F2K\n7",
		"1NDC4VQ0F2K-7", "1NDC4VQ0F2K.7",
		"1NDC4VQ0F2KG0000000000000", /* 25 characters */
		"1NDC4VQ0F2KG000000000000", /* 13 inode digits > 64 bits */
		"1NDC4VQ0F2K7777777777777777777777777777777777777777777777",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (queue_id_valid(bad[i]))
			printf("accepted bad id \"%s\"\n", bad[i]);
		TEST_ASSERT(!queue_id_valid(bad[i]));
	}
	errno = 0;
	TEST_ASSERT(queue_id_parse("../x", NULL, NULL) < 0 && errno == EINVAL);
}

static void test_valid_ids(void)
{
	TEST_ASSERT(queue_id_valid("1NDC4VQ0F2K7P3"));
	TEST_ASSERT(queue_id_valid("000000000001"));
	TEST_ASSERT(queue_id_valid("1NDC4VQ0F2KFZZZZZZZZZZZZ"));
	TEST_ASSERT(queue_id_valid("ZZZZZZZYGHZZ"));
}

TEST_MAIN(test_known_value, test_round_trip, test_unique_across_inodes,
	  test_unique_across_times, test_sorts_by_time, test_make_refuses,
	  test_invalid_ids, test_valid_ids)
