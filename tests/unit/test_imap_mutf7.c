/*
 * test_imap_mutf7 - modified UTF-7 mailbox names (imapd/imap_mutf7.h)
 */
#include "test.h"

#include <errno.h>

#include "imapd/imap_mutf7.h"

static const struct { const char *utf8, *mutf7; } pairs[] = {
	{ "INBOX", "INBOX" },
	{ "", "" },
	{ "A&B", "A&-B" },
	{ "&", "&-" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	/* RFC 3501 5.1.3's example */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5"
	  "\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5",
	  "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" },
	/* outside the BMP: a surrogate pair */
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	/* control characters and DEL are shifted too */
	{ "a\tb", "a&AAk-b" },
	{ "\x7f", "&AH8-" },
	{ "\xc3\xa9&\xc3\xa9", "&AOk-&-&AOk-" },
};

static void test_round_trip(void)
{
	struct str out = STR_INIT(0);

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		str_clear(&out);
		TEST_ASSERT(imap_mutf7_encode(pairs[i].utf8,
					      strlen(pairs[i].utf8), &out) == 0);
		TEST_STREQ(str_c(&out), pairs[i].mutf7);
		str_clear(&out);
		TEST_ASSERT(imap_mutf7_decode(pairs[i].mutf7,
					      strlen(pairs[i].mutf7), &out) == 0);
		TEST_STREQ(str_c(&out), pairs[i].utf8);
		TEST_ASSERT(imap_mutf7_valid(pairs[i].mutf7,
					     strlen(pairs[i].mutf7)));
	}
	/* a long run */
	str_clear(&out);
	{
		struct str in = STR_INIT(0), back = STR_INIT(0);

		for (int i = 0; i < 300; i++)
			str_appends(&in, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
		TEST_ASSERT(imap_mutf7_encode(in.s, in.len, &out) == 0);
		TEST_ASSERT(imap_mutf7_decode(out.s, out.len, &back) == 0);
		TEST_ASSERT(back.len == in.len &&
			    memcmp(back.s, in.s, in.len) == 0);
		str_free(&in);
		str_free(&back);
	}
	str_free(&out);
}

static void test_decode_invalid(void)
{
	static const char *const bad[] = {
		"&",		/* no "-" */
		"&APw",		/* no "-" */
		"&APw-&APw-",	/* two runs side by side */
		"&AGE-",	/* "a", which must represent itself */
		"&ACA-",	/* SP */
		"&AAA-",	/* NUL */
		"&AP-",		/* 12 bits: an odd byte */
		"&APx-",	/* non-zero leftover bits */
		"&APwA-",	/* 24 bits: leftover of 8 */
		"&2D0-",	/* a high surrogate alone */
		"&2D3YPQ-",	/* high surrogate followed by high */
		"&3gA-",	/* a low surrogate alone */
		"&AP/-",	/* "/" is not in the alphabet */
		"&AP=-",
		"caf\xc3\xa9",	/* 8-bit */
		"a\tb",		/* control */
		"\x7f",
	};
	struct str out = STR_INIT(0);

	str_appends(&out, "keep");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (imap_mutf7_decode(bad[i], strlen(bad[i]), &out) == 0) {
			printf("accepted \"%s\"\n", bad[i]);
			TEST_ASSERT(0);
		}
		TEST_ASSERT(errno == EINVAL);
		TEST_STREQ(str_c(&out), "keep");
	}
	/* but "&-" right after a run is fine */
	str_clear(&out);
	TEST_ASSERT(imap_mutf7_decode("&APw-&-", 7, &out) == 0);
	TEST_STREQ(str_c(&out), "\xc3\xbc&");
	str_free(&out);
}

static void test_encode_invalid(void)
{
	static const char *const bad[] = {
		"\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xff", "a\x80",
	};
	struct str out = STR_INIT(0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TEST_ASSERT(imap_mutf7_encode(bad[i], strlen(bad[i]), &out) < 0);
		TEST_ASSERT(out.len == 0);
	}
	TEST_ASSERT(imap_mutf7_encode("a\0b", 3, &out) < 0);
	TEST_ASSERT(imap_mutf7_plain("INBOX.Sent", 10));
	TEST_ASSERT(!imap_mutf7_plain("A&B", 3));
	str_free(&out);
}

static void test_cap(void)
{
	struct str out = STR_INIT(6);

	TEST_ASSERT(imap_mutf7_encode("\xc3\xa9\xc3\xa9", 4, &out) < 0);
	TEST_ASSERT(errno == EMSGSIZE && out.len == 0);
	str_free(&out);
}

TEST_MAIN(test_round_trip, test_decode_invalid, test_encode_invalid,
	  test_cap)
