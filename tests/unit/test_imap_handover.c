/*
 * test_imap_handover - IMAP's hand-over parameter (imapd/imap_handover.h):
 * every valid tag up to the limit survives the parameter and the whole
 * hand-over line (proto/login_handover.h); anything else is refused on
 * both sides
 */
#include "test.h"

#include <stdlib.h>

#include "imapd/imap_handover.h"
#include "imapd/imap_login_cmd.h"
#include "proto/login_handover.h"

#define TOKEN "0123456789abcdef0123456789abcdef01234567"

/* Every byte a tag may hold: ASTRING-CHAR but "+". */
static size_t tag_chars(char *out)
{
	size_t n = 0;

	for (int c = 0; c < 256; c++)
		if (imap_login_tag_valid((const char *)&(char){ (char)c }, 1))
			out[n++] = (char)c;
	return n;
}

/* tag through format, the hand-over line and parse, as it would travel;
 * 1 if it came out the same with the same flags. */
static int round_trip(const char *tag, size_t n, unsigned flags)
{
	struct str param = STR_INIT(0), line = STR_INIT(0);
	struct login_handover lh;
	struct imap_handover h;
	const char *error;
	size_t used;
	int ok;

	ok = imap_handover_format(&param, tag, n, flags) == 0 &&
	     login_handover_format(&line, TOKEN, "127.0.0.1", 1,
				   str_c(&param)) == 0 &&
	     login_handover_parse(line.s, line.len, &lh, &used, &error) == 0 &&
	     used == line.len && imap_handover_parse(lh.param, &h) == 0 &&
	     h.tag_len == n && memcmp(h.tag, tag, n) == 0 &&
	     h.tag[n] == '\0' && h.flags == flags;
	str_free(&param);
	str_free(&line);
	return ok;
}

static void test_tag_chars(void)
{
	char chars[256];
	size_t n = tag_chars(chars);

	/* 0x21-0x7e but ( ) { % * " \ + : 94 - 8 */
	TEST_ASSERT(n == 86);
	TEST_ASSERT(memchr(chars, ']', n) != NULL);
	TEST_ASSERT(memchr(chars, '+', n) == NULL);
	TEST_ASSERT(memchr(chars, ' ', n) == NULL);
	for (size_t i = 0; i < n; i++) {
		TEST_ASSERT(round_trip(&chars[i], 1, 0));
		TEST_ASSERT(round_trip(&chars[i], 1, IMAP_HANDOVER_ID));
	}
}

static void test_every_length(void)
{
	char chars[256], tag[IMAP_HANDOVER_TAG_MAX + 2];
	size_t n = tag_chars(chars);

	srand(14);
	for (size_t len = 1; len <= IMAP_HANDOVER_TAG_MAX; len++)
		for (int round = 0; round < 50; round++) {
			for (size_t i = 0; i < len; i++)
				tag[i] = chars[(size_t)rand() % n];
			TEST_ASSERT(round_trip(tag, len, 0));
			TEST_ASSERT(round_trip(tag, len, IMAP_HANDOVER_ID));
		}
	/* one longer is refused before anything is sent */
	memset(tag, 'a', sizeof(tag));
	TEST_ASSERT(!round_trip(tag, IMAP_HANDOVER_TAG_MAX + 1, 0));
}

static void test_format_refuses(void)
{
	struct str out = STR_INIT(0);
	const char *bad[] = { "", "a+b", "a b", "a(", "a)", "a{", "a%", "a*",
			      "a\"", "a\\", "a\r", "a\n", "a\t", "\xc3\xa9" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		str_sets(&out, "left over");
		TEST_ASSERT(imap_handover_format(&out, bad[i], strlen(bad[i]),
						 0) < 0);
		TEST_ASSERT(out.len == 0);
	}
	TEST_ASSERT(imap_handover_format(&out, "a1", 2, 0x80) < 0);
	TEST_ASSERT(imap_handover_format(&out, "a1", 2, 0) == 0);
	TEST_STREQ(str_c(&out), "a1");
	TEST_ASSERT(imap_handover_format(&out, "A0001]", 6,
					 IMAP_HANDOVER_ID) == 0);
	TEST_STREQ(str_c(&out), "A0001]+I");
	str_free(&out);
}

static void test_parse_refuses(void)
{
	struct imap_handover h;
	const char *bad[] = { "", "+I", "a1+", "a1+X", "a1+II", "a1+I+I",
			      "a b", "a\"1", "a1+i", "a(1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TEST_ASSERT(imap_handover_parse(bad[i], &h) < 0);
		TEST_STREQ(h.tag, "");
		TEST_ASSERT(h.flags == 0);
	}
	TEST_ASSERT(imap_handover_parse("x.7", &h) == 0);
	TEST_STREQ(h.tag, "x.7");
	TEST_ASSERT(h.flags == 0);
	TEST_ASSERT(imap_handover_parse("x.7+I", &h) == 0);
	TEST_STREQ(h.tag, "x.7");
	TEST_ASSERT(h.flags == IMAP_HANDOVER_ID);
}

/* The longest tag with every flag still fits the hand-over line. */
static void test_fits_the_line(void)
{
	char tag[IMAP_HANDOVER_TAG_MAX];
	struct str param = STR_INIT(0);

	memset(tag, 'z', sizeof(tag));
	TEST_ASSERT(imap_handover_format(&param, tag, sizeof(tag),
					 IMAP_HANDOVER_FLAGS) == 0);
	TEST_ASSERT(param.len <= LOGIN_HANDOVER_PARAM_MAX);
	TEST_ASSERT(round_trip(tag, sizeof(tag), IMAP_HANDOVER_FLAGS));
	str_free(&param);
}

TEST_MAIN(test_tag_chars, test_every_length, test_format_refuses,
	  test_parse_refuses, test_fits_the_line)
