/*
 * test_imap_login_cmd - the commands before login as postern-imap-login
 * reads them (imapd/imap_login_cmd.h): framing, parsing, limits
 */
#include "test.h"

#include "imapd/imap_login_cmd.h"
#include "util/str.h"

static struct imap_login_cmd cmd;

static int parse(const char *text, const char **error_r)
{
	return imap_login_cmd_parse(text, strlen(text), &cmd, error_r);
}

static int parse_n(const char *text, size_t n, const char **error_r)
{
	return imap_login_cmd_parse(text, n, &cmd, error_r);
}

static void test_frame(void)
{
	static const struct {
		const char *text;
		int result;
		uint64_t size;
		int sync;
	} t[] = {
		{ "a LOGIN u p\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN {5}\r\n", IMAP_FRAME_LITERAL, 5, 1 },
		{ "a LOGIN {5+}\r\n", IMAP_FRAME_LITERAL, 5, 0 },
		{ "a LOGIN {05}\n", IMAP_FRAME_LITERAL, 5, 1 },
		{ "a LOGIN {0}\r\n", IMAP_FRAME_LITERAL, 0, 1 },
		{ "a LOGIN {99999999999}\r\n", IMAP_FRAME_LITERAL,
		  99999999999ull, 1 },
		/* 20 digits: not a literal */
		{ "a LOGIN {12345678901234567890}\r\n", IMAP_FRAME_DONE, 0, 0 },
		/* inside a quoted string, at the end: nothing announced */
		{ "a LOGIN \"{5}\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN \"x\\\" {5}\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN \"x\\\\\" {5}\r\n", IMAP_FRAME_LITERAL, 5, 1 },
		{ "a LOGIN {5} \r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN {}\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN {+}\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN {5++}\r\n", IMAP_FRAME_DONE, 0, 0 },
		/* a literal read: the next one counts, its bytes skipped */
		{ "a LOGIN {3}\r\n{5}\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN {3}\r\n{4} {2+}\r\n", IMAP_FRAME_LITERAL, 2, 0 },
		{ "a LOGIN {5}\r\nalice \"pw\"\r\n", IMAP_FRAME_DONE, 0, 0 },
		{ "a LOGIN {5}\r\n\"ali\" {2}\r\n", IMAP_FRAME_LITERAL, 2, 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t size = 0;
		int sync = -1;
		int r = imap_login_cmd_frame(t[i].text, strlen(t[i].text),
					     &size, &sync);

		if (r != t[i].result)
			printf("  frame %zu: %s\n", i, t[i].text);
		TEST_ASSERT(r == t[i].result);
		if (r == IMAP_FRAME_LITERAL) {
			TEST_ASSERT(size == t[i].size);
			TEST_ASSERT(sync == t[i].sync);
		}
	}
}

static void test_simple(void)
{
	const char *error = NULL;

	TEST_ASSERT(parse("a1 CAPABILITY\r\n", &error) == 0);
	TEST_STREQ(cmd.tag, "a1");
	TEST_ASSERT(cmd.tag_len == 2);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_CAPABILITY);
	TEST_ASSERT(parse("A0001 noop\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_NOOP);
	TEST_STREQ(cmd.name, "noop");
	TEST_ASSERT(parse("x] LogOut\r\n", &error) == 0);
	TEST_STREQ(cmd.tag, "x]");
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_LOGOUT);
	TEST_ASSERT(parse("t StartTLS\r\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_STARTTLS);
	/* refused whatever follows: not parsed further */
	TEST_ASSERT(parse("t SELECT INBOX ((( {\r\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_LATER);
	TEST_ASSERT(parse("t ENABLE IMAP4rev2\r\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_ENABLE);
	TEST_ASSERT(parse("t XYZZY\r\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_UNKNOWN);
}

static void test_login_args(void)
{
	const char *error = NULL;
	static const char lit[] = "a LOGIN {5}\r\nal\0ce pw\r\n";

	TEST_ASSERT(parse("a LOGIN alice@example.test secret\r\n",
			  &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_LOGIN && cmd.nargs == 2);
	TEST_STREQ(cmd.arg[0].s, "alice@example.test");
	TEST_STREQ(cmd.arg[1].s, "secret");
	TEST_ASSERT(cmd.arg[0].type == IMAP_ARG_ATOM);
	TEST_ASSERT(parse("a LOGIN \"al ice\" \"p\\\"w\\\\\"\r\n", &error)
		    == 0);
	TEST_STREQ(cmd.arg[0].s, "al ice");
	TEST_STREQ(cmd.arg[1].s, "p\"w\\");
	TEST_ASSERT(cmd.arg[1].type == IMAP_ARG_STRING);
	TEST_ASSERT(parse("a LOGIN {5}\r\nalice {7+}\r\npa ss\"w\r\n", &error)
		    == 0);
	TEST_STREQ(cmd.arg[0].s, "alice");
	TEST_STREQ(cmd.arg[1].s, "pa ss\"w");
	TEST_ASSERT(cmd.arg[1].len == 7);
	TEST_ASSERT(parse("a LOGIN \"\" {0}\r\n\r\n", &error) == 0);
	TEST_ASSERT(cmd.arg[0].len == 0 && cmd.arg[1].len == 0);
	/* UTF-8 passes through */
	TEST_ASSERT(parse("a LOGIN u \"p\xc3\xa4ss\"\r\n", &error) == 0);
	TEST_STREQ(cmd.arg[1].s, "p\xc3\xa4ss");
	/* a NUL in a literal is refused */
	TEST_ASSERT(parse_n(lit, sizeof(lit) - 1, &error) < 0);
	TEST_STREQ(error, "NUL in literal.");
	TEST_STREQ(cmd.tag, "a");
	TEST_ASSERT(parse("a LOGIN alice\r\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN a b c\r\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN (a) b\r\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN a  b\r\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN a b \r\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN \"a\\b\" c\r\n", &error) < 0);
	TEST_STREQ(error, "Invalid escape in quoted string.");
	TEST_ASSERT(parse("a LOGIN \"a\r\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN \"a\" b", &error) < 0);	/* no LF */
	TEST_ASSERT(parse("a LOGIN a b\rx\n", &error) < 0);
	TEST_ASSERT(parse("a LOGIN a% b\r\n", &error) < 0);
}

static void test_authenticate_args(void)
{
	const char *error = NULL;

	TEST_ASSERT(parse("a AUTHENTICATE PLAIN\r\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_AUTHENTICATE && cmd.nargs == 1);
	TEST_ASSERT(parse("a authenticate plain AGFsaWNlAHNlY3JldA==\r\n",
			  &error) == 0);
	TEST_STREQ(cmd.arg[1].s, "AGFsaWNlAHNlY3JldA==");
	TEST_ASSERT(parse("a AUTHENTICATE PLAIN =\r\n", &error) == 0);
	TEST_STREQ(cmd.arg[1].s, "=");
	TEST_ASSERT(parse("a AUTHENTICATE +/9=\r\n", &error) == 0);
	TEST_ASSERT(parse("a AUTHENTICATE\r\n", &error) < 0);
	TEST_ASSERT(parse("a AUTHENTICATE PLAIN x y\r\n", &error) < 0);
	TEST_ASSERT(parse("a AUTHENTICATE \"PLAIN\"\r\n", &error) < 0);
}

static void test_id_args(void)
{
	const char *error = NULL;
	char text[4096];
	struct str big = STR_INIT(0);

	TEST_ASSERT(parse("a ID NIL\r\n", &error) == 0);
	TEST_ASSERT(cmd.verb == IMAP_LOGIN_ID && cmd.nargs == 1);
	TEST_ASSERT(parse("a ID ()\r\n", &error) == 0);
	TEST_ASSERT(parse("a ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n",
			  &error) == 0);
	TEST_ASSERT(cmd.nargs == 6);
	TEST_ASSERT(cmd.arg[0].type == IMAP_ARG_LIST_OPEN);
	TEST_STREQ(cmd.arg[2].s, "Thunderbird");
	TEST_ASSERT(cmd.arg[5].type == IMAP_ARG_LIST_CLOSE);
	TEST_ASSERT(parse("a ID (\"name\" {3}\r\nK-9)\r\n", &error) == 0);
	TEST_STREQ(cmd.arg[2].s, "K-9");
	TEST_ASSERT(parse("a ID (name \"x\")\r\n", &error) < 0);
	TEST_ASSERT(parse("a ID (\"name\")\r\n", &error) < 0);
	TEST_ASSERT(parse("a ID (\"a\" (\"b\"))\r\n", &error) < 0);
	TEST_STREQ(error, "Nested list.");
	TEST_ASSERT(parse("a ID (\"a\" \"b\"\r\n", &error) < 0);
	TEST_ASSERT(parse("a ID (\"a\" \"b\") x\r\n", &error) < 0);
	TEST_ASSERT(parse("a ID\r\n", &error) < 0);
	/* field 30 bytes, value 1024; 30 pairs */
	snprintf(text, sizeof(text), "a ID (\"%030d\" \"x\")\r\n", 0);
	TEST_ASSERT(parse(text, &error) == 0);
	snprintf(text, sizeof(text), "a ID (\"%031d\" \"x\")\r\n", 0);
	TEST_ASSERT(parse(text, &error) < 0);
	snprintf(text, sizeof(text), "a ID (\"f\" \"%01024d\")\r\n", 0);
	TEST_ASSERT(parse(text, &error) == 0);
	snprintf(text, sizeof(text), "a ID (\"f\" \"%01025d\")\r\n", 0);
	TEST_ASSERT(parse(text, &error) < 0);
	str_sets(&big, "a ID (");
	for (int k = 0; k < 31; k++)
		str_appendf(&big, "%s\"f%d\" NIL", k ? " " : "", k);
	str_appends(&big, ")\r\n");
	TEST_ASSERT(parse(str_c(&big), &error) < 0);
	TEST_STREQ(error, "Too many ID fields.");
	str_free(&big);
}

static void test_tags(void)
{
	const char *error = NULL;

	TEST_ASSERT(parse("\r\n", &error) < 0);
	TEST_STREQ(error, "Empty command line.");
	TEST_ASSERT(cmd.tag == NULL);
	TEST_ASSERT(parse("+a NOOP\r\n", &error) < 0);
	TEST_ASSERT(cmd.tag == NULL);
	TEST_ASSERT(parse("a+ NOOP\r\n", &error) < 0);
	TEST_ASSERT(parse("a\"b NOOP\r\n", &error) < 0);
	TEST_ASSERT(parse(" NOOP\r\n", &error) < 0);
	TEST_ASSERT(parse("a1\r\n", &error) < 0);
	TEST_STREQ(error, "Missing command.");
	TEST_STREQ(cmd.tag, "a1");
	TEST_ASSERT(parse("a1 \r\n", &error) < 0);
	TEST_STREQ(cmd.tag, "a1");
	TEST_ASSERT(parse("a1 NO]OP\r\n", &error) < 0);
	TEST_ASSERT(parse("a1 NOOP x\r\n", &error) < 0);
	TEST_STREQ(error, "Unexpected arguments.");
	TEST_ASSERT(imap_login_cmd_tag("a1 x", 4) == 2);
	TEST_ASSERT(imap_login_cmd_tag("a1\r\n", 4) == 2);
	TEST_ASSERT(imap_login_cmd_tag("a1", 2) == 0);
	TEST_ASSERT(imap_login_cmd_tag("a+1 x", 5) == 0);
	TEST_ASSERT(imap_login_cmd_tag(" x", 2) == 0);
}

static void test_limits(void)
{
	const char *error = NULL;
	struct str text = STR_INIT(0);

	/* 64 arguments: the ID list of 31 pairs would be 64 with its
	 * parentheses; 33 pairs overflow the table */
	str_sets(&text, "a ID (");
	for (int k = 0; k < 33; k++)
		str_appends(&text, "\"f\" NIL ");
	str_appends(&text, "\"f\" NIL)\r\n");
	TEST_ASSERT(parse(str_c(&text), &error) < 0);
	TEST_STREQ(error, "Too many arguments.");
	str_clear(&text);
	str_appends(&text, "a LOGIN u \"");
	while (text.len < IMAP_LOGIN_CMD_MAX - 2)
		str_appendc(&text, 'x');
	str_appends(&text, "\"\n");
	TEST_ASSERT(text.len == IMAP_LOGIN_CMD_MAX);
	TEST_ASSERT(parse(str_c(&text), &error) == 0);
	str_truncate(&text, text.len - 2);
	str_appends(&text, "x\"\n");
	TEST_ASSERT(parse(str_c(&text), &error) < 0);
	TEST_STREQ(error, "Command line too long.");
	/* a literal's announced size beyond the input */
	TEST_ASSERT(parse("a LOGIN {50}\r\nab\r\n", &error) < 0);
	TEST_STREQ(error, "Incomplete literal.");
	imap_login_cmd_wipe(&cmd);
	for (size_t i = 0; i < sizeof(cmd.buf); i++)
		if (cmd.buf[i] != 0) {
			TEST_ASSERT(!"wiped");
			break;
		}
	str_free(&text);
}

TEST_MAIN(test_frame, test_simple, test_login_args, test_authenticate_args,
	  test_id_args, test_tags, test_limits)
