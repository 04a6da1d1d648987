/*
 * test_delivery_proto_send - the remote sender's SEND requests and
 * per-recipient replies (common/proto/delivery_proto.h, REMOTE)
 */
#include <string.h>

#include "proto/delivery_proto.h"
#include "test.h"

static void fill(struct delivery_send *req)
{
	delivery_send_init(req);
	cstr_copy(req->id, sizeof(req->id), "1NG4K06VKZDAEGEB");
	cstr_copy(req->sender, sizeof(req->sender), "a@example.org");
	cstr_copy(req->nexthop, sizeof(req->nexthop), "[192.0.2.1]:587");
	req->flags = QUEUE_FLAG_8BITMIME;
	req->offset = 120;
	req->size = 5000;
	TEST_ASSERT(delivery_send_add(req, "x@remote.example", 0, NULL) == 0);
	TEST_ASSERT(delivery_send_add(req, "y@remote.example", 0, NULL) == 0);
}

static void test_round_trip(void)
{
	struct delivery_send req, got;
	struct str line = STR_INIT(0);
	const char *error;
	size_t used = 0;

	fill(&req);
	TEST_ASSERT(delivery_send_format(&req, &line, &error) == 0);
	TEST_STREQ(str_c(&line), "SEND\t1NG4K06VKZDAEGEB\ta@example.org\t"
		   "[192.0.2.1]:587\t1\t120\t5000\t2\t\n"
		   "RCPT\tx@remote.example\t0\t\n"
		   "RCPT\ty@remote.example\t0\t\n");
	delivery_send_init(&got);
	TEST_ASSERT(delivery_send_parse(line.s, line.len, &got, &used,
					&error) == 1);
	TEST_ASSERT(used == line.len);
	TEST_STREQ(got.nexthop, "[192.0.2.1]:587");
	TEST_ASSERT(got.nrcpt == 2 && got.flags == 1 && got.size == 5000);
	TEST_STREQ(got.rcpts[1], "y@remote.example");
	/* every prefix is incomplete, never an error */
	for (size_t n = 0; n < line.len; n++)
		TEST_ASSERT(delivery_send_parse(line.s, n, &got, &used,
						&error) == 0);
	delivery_send_free(&got);
	delivery_send_free(&req);
	str_free(&line);
}

/* The DSN fields: ENVID in the header, NOTIFY and ORCPT per recipient,
 * the RET flags. */
static void test_dsn_fields(void)
{
	struct delivery_send req, got;
	struct str line = STR_INIT(0);
	const char *error;
	size_t used = 0;

	delivery_send_init(&req);
	cstr_copy(req.id, sizeof(req.id), "1NG4K06VKZDAEGEB");
	cstr_copy(req.nexthop, sizeof(req.nexthop), "remote.example");
	cstr_copy(req.envid, sizeof(req.envid), "QQ+2B1");
	req.flags = QUEUE_FLAG_RET_HDRS;
	req.size = 10;
	TEST_ASSERT(delivery_send_add(&req, "x@remote.example",
				      QUEUE_NOTIFY_SUCCESS |
				      QUEUE_NOTIFY_FAILURE,
				      "rfc822;X+2Bo@old.example") == 0);
	TEST_ASSERT(delivery_send_add(&req, "y@remote.example",
				      QUEUE_NOTIFY_NEVER, NULL) == 0);
	TEST_ASSERT(delivery_send_add(&req, "z@remote.example",
				      QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_DELAY,
				      NULL) == -1);
	TEST_ASSERT(delivery_send_add(&req, "z@remote.example", 0,
				      "a\tb") == -1);
	TEST_ASSERT(delivery_send_format(&req, &line, &error) == 0);
	TEST_STREQ(str_c(&line), "SEND\t1NG4K06VKZDAEGEB\t\tremote.example"
		   "\t8\t0\t10\t2\tQQ+2B1\n"
		   "RCPT\tx@remote.example\t6\trfc822;X+2Bo@old.example\n"
		   "RCPT\ty@remote.example\t1\t\n");
	delivery_send_init(&got);
	TEST_ASSERT(delivery_send_parse(line.s, line.len, &got, &used,
					&error) == 1);
	TEST_STREQ(got.envid, "QQ+2B1");
	TEST_ASSERT(got.flags == QUEUE_FLAG_RET_HDRS);
	TEST_ASSERT(got.notify[0] == 6 && got.notify[1] == 1);
	TEST_STREQ(got.orcpts[0], "rfc822;X+2Bo@old.example");
	TEST_ASSERT(got.orcpts[1] == NULL);
	/* both RET flags, or a bad envelope id, are refused on both sides */
	req.flags = QUEUE_FLAG_RET_HDRS | QUEUE_FLAG_RET_FULL;
	TEST_ASSERT(delivery_send_format(&req, &line, &error) == -1);
	req.flags = 0;
	cstr_copy(req.envid, sizeof(req.envid), "a b");
	TEST_ASSERT(delivery_send_format(&req, &line, &error) == -1);
	delivery_send_free(&got);
	delivery_send_free(&req);
	str_free(&line);
}

static void test_bad_requests(void)
{
	static const char *const bad[] = {
		"DELIVER\tx\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t101\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t16\t0\t1\t1\t\nRCPT\tx\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t12\t0\t1\t1\t\nRCPT\tx\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\t\t0\t0\t1\t1\t\nRCPT\tx\t0\t\n",
		"SEND\t../x\ta@b\th\t0\t0\t1\t1\t\nRCPT\tx\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPT\t\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPX\tx\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t01\t1\t1\t\nRCPT\tx\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta\rb\th\t0\t0\t1\t1\t\nRCPT\tx\t0\t\n",
		/* the old grammar, and bad DSN fields */
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\nRCPT\tx\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPT\tx\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\ta b\nRCPT\tx\t0\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPT\tx\t9\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPT\tx\t16\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPT\tx\t\t\n",
		"SEND\t1NG4K06VKZDAEGEB\ta@b\th\t0\t0\t1\t1\t\nRCPT\tx\t0\to\tp\n",
	};
	struct delivery_send req;
	const char *error;
	size_t used;

	delivery_send_init(&req);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(delivery_send_parse(bad[i], strlen(bad[i]), &req,
						&used, &error) == -1);
	delivery_send_free(&req);
}

static void test_add_limits(void)
{
	struct delivery_send req;

	delivery_send_init(&req);
	for (int i = 0; i < DELIVERY_RCPT_MAX; i++)
		TEST_ASSERT(delivery_send_add(&req, "x@y", 0, NULL) == 0);
	TEST_ASSERT(delivery_send_add(&req, "x@y", 0, NULL) == -1);
	delivery_send_free(&req);
	TEST_ASSERT(delivery_send_add(&req, "", 0, NULL) == -1);
	TEST_ASSERT(delivery_send_add(&req, "a\tb", 0, NULL) == -1);
}

static void test_replies(void)
{
	struct str out = STR_INIT(0), relay = STR_INIT(0), reason = STR_INIT(0);
	enum delivery_status st;
	const char *error;
	int dsn = -1;

	delivery_rreply_format(DELIVERY_OK, "mx[192.0.2.1]:25", 1,
			       "2.0.0 mx said: 250 ok", &out);
	TEST_STREQ(str_c(&out), "OK\tmx[192.0.2.1]:25\tDSN\t2.0.0 mx said: "
		   "250 ok\n");
	TEST_ASSERT(delivery_rreply_parse(out.s, out.len, &st, &relay, &dsn,
					  &reason, &error) == 0);
	TEST_ASSERT(st == DELIVERY_OK && dsn == 1);
	TEST_STREQ(str_c(&relay), "mx[192.0.2.1]:25");
	/* a reason of the wrong class or a bad relay is replaced */
	str_clear(&out);
	delivery_rreply_format(DELIVERY_PERM, "a\tb", 0, "4.0.0 x", &out);
	TEST_STREQ(str_c(&out), "PERM\tnone\t-\t5.3.0 delivery failed\n");
	str_clear(&out);
	delivery_rreply_format(DELIVERY_TEMP, NULL, 0, NULL, &out);
	TEST_ASSERT(delivery_rreply_parse(out.s, out.len, &st, &relay, &dsn,
					  &reason, &error) == 0 &&
		    st == DELIVERY_TEMP && dsn == 0);
	TEST_ASSERT(delivery_rreply_parse("OK\tr\t-\t5.0.0 x", 14, &st,
					  &relay, &dsn, &reason, &error) == -1);
	TEST_ASSERT(delivery_rreply_parse("OK\t\t-\t2.0.0 x", 13, &st,
					  &relay, &dsn, &reason, &error) == -1);
	TEST_ASSERT(delivery_rreply_parse("OK\tr\tX\t2.0.0 x", 14, &st,
					  &relay, &dsn, &reason, &error) == -1);
	TEST_ASSERT(delivery_rreply_parse("OK\tr\t2.0.0 x", 12, &st,
					  &relay, &dsn, &reason, &error) == -1);
	TEST_ASSERT(delivery_rreply_parse("OK\n", 3, &st, &relay, &dsn,
					  &reason, &error) == -1);
	str_clear(&out);
	delivery_rdone_format(1, &out);
	TEST_ASSERT(delivery_rdone_parse(out.s, out.len) == 1);
	str_clear(&out);
	delivery_rdone_format(0, &out);
	TEST_ASSERT(delivery_rdone_parse(out.s, out.len) == 0);
	TEST_ASSERT(delivery_rdone_parse("DONE\tMAYBE\n", 11) == -1);
	str_free(&out);
	str_free(&relay);
	str_free(&reason);
}

TEST_MAIN(test_round_trip, test_dsn_fields, test_bad_requests,
	  test_add_limits, test_replies)
