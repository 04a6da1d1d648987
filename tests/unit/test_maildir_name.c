/*
 * test_maildir_name - Maildir file names and flags (common/mail/maildir_name.h)
 */
#include "test.h"

#include <stdint.h>

#include "mail/maildir_name.h"

static void test_parse(void)
{
	struct maildir_name m;
	const char *n1 = "1700000000.M1P2.host,S=123:2,S";
	const char *n2 = "1700000001.M5P6Q1.mail.example.test,S=10,W=12";

	TEST_ASSERT(maildir_name_parse(n1, &m) == 0);
	TEST_ASSERT(m.base_len == 26 && m.has_size && m.size == 123 &&
		    !m.has_vsize);
	TEST_ASSERT(m.has_flags && m.flags == MAILDIR_FLAG_SEEN);
	TEST_STREQ(m.info, "2,S");
	TEST_ASSERT(maildir_name_parse(n2, &m) == 0 && m.info == NULL &&
		    !m.has_flags && m.base_len == strlen(n2) &&
		    m.size == 10 && m.vsize == 12);
	/* Dovecot's names: flags, keywords, and an empty flag list */
	TEST_ASSERT(maildir_name_parse("1.M2P3.h,S=5,W=6:2,DFRSTab", &m) == 0);
	TEST_ASSERT(m.flags == (MAILDIR_FLAG_DRAFT | MAILDIR_FLAG_FLAGGED |
				MAILDIR_FLAG_REPLIED | MAILDIR_FLAG_SEEN |
				MAILDIR_FLAG_TRASHED | MAILDIR_FLAG_KEYWORD(0) |
				MAILDIR_FLAG_KEYWORD(1)));
	TEST_ASSERT(maildir_name_parse("1.a:2,", &m) == 0 && m.has_flags &&
		    m.flags == 0);
	/* flags end at ',': what follows is kept, not read */
	TEST_ASSERT(maildir_name_parse("1.a:2,S,XYZ", &m) == 0 &&
		    m.flags == MAILDIR_FLAG_SEEN);
}

static void test_parse_sizes_and_refusals(void)
{
	struct maildir_name m;

	TEST_ASSERT(maildir_name_parse("x,S=1a,W=,S=", &m) == 0 &&
		    !m.has_size && !m.has_vsize);
	TEST_ASSERT(maildir_name_parse("123,S=99999999999999999999", &m) == 0 &&
		    !m.has_size);
	TEST_ASSERT(maildir_name_parse("123,S=9999999999999999999", &m) == 0 &&
		    m.has_size && m.size == UINT64_C(9999999999999999999));
	/* sizes only in the base */
	TEST_ASSERT(maildir_name_parse("1.a:2,S,S=5", &m) == 0 && !m.has_size);
	TEST_ASSERT(maildir_name_parse("1.a,W=7,S=5:2,", &m) == 0 &&
		    m.size == 5 && m.vsize == 7);
	/* another info version: no flags, base up to the ':' */
	TEST_ASSERT(maildir_name_parse("1.a:1,xyz", &m) == 0 &&
		    !m.has_flags && m.base_len == 3);
	TEST_ASSERT(maildir_name_parse(".hidden", &m) < 0);
	TEST_ASSERT(maildir_name_parse(".", &m) < 0);
	TEST_ASSERT(maildir_name_parse("..", &m) < 0);
	TEST_ASSERT(maildir_name_parse("", &m) < 0);
	TEST_ASSERT(maildir_name_parse(":2,S", &m) < 0);
	TEST_ASSERT(maildir_name_parse("a b", &m) < 0);
	TEST_ASSERT(maildir_name_parse("a/b", &m) < 0);
	TEST_ASSERT(maildir_name_parse("a\x7f", &m) < 0);
	TEST_ASSERT(maildir_name_parse("a\tb", &m) < 0);
}

static void test_parse_length(void)
{
	struct maildir_name m;
	char name[MAILDIR_NAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	name[MAILDIR_NAME_MAX] = '\0';
	TEST_ASSERT(maildir_name_parse(name, &m) == 0);
	name[MAILDIR_NAME_MAX] = 'a';
	name[MAILDIR_NAME_MAX + 1] = '\0';
	TEST_ASSERT(maildir_name_parse(name, &m) < 0);
}

static void test_set_flags(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(maildir_name_set_flags("1.a,S=1", MAILDIR_FLAG_SEEN, 0,
					   &out) == 1);
	TEST_STREQ(str_c(&out), "1.a,S=1:2,S");
	TEST_ASSERT(maildir_name_set_flags("1.a:2,", MAILDIR_FLAG_SEEN, 0,
					   &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,S");
	TEST_ASSERT(maildir_name_set_flags("1.a:2,FT", MAILDIR_FLAG_SEEN, 0,
					   &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,FST");
	TEST_ASSERT(maildir_name_set_flags("1.a:2,RTa", MAILDIR_FLAG_SEEN, 0,
					   &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,RSTa");
	TEST_ASSERT(maildir_name_set_flags("1.a:2,FS", MAILDIR_FLAG_SEEN, 0,
					   &out) == 0);
	TEST_STREQ(str_c(&out), "1.a:2,FS");
	TEST_ASSERT(maildir_name_set_flags("1.a:1,x", MAILDIR_FLAG_SEEN, 0,
					   &out) < 0);
	TEST_ASSERT(maildir_name_set_flags(".a", MAILDIR_FLAG_SEEN, 0,
					   &out) < 0);
	/* removing, keywords, and unsorted input written sorted */
	TEST_ASSERT(maildir_name_set_flags("1.a:2,TSb", MAILDIR_FLAG_KEYWORD(2),
					   MAILDIR_FLAG_TRASHED, &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,Sbc");
	TEST_ASSERT(maildir_name_set_flags("1.a:2,S", 0, MAILDIR_FLAG_SEEN,
					   &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,");
	/* unknown non-letter flags and an extra part are kept */
	TEST_ASSERT(maildir_name_set_flags("1.a:2,3S,X=1", MAILDIR_FLAG_FLAGGED,
					   0, &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,3FS,X=1");
	/* duplicates collapse */
	TEST_ASSERT(maildir_name_set_flags("1.a:2,SS", 0, 0, &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,S");
	str_free(&out);
}

static void test_set_flags_length(void)
{
	struct str out = STR_INIT(0);
	char name[MAILDIR_NAME_MAX + 1];

	memset(name, 'a', MAILDIR_NAME_MAX - 3);
	name[MAILDIR_NAME_MAX - 3] = '\0';	/* room for ":2," */
	TEST_ASSERT(maildir_name_set_flags(name, 0, 0, &out) == 1);
	TEST_ASSERT(out.len == MAILDIR_NAME_MAX);
	TEST_ASSERT(maildir_name_set_flags(name, MAILDIR_FLAG_SEEN, 0,
					   &out) < 0 && out.len == 0);
	str_free(&out);
}

static void test_flags_format(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(maildir_flags_parse("zSaF?D", 6) ==
		    (MAILDIR_FLAG('z') | MAILDIR_FLAG_SEEN | MAILDIR_FLAG('a') |
		     MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_DRAFT));
	TEST_ASSERT(maildir_flags_format(maildir_flags_parse("zSaF?D", 6),
					 &out) == 0);
	TEST_STREQ(str_c(&out), "DFSaz");
	TEST_ASSERT(MAILDIR_FLAG('1') == 0 && MAILDIR_FLAG('z') ==
		    MAILDIR_FLAG_KEYWORD(25));
	str_free(&out);
}

static void test_order(void)
{
	TEST_ASSERT(maildir_name_cmp("999.a", "1000.a") < 0);
	TEST_ASSERT(maildir_name_cmp("1000.b", "1000.a") > 0);
	TEST_ASSERT(maildir_name_cmp("1000.a", "1000.a") == 0);
	/* microseconds are not zero-padded: 99999 comes before 123456,
	 * although "M99999P" sorts after "M123456" as a string */
	TEST_ASSERT(maildir_name_cmp("1000.M99999P7Q1.h,S=1",
				     "1000.M123456P7Q2.h,S=1") < 0);
	TEST_ASSERT(maildir_name_cmp("1000.M123456P7Q2.h", "1000.M99999P7Q1.h")
		    > 0);
	TEST_ASSERT(maildir_name_stamp("1000.M5P1.h") == UINT64_C(1000000005));
	TEST_ASSERT(maildir_name_stamp("1000.Mx.h") == UINT64_C(1000000000));
	TEST_ASSERT(maildir_name_stamp("abc") == 0);
}

static void test_generate(void)
{
	struct str s = STR_INIT(0);
	struct timeval tv = { 1700000000, 42 };

	maildir_name_host_escape("a/b:c.example", &s);
	TEST_STREQ(str_c(&s), "a\\057b\\072c.example");
	str_clear(&s);
	maildir_name_unique(&s, &tv, 1234, 7, "host");
	TEST_STREQ(str_c(&s), "1700000000.M42P1234Q7.host");
	maildir_name_sizes(&s, 100, 105);
	TEST_STREQ(str_c(&s), "1700000000.M42P1234Q7.host,S=100,W=105");
	str_free(&s);
}

TEST_MAIN(test_parse, test_parse_sizes_and_refusals, test_parse_length,
	  test_set_flags, test_set_flags_length, test_flags_format, test_order,
	  test_generate)
