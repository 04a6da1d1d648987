/*
 * test_imap_seqset - IMAP sequence sets (imapd/imap_seqset.h)
 */
#include "test.h"

#include "imapd/imap_seqset.h"

static int parse(struct imap_seqset *set, const char *s)
{
	const char *err;

	return imap_seqset_parse(set, s, strlen(s), 100, &err);
}

static const char *fmt(const struct imap_seqset *set)
{
	static struct str out = STR_INIT(0);

	str_clear(&out);
	imap_seqset_format(set, &out);
	return str_c(&out);
}

static void test_parse_valid(void)
{
	static const struct { const char *in, *resolved; } cases[] = {
		{ "1", "1" },
		{ "1:3,5,7:*", "1:3,5,7:10" },
		{ "*", "10" },
		{ "*:4", "4:10" },
		{ "4:2", "2:4" },
		{ "559:*", "10:559" },
		{ "3,1,2", "1:3" },
		{ "1:5,3:8,10", "1:8,10" },
		{ "4294967295", "4294967295" },
		{ "1:4294967295", "1:4294967295" },
		{ "4294967295,1:4294967294", "1:4294967295" },
	};
	struct imap_seqset set;

	imap_seqset_init(&set);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TEST_ASSERT(parse(&set, cases[i].in) == 0);
		TEST_ASSERT(imap_seqset_valid(cases[i].in,
					      strlen(cases[i].in)));
		imap_seqset_resolve(&set, 10);
		TEST_STREQ(fmt(&set), cases[i].resolved);
	}
	TEST_ASSERT(parse(&set, "$") == 0 && set.searchres && set.n == 0);
	TEST_ASSERT(parse(&set, "1:*") == 0 && set.has_star);
	imap_seqset_free(&set);
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
		"", "0", "01", "1:", ":1", "1,", ",1", "1,,2", "1::2", "a",
		"1 2", "4294967296", "99999999999", "$,1", "1,$", "**", "1:0",
		"-1", "+1", "1.2",
	};
	struct imap_seqset set;
	const char *err = NULL;

	imap_seqset_init(&set);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&set, bad[i]) == 0 ||
		    imap_seqset_valid(bad[i], strlen(bad[i]))) {
			printf("accepted \"%s\"\n", bad[i]);
			TEST_ASSERT(0);
		}
	}
	TEST_ASSERT(imap_seqset_parse(&set, "1,2,3", 5, 2, &err) < 0);
	TEST_STREQ(err, "Sequence set too long");
	imap_seqset_free(&set);
}

static void test_members(void)
{
	struct imap_seqset set;
	uint32_t v = 0, seen[16];
	unsigned n = 0;

	imap_seqset_init(&set);
	TEST_ASSERT(parse(&set, "2:4,9,*") == 0);
	imap_seqset_resolve(&set, 12);
	TEST_ASSERT(!imap_seqset_contains(&set, 1));
	TEST_ASSERT(imap_seqset_contains(&set, 2));
	TEST_ASSERT(imap_seqset_contains(&set, 4));
	TEST_ASSERT(!imap_seqset_contains(&set, 5));
	TEST_ASSERT(imap_seqset_contains(&set, 9));
	TEST_ASSERT(imap_seqset_contains(&set, 12));
	TEST_ASSERT(!imap_seqset_contains(&set, 13));
	TEST_ASSERT(imap_seqset_count(&set) == 5);
	while (n < 16 && imap_seqset_next(&set, &v))
		seen[n++] = v;
	TEST_ASSERT(n == 5 && seen[0] == 2 && seen[1] == 3 && seen[2] == 4 &&
		    seen[3] == 9 && seen[4] == 12);
	/* clipping sequence numbers to the mailbox */
	imap_seqset_clip(&set, 3);
	TEST_STREQ(fmt(&set), "2:3");
	/* an empty mailbox: "*" is 0, nothing to clip into */
	TEST_ASSERT(parse(&set, "1:*") == 0);
	imap_seqset_resolve(&set, 0);
	imap_seqset_clip(&set, 0);
	TEST_ASSERT(set.n == 0 && imap_seqset_count(&set) == 0);
	/* the end of the number space */
	TEST_ASSERT(parse(&set, "4294967294:*") == 0);
	imap_seqset_resolve(&set, UINT32_MAX);
	v = 4294967294u;
	TEST_ASSERT(imap_seqset_next(&set, &v) && v == UINT32_MAX);
	TEST_ASSERT(!imap_seqset_next(&set, &v));
	imap_seqset_free(&set);
}

static void test_format_uids(void)
{
	static const uint32_t a[] = { 1, 2, 3, 7, 9, 10, 5, 6, 4 };
	struct str out = STR_INIT(0);

	TEST_ASSERT(imap_seqset_format_uids(a, 9, &out) == 0);
	TEST_STREQ(str_c(&out), "1:3,7,9:10,5:6,4");
	str_clear(&out);
	TEST_ASSERT(imap_seqset_format_uids(a, 0, &out) == 0);
	TEST_STREQ(str_c(&out), "");
	str_free(&out);
}

TEST_MAIN(test_parse_valid, test_parse_invalid, test_members,
	  test_format_uids)
