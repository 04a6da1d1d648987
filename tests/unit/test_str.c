/*
 * test_str - the capped string type: appends, the cap (EMSGSIZE with the
 * content unchanged), size_t overflow, formatting, consume, steal, NUL
 * bytes, and cstr_copy
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/str.h"

static void test_empty(void)
{
	struct str s = STR_INIT(0);

	TEST_ASSERT(s.s == NULL && s.len == 0);
	TEST_STREQ(str_c(&s), "");
	TEST_ASSERT(str_append(&s, "", 0) == 0);
	TEST_STREQ(str_c(&s), "");
	TEST_ASSERT(s.len == 0);
	str_free(&s);
	str_free(&s);
	TEST_ASSERT(s.s == NULL && s.len == 0 && s.cap == 0);
}

static void test_append_kinds(void)
{
	struct str s;

	str_init(&s, 0);
	TEST_ASSERT(str_append(&s, "abc", 3) == 0);
	TEST_ASSERT(str_appends(&s, "def") == 0);
	TEST_ASSERT(str_appendc(&s, 'g') == 0);
	TEST_ASSERT(str_appendf(&s, "-%d-%s", 42, "x") == 0);
	TEST_STREQ(str_c(&s), "abcdefg-42-x");
	TEST_ASSERT(s.len == 12);
	TEST_ASSERT(s.cap > s.len);
	str_free(&s);
}

static void test_growth(void)
{
	struct str s = STR_INIT(0);
	size_t i, bad = 0;

	for (i = 0; i < 100000; i++)
		if (str_appendc(&s, (char)('a' + i % 26)) < 0)
			bad++;
	TEST_ASSERT(bad == 0);
	TEST_ASSERT(s.len == 100000);
	for (i = 0; i < s.len; i++)
		if (s.s[i] != (char)('a' + i % 26))
			bad++;
	TEST_ASSERT(bad == 0);
	TEST_ASSERT(s.s[s.len] == '\0');
	str_free(&s);
}

static void test_cap_exact_and_one_past(void)
{
	struct str s = STR_INIT(5);

	TEST_ASSERT(str_append(&s, "abcde", 5) == 0);
	TEST_STREQ(str_c(&s), "abcde");
	errno = 0;
	TEST_ASSERT(str_append(&s, "f", 1) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&s), "abcde");
	TEST_ASSERT(s.len == 5);
	TEST_ASSERT(str_appendc(&s, 'f') == -1);
	TEST_ASSERT(str_appends(&s, "f") == -1);
	TEST_ASSERT(str_append(&s, "", 0) == 0);
	TEST_STREQ(str_c(&s), "abcde");
	str_free(&s);
}

static void test_cap_large_append_unchanged(void)
{
	struct str s = STR_INIT(10);

	TEST_ASSERT(str_sets(&s, "keep") == 0);
	errno = 0;
	TEST_ASSERT(str_append(&s, "0123456789", 7) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&s), "keep");
	TEST_ASSERT(str_append(&s, "012345", 6) == 0);
	TEST_STREQ(str_c(&s), "keep012345");
	str_free(&s);
}

static void test_overflow(void)
{
	struct str s = STR_INIT(0);
	char one = 'x';

	TEST_ASSERT(str_append(&s, "ab", 2) == 0);
	errno = 0;
	TEST_ASSERT(str_reserve(&s, SIZE_MAX) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	errno = 0;
	TEST_ASSERT(str_reserve(&s, SIZE_MAX - 1) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	/* rejected before anything is read from the (short) source */
	TEST_ASSERT(str_append(&s, &one, SIZE_MAX - 2) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&s), "ab");
	TEST_ASSERT(s.len == 2);
	str_free(&s);
}

static void test_reserve_keeps_terminated(void)
{
	struct str s = STR_INIT(0);

	TEST_ASSERT(str_reserve(&s, 100) == 0);
	TEST_ASSERT(s.cap >= 101);
	TEST_ASSERT(s.len == 0);
	/* str.h: always NUL-terminated past len, also right after growing */
	TEST_ASSERT(str_c(&s)[0] == '\0');
	TEST_ASSERT(str_append(&s, "ab", 2) == 0);
	TEST_ASSERT(str_reserve(&s, 1000) == 0);
	TEST_STREQ(str_c(&s), "ab");
	str_free(&s);
}

static void test_appendf(void)
{
	struct str s = STR_INIT(0);
	char big[1001];

	memset(big, 'z', 1000);
	big[1000] = '\0';
	TEST_ASSERT(str_appendf(&s, "%s", "") == 0);
	TEST_STREQ(str_c(&s), "");
	TEST_ASSERT(str_appendf(&s, "%05u|%-3s|%x", 42u, "a", 255u) == 0);
	TEST_STREQ(str_c(&s), "00042|a  |ff");
	str_clear(&s);
	TEST_ASSERT(str_appendf(&s, "<%s>", big) == 0);
	TEST_ASSERT(s.len == 1002 && s.s[0] == '<' && s.s[1001] == '>');
	TEST_ASSERT(s.s[1002] == '\0');
	str_free(&s);
}

static void test_appendf_cap(void)
{
	struct str s = STR_INIT(8);

	TEST_ASSERT(str_appendf(&s, "%d", 1234) == 0);
	TEST_ASSERT(str_appendf(&s, "%s", "5678") == 0);
	TEST_STREQ(str_c(&s), "12345678");
	errno = 0;
	TEST_ASSERT(str_appendf(&s, "%c", '9') == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&s), "12345678");
	str_clear(&s);
	TEST_ASSERT(str_appendf(&s, "%s", "123456789") == -1);
	TEST_ASSERT(s.len == 0);
	TEST_STREQ(str_c(&s), "");
	str_free(&s);
}

static void test_set(void)
{
	struct str s = STR_INIT(6);

	TEST_ASSERT(str_sets(&s, "first") == 0);
	TEST_ASSERT(str_sets(&s, "two") == 0);
	TEST_STREQ(str_c(&s), "two");
	TEST_ASSERT(s.len == 3);
	errno = 0;
	TEST_ASSERT(str_sets(&s, "seventh") == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&s), "two");
	TEST_ASSERT(s.len == 3);
	TEST_ASSERT(str_set(&s, "sixsix", 6) == 0);
	TEST_STREQ(str_c(&s), "sixsix");
	TEST_ASSERT(str_set(&s, NULL, 0) == 0);
	TEST_STREQ(str_c(&s), "");
	str_free(&s);
}

static void test_truncate(void)
{
	struct str s = STR_INIT(0);

	str_truncate(&s, 0);
	str_clear(&s);
	TEST_ASSERT(s.len == 0);
	TEST_ASSERT(str_sets(&s, "abcdef") == 0);
	str_truncate(&s, 10);
	TEST_STREQ(str_c(&s), "abcdef");
	str_truncate(&s, 6);
	TEST_STREQ(str_c(&s), "abcdef");
	str_truncate(&s, 3);
	TEST_STREQ(str_c(&s), "abc");
	TEST_ASSERT(s.len == 3);
	str_clear(&s);
	TEST_STREQ(str_c(&s), "");
	TEST_ASSERT(str_appends(&s, "again") == 0);
	TEST_STREQ(str_c(&s), "again");
	str_free(&s);
}

static void test_consume(void)
{
	struct str s = STR_INIT(0);

	str_consume(&s, 0);
	str_consume(&s, 5);
	TEST_ASSERT(s.len == 0);
	TEST_ASSERT(str_sets(&s, "line1\r\nline2") == 0);
	str_consume(&s, 0);
	TEST_STREQ(str_c(&s), "line1\r\nline2");
	str_consume(&s, 7);
	TEST_STREQ(str_c(&s), "line2");
	TEST_ASSERT(s.len == 5);
	str_consume(&s, 4);
	TEST_STREQ(str_c(&s), "2");
	str_consume(&s, 1);
	TEST_STREQ(str_c(&s), "");
	TEST_ASSERT(str_sets(&s, "xyz") == 0);
	str_consume(&s, 100);
	TEST_ASSERT(s.len == 0);
	TEST_STREQ(str_c(&s), "");
	str_free(&s);
}

static void test_steal(void)
{
	struct str s = STR_INIT(0);
	char *p;

	TEST_ASSERT(str_sets(&s, "owned") == 0);
	p = str_steal(&s);
	TEST_STREQ(p, "owned");
	TEST_ASSERT(s.s == NULL && s.len == 0 && s.cap == 0);
	TEST_STREQ(str_c(&s), "");
	free(p);
	p = str_steal(&s);
	TEST_ASSERT(p != NULL);
	TEST_STREQ(p, "");
	free(p);
	TEST_ASSERT(str_appends(&s, "reuse") == 0);
	TEST_STREQ(str_c(&s), "reuse");
	str_free(&s);
}

static void test_nul_bytes(void)
{
	struct str s = STR_INIT(0);

	TEST_ASSERT(str_append(&s, "a\0b", 3) == 0);
	TEST_ASSERT(str_appendc(&s, '\0') == 0);
	TEST_ASSERT(s.len == 4);
	TEST_ASSERT(memcmp(s.s, "a\0b\0", 4) == 0);
	TEST_ASSERT(s.s[4] == '\0');
	TEST_ASSERT(strlen(str_c(&s)) == 1);
	str_consume(&s, 2);
	TEST_ASSERT(s.len == 2 && memcmp(s.s, "b\0", 2) == 0);
	TEST_ASSERT(str_set(&s, "\0\0\0", 3) == 0);
	TEST_ASSERT(s.len == 3 && s.s[0] == 0 && s.s[2] == 0);
	str_free(&s);
}

static void test_cstr_copy(void)
{
	char buf[6];

	TEST_ASSERT(cstr_copy(buf, sizeof(buf), "") == 0);
	TEST_STREQ(buf, "");
	TEST_ASSERT(cstr_copy(buf, sizeof(buf), "abcde") == 0);
	TEST_STREQ(buf, "abcde");
	errno = 0;
	TEST_ASSERT(cstr_copy(buf, sizeof(buf), "abcdef") == -1);
	TEST_ASSERT(errno == ENAMETOOLONG);
	TEST_STREQ(buf, "");
	TEST_ASSERT(cstr_copy(buf, sizeof(buf), "a much longer string") == -1);
	TEST_STREQ(buf, "");
	buf[0] = 'q';
	TEST_ASSERT(cstr_copy(buf, 0, "x") == -1);
	TEST_ASSERT(buf[0] == 'q');
	TEST_ASSERT(cstr_copy(buf, 1, "") == 0);
	TEST_STREQ(buf, "");
}

static void test_case_helpers(void)
{
	TEST_ASSERT(cstr_case_eq("Example.TEST", "example.test"));
	TEST_ASSERT(!cstr_case_eq("example.test", "example.tes"));
	TEST_ASSERT(cstr_case_eq("", ""));
	TEST_ASSERT(cstr_case_prefix("MAIL FROM:<a@b>", "mail from:"));
	TEST_ASSERT(!cstr_case_prefix("MAIL", "mail from:"));
	TEST_ASSERT(cstr_case_prefix("anything", ""));
}

/* Every byte against the digits' positions in two strings. */
static void test_hex_digit_value(void)
{
	static const char lower[] = "0123456789abcdef",
			  upper[] = "0123456789ABCDEF";

	for (int c = 1; c < 256; c++) {
		const char *l = strchr(lower, c), *u = strchr(upper, c);
		int want = l != NULL ? (int)(l - lower) :
			   u != NULL ? (int)(u - upper) : -1;

		TEST_ASSERT(hex_digit_value(c) == want);
	}
	TEST_ASSERT(hex_digit_value(0) == -1);
	TEST_ASSERT(hex_digit_value(-1) == -1);
}

TEST_MAIN(test_empty, test_append_kinds, test_growth,
	  test_cap_exact_and_one_past, test_cap_large_append_unchanged,
	  test_overflow, test_reserve_keeps_terminated, test_appendf,
	  test_appendf_cap, test_set, test_truncate, test_consume, test_steal,
	  test_nul_bytes, test_cstr_copy, test_case_helpers,
	  test_hex_digit_value)
