/*
 * test_cidr - CIDR networks: what parses to what, what is refused and
 * why, which addresses a network contains, and the trusted_networks list
 */
#include <string.h>
#include <sys/socket.h>

#include "test.h"
#include "util/cidr.h"

/* An item that parses, and how it reads back. */
static const struct {
	const char *in;
	const char *out;
} good[] = {
	{ "127.0.0.0/8", "127.0.0.0/8" },
	{ "10.0.0.0/8", "10.0.0.0/8" },
	{ "192.0.2.1", "192.0.2.1/32" },
	{ "192.0.2.1/32", "192.0.2.1/32" },
	{ "0.0.0.0/0", "0.0.0.0/0" },
	{ "192.0.2.128/25", "192.0.2.128/25" },
	{ "::1/128", "::1/128" },
	{ "::1", "::1/128" },
	{ "[::1]/128", "::1/128" },
	{ "[2001:db8::]/32", "2001:db8::/32" },
	{ "2001:DB8::/32", "2001:db8::/32" },
	{ "2001:db8:0:1::/64", "2001:db8:0:1::/64" },
	{ "::/0", "::/0" },
	{ "fe80::/10", "fe80::/10" },
	/* IPv4-mapped: kept as the IPv4 network */
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8" },
	{ "::ffff:192.0.2.7", "192.0.2.7/32" },
	{ "::ffff:0:0/96", "0.0.0.0/0" },
	/* not the mapped prefix: an IPv6 network like any other */
	{ "64:ff9b::/96", "64:ff9b::/96" },
};

/* An item that is refused, and a word of the reason. */
static const struct {
	const char *in;
	const char *why;
} bad[] = {
	{ "", "empty network" },
	{ "10.0.0.0/33", "larger than 32" },
	{ "::/129", "larger than 128" },
	{ "10.0.0.0/999999999999", "larger than 128" },
	{ "10.0.0.0/", "empty prefix length" },
	{ "10.0.0.0/08", "leading zero" },
	{ "10.0.0.0/+8", "not an IP network" },
	{ "10.0.0.0/-8", "not an IP network" },
	{ "10.0.0.0/8/8", "more than one" },
	{ "/8", "empty address" },
	{ "10.1.2.3/8", "bits set past" },
	{ "127.0.0.1/8", "bits set past" },
	{ "2001:db8::1/64", "bits set past" },
	{ "::1/0", "bits set past" },
	{ "10.0.0.0 /8", "blank" },
	{ "10.0.0.0/ 8", "blank" },
	{ "10.0.0.0/8 10.1.0.0/16", "blank" },
	{ "10.0.0.0\t/8", "blank" },
	{ "10.0.0", "not a valid IPv4" },
	{ "10.0.0.256", "not a valid IPv4" },
	{ "010.0.0.0/8", "not a valid IPv4" },
	{ "2001:db8:::/48", "not a valid IPv6" },
	{ "2001:db8::g/64", "not an IP network" },
	{ "localhost", "not an IP network" },
	{ "[10.0.0.0]/8", "not IPv6" },
	{ "[::1/128", "without its ']'" },
	{ "::1]/128", "misplaced bracket" },
	{ "[]/8", "empty address" },
	{ "[::1]]", "misplaced bracket" },
	{ "fe80::1%lo/128", "not an IP network" },
	{ "10.0.0.0/8,", "not an IP network" },
	{ "::ffff:0:0/95", "bits set past" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee",
	  "too long" },
};

static void test_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct cidr c;
		const char *error = NULL;
		char buf[CIDR_TEXT_MAX + 1];

		if (cidr_parse(good[i].in, &c, &error) < 0) {
			printf("  '%s' refused: %s\n", good[i].in, error);
			TEST_ASSERT(0);
			continue;
		}
		TEST_ASSERT(cidr_format(&c, buf, sizeof(buf)) == 0);
		TEST_STREQ(buf, good[i].out);
	}
}

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cidr c;
		const char *error = NULL;

		if (cidr_parse(bad[i].in, &c, &error) == 0) {
			printf("  '%s' accepted\n", bad[i].in);
			TEST_ASSERT(0);
			continue;
		}
		if (strstr(error, bad[i].why) == NULL) {
			printf("  '%s': '%s', expected '%s'\n", bad[i].in,
			       error, bad[i].why);
			TEST_ASSERT(0);
		}
	}
}

/* Does net contain host? */
static const struct {
	const char *net, *host;
	int in;
} contains[] = {
	{ "127.0.0.0/8", "127.0.0.1", 1 },
	{ "127.0.0.0/8", "127.255.255.255", 1 },
	{ "127.0.0.0/8", "128.0.0.1", 0 },
	{ "127.0.0.0/8", "126.255.255.255", 0 },
	{ "192.0.2.128/25", "192.0.2.128", 1 },
	{ "192.0.2.128/25", "192.0.2.127", 0 },
	{ "192.0.2.1", "192.0.2.1", 1 },
	{ "192.0.2.1", "192.0.2.2", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "::1", 0 },
	{ "::/0", "203.0.113.9", 0 },
	{ "::/0", "2001:db8::5", 1 },
	{ "::1/128", "::1", 1 },
	{ "::1/128", "::2", 0 },
	{ "::1/128", "127.0.0.1", 0 },
	{ "2001:db8:0:1::/64", "2001:db8:0:1:ffff:ffff:ffff:ffff", 1 },
	{ "2001:db8:0:1::/64", "2001:db8:0:2::", 0 },
	{ "2001:db8::/31", "2001:db9::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	/* a mapped client address is its IPv4 address */
	{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
	{ "::ffff:10.0.0.0/104", "10.1.2.3", 1 },
	/* a zone is ignored */
	{ "fe80::/10", "fe80::1%eth0", 1 },
};

static void test_contains(void)
{
	for (size_t i = 0; i < sizeof(contains) / sizeof(contains[0]); i++) {
		struct cidr net, host;
		const char *error;

		TEST_ASSERT(cidr_parse(contains[i].net, &net, &error) == 0);
		TEST_ASSERT(cidr_addr_parse(contains[i].host, &host) == 0);
		if (cidr_contains(&net, &host) != contains[i].in) {
			printf("  %s in %s: expected %d\n", contains[i].host,
			       contains[i].net, contains[i].in);
			TEST_ASSERT(0);
		}
	}
}

static void test_addr_parse(void)
{
	struct cidr c;

	TEST_ASSERT(cidr_addr_parse("unix", &c) < 0);
	TEST_ASSERT(cidr_addr_parse("", &c) < 0);
	TEST_ASSERT(cidr_addr_parse("%eth0", &c) < 0);
	TEST_ASSERT(cidr_addr_parse("10.0.0.0/8", &c) < 0);
	TEST_ASSERT(cidr_addr_parse(" 10.0.0.1", &c) < 0);
	TEST_ASSERT(cidr_addr_parse("10.0.0.1", &c) == 0 &&
		    c.family == AF_INET && c.len == 32);
	TEST_ASSERT(cidr_addr_parse("::ffff:10.0.0.1", &c) == 0 &&
		    c.family == AF_INET && c.len == 32);
	TEST_ASSERT(cidr_addr_parse("2001:db8::1", &c) == 0 &&
		    c.family == AF_INET6 && c.len == 128);
}

static void test_truncate(void)
{
	struct cidr c;
	char buf[CIDR_TEXT_MAX + 1];

	TEST_ASSERT(cidr_addr_parse("2001:db8:1:2:3:4:5:6", &c) == 0);
	cidr_truncate(&c, 64);
	TEST_ASSERT(cidr_format(&c, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "2001:db8:1:2::/64");
	TEST_ASSERT(cidr_addr_parse("192.0.2.77", &c) == 0);
	cidr_truncate(&c, 25);
	TEST_ASSERT(cidr_format(&c, buf, sizeof(buf)) == 0);
	TEST_STREQ(buf, "192.0.2.0/25");
	cidr_truncate(&c, 200);		/* cut to the family's width */
	TEST_ASSERT(c.len == 32);
	TEST_ASSERT(cidr_format(&c, buf, 5) < 0);	/* does not fit */
}

static void test_list(void)
{
	char *items[] = { "127.0.0.0/8", "::1/128", "192.0.2.0/24" };
	char *broken[] = { "127.0.0.0/8", "10.1.0.0/8" };
	struct cidr_list l = { NULL, 0 };
	const char *error = NULL;
	size_t bad_item = 99;

	TEST_ASSERT(cidr_list_match(&l, "127.0.0.1") == 0);
	TEST_ASSERT(cidr_list_parse(&l, items, 3, &error, &bad_item) == 0);
	TEST_ASSERT(l.n == 3);
	TEST_ASSERT(cidr_list_match(&l, "127.0.0.1") == 1);
	TEST_ASSERT(cidr_list_match(&l, "127.3.4.5") == 1);
	TEST_ASSERT(cidr_list_match(&l, "::1") == 1);
	TEST_ASSERT(cidr_list_match(&l, "192.0.2.200") == 1);
	TEST_ASSERT(cidr_list_match(&l, "192.0.3.1") == 0);
	TEST_ASSERT(cidr_list_match(&l, "::2") == 0);
	TEST_ASSERT(cidr_list_match(&l, "unix") == 0);
	/* a bad item: the list is emptied and the item named */
	TEST_ASSERT(cidr_list_parse(&l, broken, 2, &error, &bad_item) < 0);
	TEST_ASSERT(bad_item == 1 && strstr(error, "bits set") != NULL);
	TEST_ASSERT(l.n == 0 && cidr_list_match(&l, "127.0.0.1") == 0);
	TEST_ASSERT(cidr_list_parse(&l, NULL, 0, &error, &bad_item) == 0);
	TEST_ASSERT(l.n == 0);
	cidr_list_free(&l);
}

TEST_MAIN(test_good, test_bad, test_contains, test_addr_parse, test_truncate,
	  test_list)
