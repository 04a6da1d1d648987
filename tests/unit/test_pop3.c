/*
 * test_pop3 - the POP3 command parser and the hand-over line (Maildir
 * names: test_maildir_name.c; the address -> Maildir rule:
 * test_mailbox_path.c)
 */
#include "test.h"

/* A string literal parsed whole (its length without the NUL). */
#define PARSE_LITERAL(lit) pop3_handover_parse(lit, sizeof(lit) - 1, &h, &used)

#include "pop3d/pop3_cmd.h"
#include "proto/pop3_handover.h"

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

static void test_handover(void)
{
	struct str line = STR_INIT(0);
	struct pop3_handover h;
	const char *in = "LOGIN\tu@d.test\t127.0.0.1\t1\nSTAT\r\n";
	size_t used;

	TEST_ASSERT(pop3_handover_format(&line, "u@d.test", "::1", 0) == 0);
	TEST_STREQ(str_c(&line), "LOGIN\tu@d.test\t::1\t0\n");
	TEST_ASSERT(pop3_handover_format(&line, "u\t@d", "::1", 0) < 0);
	TEST_ASSERT(pop3_handover_format(&line, "", "::1", 0) < 0);
	TEST_ASSERT(pop3_handover_parse(in, strlen(in), &h, &used) == 0);
	TEST_ASSERT(used == strlen(in) - 6 && h.tls == 1);
	TEST_STREQ(h.address, "u@d.test");
	TEST_STREQ(h.ip, "127.0.0.1");
	TEST_ASSERT(PARSE_LITERAL("LOGIN\ta\tb\t2\n") < 0);
	TEST_ASSERT(PARSE_LITERAL("LOGIN\ta\tb\t1") < 0);
	TEST_ASSERT(PARSE_LITERAL("LOGIN\ta\tb\tc\t1\n") < 0);
	TEST_ASSERT(PARSE_LITERAL("LOGIN\t\tb\t1\n") < 0);
	TEST_ASSERT(PARSE_LITERAL("LOGOUT\ta\tb\t1\n") < 0);
	str_free(&line);
}

TEST_MAIN(test_handover, test_cmd_simple, test_cmd_numbers, test_cmd_text,
	  test_cmd_auth)
