/*
 * test_local_loop - postern-local's header section scan and Delivered-To:
 * loop check (deliver/local_loop.h)
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "deliver/local_loop.h"

static const char msg[] = "Subject: hi\nDelivered-To: other@x\n\nbody\n"
			  "Delivered-To: user@example.test\n";

static void test_header_end(void)
{
	size_t end;

	TEST_ASSERT(local_loop_header_end("A: b\n\nbody", 10, &end) == 1);
	TEST_ASSERT(end == 6);
	TEST_ASSERT(local_loop_header_end("\nbody", 5, &end) == 1 && end == 1);
	TEST_ASSERT(local_loop_header_end("A: b\r\n\r\nx", 9, &end) == 1);
	TEST_ASSERT(end == 8);
	TEST_ASSERT(local_loop_header_end("A: b\nB: c", 9, &end) == 0);
	TEST_ASSERT(end == 9);
}

static int has(const char *hdr, const char *rcpt)
{
	return local_loop_has_delivered_to(hdr, strlen(hdr), rcpt);
}

static void test_delivered_to(void)
{
	TEST_ASSERT(has("Delivered-To: user@example.test\n\n", "user@example.test"));
	TEST_ASSERT(has("X: y\ndelivered-to:   USER@Example.Test  \n\n",
			"user@example.test"));
	TEST_ASSERT(has("DELIVERED-TO : <user@example.test>\n", "user@example.test"));
	TEST_ASSERT(has("Delivered-To:\n user@example.test\n\n", "user@example.test"));
	TEST_ASSERT(has("Delivered-To: user@example.test\r\n\r\n", "user@example.test"));
	TEST_ASSERT(!has("Delivered-To: user@example.testx\n", "user@example.test"));
	TEST_ASSERT(!has("X-Delivered-To: user@example.test\n", "user@example.test"));
	TEST_ASSERT(!has("Delivered-Top: user@example.test\n", "user@example.test"));
	/* in a continuation line of another field, or in the body: no */
	TEST_ASSERT(!has("X: a\n Delivered-To: user@example.test\n", "user@example.test"));
	TEST_ASSERT(!has(msg, "user@example.test"));
	TEST_ASSERT(has(msg, "other@x"));
	TEST_ASSERT(!has("", "a@b"));
}

static void test_read_header(void)
{
	struct str h = STR_INIT(0);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	size_t end;

	TEST_ASSERT(write(src, "XX", 2) == 2);
	TEST_ASSERT(write(src, msg, sizeof(msg) - 1) == sizeof(msg) - 1);
	TEST_ASSERT(local_loop_read_header(src, 2, sizeof(msg) - 1, &h) == 0);
	TEST_ASSERT(local_loop_header_end(h.s, h.len, &end) == 1);
	TEST_ASSERT(memcmp(h.s, msg, end) == 0);
	TEST_ASSERT(local_loop_read_header(src, 2, 5, &h) == 0 && h.len == 5);
	TEST_ASSERT(local_loop_read_header(src, 1000, 10, &h) < 0 && errno == ENODATA);
	close(src);
	str_free(&h);
}

/* The header read stops at the empty line, and is capped. */
static void test_read_header_cap(void)
{
	struct str h = STR_INIT(0), big = STR_INIT(0);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	size_t end;

	while (big.len < LOCAL_LOOP_HEADER_MAX + 20000)
		str_appends(&big, "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	TEST_ASSERT(write(src, big.s, big.len) == (ssize_t)big.len);
	TEST_ASSERT(local_loop_read_header(src, 0, big.len, &h) == 0);
	TEST_ASSERT(h.len == LOCAL_LOOP_HEADER_MAX);
	TEST_ASSERT(local_loop_header_end(h.s, h.len, &end) == 0);
	close(src);
	str_free(&h);
	str_free(&big);
}

TEST_MAIN(test_header_end, test_delivered_to, test_read_header,
	  test_read_header_cap)
