/*
 * test_pop3 - the POP3 command parser (Maildir names: test_maildir_name.c;
 * the address -> Maildir rule: test_mailbox_path.c; the hand-over line:
 * test_login_handover.c)
 */
#include "test.h"

#include "pop3d/pop3_cmd.h"

static int parse(const char *line, struct pop3_cmd *cmd, const char **err)
{
	*err = NULL;
	return pop3_cmd_parse(line, strlen(line), cmd, err);
}

static void test_cmd_simple(void)
{
	struct pop3_cmd c;
	const char *e;

	TEST_ASSERT(parse("STAT\r\n", &c, &e) == 0 && c.kind == POP3_STAT);
	TEST_ASSERT(parse("stat\n", &c, &e) == 0 && c.kind == POP3_STAT);
	TEST_ASSERT(parse("QuIt", &c, &e) == 0 && c.kind == POP3_QUIT);
	TEST_ASSERT(parse("STAT 1\r\n", &c, &e) < 0 && c.kind == POP3_STAT);
	TEST_ASSERT(parse("STAT \r\n", &c, &e) < 0);
	TEST_ASSERT(parse("XYZZY\r\n", &c, &e) < 0 && c.kind == POP3_UNKNOWN);
	TEST_ASSERT(parse("\r\n", &c, &e) < 0 && c.kind == POP3_UNKNOWN);
	TEST_ASSERT(parse("ST\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("STATS\r\n", &c, &e) < 0);
	TEST_STREQ(pop3_cmd_name(POP3_TOP), "TOP");
}

static void test_cmd_numbers(void)
{
	struct pop3_cmd c;
	const char *e;

	TEST_ASSERT(parse("LIST\r\n", &c, &e) == 0 && c.nnums == 0);
	TEST_ASSERT(parse("LIST 12\r\n", &c, &e) == 0 && c.nnums == 1 &&
		    c.num[0] == 12);
	TEST_ASSERT(parse("LIST 0\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("LIST 1 2\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("LIST -1\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("LIST +1\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("LIST 1 \r\n", &c, &e) < 0);
	TEST_ASSERT(parse("LIST  1\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("RETR\r\n", &c, &e) < 0 && c.kind == POP3_RETR);
	TEST_ASSERT(parse("RETR 1234567890\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("retr 999999999\r\n", &c, &e) == 0 &&
		    c.num[0] == 999999999ul);
	TEST_ASSERT(parse("TOP 3 0\r\n", &c, &e) == 0 && c.nnums == 2 &&
		    c.num[0] == 3 && c.num[1] == 0);
	TEST_ASSERT(parse("TOP 3\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("TOP 0 3\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("TOP 1 2 3\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("DELE 1x\r\n", &c, &e) < 0 && e != NULL);
}

static void test_cmd_text(void)
{
	struct pop3_cmd c;
	const char *e;

	TEST_ASSERT(parse("USER a@b.test\r\n", &c, &e) == 0 &&
		    c.arg_len == 8 && memcmp(c.arg, "a@b.test", 8) == 0);
	TEST_ASSERT(parse("PASS two words \r\n", &c, &e) == 0 &&
		    c.arg_len == 10);
	TEST_ASSERT(parse("PASS\r\n", &c, &e) < 0 && c.kind == POP3_PASS);
	TEST_ASSERT(parse("USER a\0b\r\n", &c, &e) == 0);
	TEST_ASSERT(pop3_cmd_parse("USER a\0b\r\n", 10, &c, &e) < 0);
	TEST_ASSERT(pop3_cmd_parse("USER a\rb\r\n", 10, &c, &e) < 0);
}

static void test_cmd_auth(void)
{
	struct pop3_cmd c;
	const char *e;

	TEST_ASSERT(parse("AUTH\r\n", &c, &e) == 0 && c.mech[0] == '\0');
	TEST_ASSERT(parse("AUTH plain\r\n", &c, &e) == 0 &&
		    strcmp(c.mech, "PLAIN") == 0 && c.ir == NULL);
	TEST_ASSERT(parse("AUTH PLAIN AGEAYg==\r\n", &c, &e) == 0 &&
		    c.ir_len == 8 && memcmp(c.ir, "AGEAYg==", 8) == 0);
	TEST_ASSERT(parse("AUTH PLAIN =\r\n", &c, &e) == 0 && c.ir_len == 1);
	TEST_ASSERT(parse("AUTH PLAIN a b\r\n", &c, &e) < 0);
	TEST_ASSERT(parse("AUTH PLAIN \r\n", &c, &e) < 0);
	TEST_ASSERT(parse("AUTH ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n", &c, &e) < 0);
}

TEST_MAIN(test_cmd_simple, test_cmd_numbers, test_cmd_text, test_cmd_auth)
