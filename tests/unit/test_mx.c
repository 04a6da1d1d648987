/*
 * test_mx - next hops, MX RDATA, preference order, ourselves among MX
 */
#include <stdint.h>
#include <string.h>

#include "deliver/mx.h"
#include "util/str.h"
#include "test.h"

static void test_nexthop(void)
{
	static const struct {
		const char *in, *host;
		unsigned port;
		int literal;
	} ok[] = {
		{ "Example.ORG", "example.org", 25, 0 },
		{ "example.org.", "example.org", 25, 0 },
		{ "smtp.example:587", "smtp.example", 587, 0 },
		{ "[smtp.example]", "smtp.example", 25, 1 },
		{ "[192.0.2.1]:2525", "192.0.2.1", 2525, 1 },
		{ "[IPv6:2001:db8::1]:26", "ipv6:2001:db8::1", 26, 1 },
	};
	static const char *const bad[] = {
		"", "[", "[]", "[x]:", "[x]:0", "[x]:70000", "x:", "x:y",
		"a:1:2", "[x]y", "a b", "a/b", "u@d",
	};
	struct mx_nexthop nh;
	const char *error;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		TEST_ASSERT(mx_nexthop_parse(ok[i].in, 25, &nh, &error) == 0);
		TEST_STREQ(nh.host, ok[i].host);
		TEST_ASSERT(nh.port == ok[i].port);
		TEST_ASSERT(nh.literal == ok[i].literal);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(mx_nexthop_parse(bad[i], 25, &nh, &error) == -1);
}

static void test_rdata(void)
{
	static const uint8_t mx1[] = { 0, 10, 3, 'M', 'x', '1', 7, 'e', 'x',
		'a', 'm', 'p', 'l', 'e', 0 };
	static const uint8_t null_mx[] = { 0, 0, 0 };
	static const uint8_t trailing[] = { 0, 0, 0, 1 };
	static const uint8_t cut[] = { 0, 5, 3, 'a', 'b' };
	static const uint8_t dot[] = { 0, 5, 3, 'a', '.', 'b', 0 };
	static const uint8_t ptr[] = { 0, 5, 0xc0, 0x0c };
	struct mx_host mx;

	TEST_ASSERT(mx_rdata_parse(mx1, sizeof(mx1), &mx) == 0);
	TEST_STREQ(mx.name, "mx1.example");
	TEST_ASSERT(mx.pref == 10);
	TEST_ASSERT(mx_rdata_parse(null_mx, sizeof(null_mx), &mx) == 0);
	TEST_STREQ(mx.name, "");
	TEST_ASSERT(mx_is_null(&mx, 1));
	TEST_ASSERT(mx_rdata_parse(trailing, sizeof(trailing), &mx) == -1);
	TEST_ASSERT(mx_rdata_parse(cut, sizeof(cut), &mx) == -1);
	TEST_ASSERT(mx_rdata_parse(dot, sizeof(dot), &mx) == -1);
	TEST_ASSERT(mx_rdata_parse(ptr, sizeof(ptr), &mx) == -1);
	TEST_ASSERT(mx_rdata_parse(mx1, 2, &mx) == -1);
}

static unsigned seq_state;
static unsigned seq(void *arg)
{
	(void)arg;
	return seq_state++ * 7919u;
}

static void set(struct mx_host *v, const char *name, unsigned pref)
{
	cstr_copy(v->name, sizeof(v->name), name);
	v->pref = pref;
}

static void test_sort(void)
{
	struct mx_host v[5];
	int seen_b_first = 0, seen_c_first = 0;

	for (unsigned round = 0; round < 20; round++) {
		set(&v[0], "c", 20);
		set(&v[1], "a", 5);
		set(&v[2], "b", 20);
		set(&v[3], "z", 30);
		set(&v[4], "y", 10);
		seq_state = round;
		mx_sort(v, 5, seq, NULL);
		TEST_STREQ(v[0].name, "a");
		TEST_STREQ(v[1].name, "y");
		TEST_ASSERT(v[2].pref == 20 && v[3].pref == 20);
		TEST_STREQ(v[4].name, "z");
		seen_b_first |= strcmp(v[2].name, "b") == 0;
		seen_c_first |= strcmp(v[2].name, "c") == 0;
	}
	/* equal preferences come in both orders */
	TEST_ASSERT(seen_b_first && seen_c_first);
}

static void test_prune_self(void)
{
	struct mx_host v[4];

	set(&v[0], "a", 10);
	set(&v[1], "me.example", 20);
	set(&v[2], "b", 20);
	set(&v[3], "c", 30);
	TEST_ASSERT(mx_prune_self(v, 4, "ME.example") == 1);
	TEST_ASSERT(mx_prune_self(v, 4, "other") == 4);
	set(&v[0], "me.example", 10);
	TEST_ASSERT(mx_prune_self(v, 4, "me.example") == 0);
}

TEST_MAIN(test_nexthop, test_rdata, test_sort, test_prune_self)
