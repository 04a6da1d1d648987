/*
 * test_delivery_proto - requests and replies between the queue manager
 * and delivery agents: round trips and every refusal
 */
#include <string.h>

#include "proto/delivery_proto.h"
#include "test.h"

#define ID "1JN7W800F2K3K7P"

static void fill(struct delivery_req *r)
{
	const char *error;

	memset(r, 0, sizeof(*r));
	cstr_copy(r->id, sizeof(r->id), ID);
	cstr_copy(r->sender, sizeof(r->sender), "a@b.example");
	cstr_copy(r->rcpt, sizeof(r->rcpt), "user+tag@example.test");
	delivery_mailbox_set(r, "example.test/user", &error);
	r->offset = 123;
	r->size = 4567;
}

static int parse(const char *line, struct delivery_req *r)
{
	const char *error;

	return delivery_req_parse(line, strlen(line), r, &error);
}

static void test_round_trip(void)
{
	struct delivery_req a, b;
	struct str line = STR_INIT(0);
	const char *error;

	fill(&a);
	TEST_ASSERT(delivery_req_format(&a, &line, &error) == 0);
	TEST_STREQ(str_c(&line), "DELIVER\t" ID "\ta@b.example\t"
		   "user+tag@example.test\texample.test/user\t123\t4567\n");
	TEST_ASSERT(delivery_req_parse(line.s, line.len, &b, &error) == 0);
	TEST_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	str_free(&line);
}

static void test_null_sender(void)
{
	struct delivery_req r;

	TEST_ASSERT(parse("DELIVER\t" ID "\t\tu@d\td/u\t0\t0", &r) == 0);
	TEST_STREQ(r.sender, "");
	TEST_ASSERT(r.size == 0);
}

static void test_bad_mailboxes(void)
{
	static const char *const bad[] = {
		"d/../u", "../u", "d/..", "./u", "d/.", "du", "/u", "d/",
		"d/u/v", "d/u\x01", "d\x7f/u",
	};
	struct delivery_req r;
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(delivery_mailbox_set(&r, bad[i], &error) < 0);
	TEST_ASSERT(delivery_mailbox_set(&r, "d/...", &error) == 0);
	TEST_ASSERT(delivery_component_ok("..x", 3));
	TEST_ASSERT(!delivery_component_ok("", 0));
}

static void test_bad_requests(void)
{
	static const char *const bad[] = {
		"",
		"DELIVER",
		"deliver\t" ID "\ts\tr\td/u\t0\t1",
		"DELIVER\tbad/id\ts\tr\td/u\t0\t1",
		"DELIVER\t" ID "\ts\t\td/u\t0\t1",
		"DELIVER\t" ID "\ts\tr\td/u\t01\t1",
		"DELIVER\t" ID "\ts\tr\td/u\t-1\t1",
		"DELIVER\t" ID "\ts\tr\td/u\t1\t",
		"DELIVER\t" ID "\ts\tr\td/u\t1\t1\t",
		"DELIVER\t" ID "\ts\tr\td/u\t1\t1\textra",
		"DELIVER\t" ID "\ts\x1b\tr\td/u\t1\t1",
		"DELIVER\t" ID "\ts\tr\r\td/u\t1\t1",
		"DELIVER\t" ID "\ts\tr\td/u\t9223372036854775807\t1",
		"DELIVER\t" ID "\ts\tr\td/u\t99999999999999999999\t1",
	};
	static const char nul_in_id[] = "DELIVER\t1JN7W800F2K3\0X\ts\tr\td/u\t0\t1";
	struct delivery_req r;
	const char *error;

	TEST_ASSERT(delivery_req_parse(nul_in_id, sizeof(nul_in_id) - 1, &r,
				       &error) < 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) == 0)
			printf("  accepted: %s\n", bad[i]);
		TEST_ASSERT(parse(bad[i], &r) < 0);
	}
}

static void test_format_refuses(void)
{
	struct delivery_req r;
	struct str line = STR_INIT(0);
	const char *error;

	fill(&r);
	cstr_copy(r.rcpt, sizeof(r.rcpt), "a\tb");
	TEST_ASSERT(delivery_req_format(&r, &line, &error) < 0);
	fill(&r);
	cstr_copy(r.sender, sizeof(r.sender), "a\nX-Evil: 1");
	TEST_ASSERT(delivery_req_format(&r, &line, &error) < 0);
	fill(&r);
	cstr_copy(r.user, sizeof(r.user), "..");
	TEST_ASSERT(delivery_req_format(&r, &line, &error) < 0);
	fill(&r);
	cstr_copy(r.id, sizeof(r.id), "x");
	TEST_ASSERT(delivery_req_format(&r, &line, &error) < 0);
	TEST_ASSERT(line.len == 0);
	str_free(&line);
}

static void test_reply_round_trip(void)
{
	struct str line = STR_INIT(0), reason = STR_INIT(0);
	enum delivery_status st;
	const char *error;

	delivery_reply_format(DELIVERY_OK, NULL, &line);
	TEST_STREQ(str_c(&line), "OK\n");
	TEST_ASSERT(delivery_reply_parse(line.s, line.len, &st, &reason,
					 &error) == 0 && st == DELIVERY_OK);
	str_clear(&line);
	delivery_reply_format(DELIVERY_TEMP, "4.2.2 mailbox full", &line);
	TEST_STREQ(str_c(&line), "TEMP\t4.2.2 mailbox full\n");
	TEST_ASSERT(delivery_reply_parse(line.s, line.len, &st, &reason,
					 &error) == 0);
	TEST_ASSERT(st == DELIVERY_TEMP);
	TEST_STREQ(str_c(&reason), "4.2.2 mailbox full");
	str_clear(&line);
	delivery_reply_format(DELIVERY_PERM, "5.4.6 loop", &line);
	TEST_ASSERT(delivery_reply_parse(line.s, line.len, &st, &reason,
					 &error) == 0 && st == DELIVERY_PERM);
	str_free(&line);
	str_free(&reason);
}

static void test_reply_format_sanitizes(void)
{
	struct str line = STR_INIT(0);

	delivery_reply_format(DELIVERY_TEMP, "5.1.1 wrong class", &line);
	TEST_STREQ(str_c(&line), "TEMP\t4.3.0 delivery failed\n");
	str_clear(&line);
	delivery_reply_format(DELIVERY_PERM, "5.1.1 a\nb", &line);
	TEST_STREQ(str_c(&line), "PERM\t5.3.0 delivery failed\n");
	str_clear(&line);
	delivery_reply_format(DELIVERY_PERM, NULL, &line);
	TEST_STREQ(str_c(&line), "PERM\t5.3.0 delivery failed\n");
	str_free(&line);
}

static void test_bad_replies(void)
{
	static const char *const bad[] = {
		"", "ok", "OK ", "TEMP", "TEMP\t", "TEMP\t5.0.0 x",
		"PERM\t4.0.0 x", "PERM\t5.0 x", "PERM\t5..0 x", "PERM\t5.1.1x",
		"PERM\t5.1234.1 x", "TEMP 4.0.0 x", "TEMP\t4.0.0 \x01",
	};
	struct str reason = STR_INIT(0);
	enum delivery_status st;
	const char *error;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(delivery_reply_parse(bad[i], strlen(bad[i]), &st,
						 &reason, &error) < 0);
	TEST_ASSERT(delivery_reply_parse("PERM\t5.1.1", 10, &st, &reason,
					 &error) == 0);
	str_free(&reason);
}

TEST_MAIN(test_round_trip, test_null_sender, test_bad_mailboxes,
	  test_bad_requests, test_format_refuses, test_reply_round_trip,
	  test_reply_format_sanitizes, test_bad_replies)
