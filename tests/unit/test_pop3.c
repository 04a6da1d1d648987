/*
 * test_pop3 - the POP3 command parser and Maildir name reading (the
 * hand-over line: test_login_handover.c)
 */
#include "test.h"

#include "pop3d/pop3_cmd.h"
#include "proto/login_handover.h"
#include "mail/pop3_mname.h"

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

static void test_mname_parse(void)
{
	struct pop3_mname m;
	const char *n1 = "1700000000.M1P2.host,S=123:2,S";
	const char *n2 = "1700000001.M5P6Q1.mail.example.test,S=10,W=12";

	TEST_ASSERT(pop3_mname_parse(n1, &m) == 0);
	TEST_ASSERT(m.base_len == 26 && m.has_size && m.size == 123 &&
		    !m.has_vsize && m.stamp == UINT64_C(1700000000000001));
	TEST_STREQ(m.flags, "S");
	TEST_ASSERT(pop3_mname_parse(n2, &m) == 0 && m.flags == NULL &&
		    m.base_len == strlen(n2) && m.size == 10 &&
		    m.vsize == 12);
	TEST_ASSERT(pop3_mname_parse("x,S=1a,W=,S=", &m) == 0 &&
		    !m.has_size && !m.has_vsize && m.stamp == 0);
	TEST_ASSERT(pop3_mname_parse("123,S=99999999999999999999", &m) == 0 &&
		    !m.has_size);
	TEST_ASSERT(pop3_mname_parse("1.a:1,xyz", &m) == 0 &&
		    m.flags == NULL && m.base_len == 3);
	TEST_ASSERT(pop3_mname_parse(".hidden", &m) < 0);
	TEST_ASSERT(pop3_mname_parse("", &m) < 0);
	TEST_ASSERT(pop3_mname_parse(":2,S", &m) < 0);
	TEST_ASSERT(pop3_mname_parse("a b", &m) < 0);
	TEST_ASSERT(pop3_mname_parse("a/b", &m) < 0);
}

static void test_mname_flags(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(pop3_mname_add_flag("1.a,S=1", 'S', &out) == 1);
	TEST_STREQ(str_c(&out), "1.a,S=1:2,S");
	TEST_ASSERT(pop3_mname_add_flag("1.a:2,", 'S', &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,S");
	TEST_ASSERT(pop3_mname_add_flag("1.a:2,FT", 'S', &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,FST");
	TEST_ASSERT(pop3_mname_add_flag("1.a:2,RTa", 'S', &out) == 1);
	TEST_STREQ(str_c(&out), "1.a:2,RSTa");
	TEST_ASSERT(pop3_mname_add_flag("1.a:2,FS", 'S', &out) == 0);
	TEST_ASSERT(pop3_mname_add_flag("1.a:1,x", 'S', &out) < 0);
	TEST_ASSERT(pop3_mname_add_flag("1.a", '1', &out) < 0);
	str_free(&out);
}

static void test_mname_order(void)
{
	TEST_ASSERT(pop3_mname_cmp("999.a", "1000.a") < 0);
	TEST_ASSERT(pop3_mname_cmp("1000.b", "1000.a") > 0);
	TEST_ASSERT(pop3_mname_cmp("1000.a", "1000.a") == 0);
	/* microseconds are not zero-padded: 99999 comes before 123456,
	 * although "M99999P" sorts after "M123456" as a string */
	TEST_ASSERT(pop3_mname_cmp("1000.M99999P7Q1.h,S=1",
				   "1000.M123456P7Q2.h,S=1") < 0);
	TEST_ASSERT(pop3_mname_cmp("1000.M123456P7Q2.h", "1000.M99999P7Q1.h")
		    > 0);
	TEST_ASSERT(pop3_mname_stamp("1000.M5P1.h") == UINT64_C(1000000005));
	TEST_ASSERT(pop3_mname_stamp("1000.Mx.h") == UINT64_C(1000000000));
	TEST_ASSERT(pop3_mname_stamp("abc") == 0);
}

static void test_crlf_size(void)
{
	int cr = 0;

	TEST_ASSERT(pop3_crlf_size("a\nb\r\n", 5, &cr) == 6 && !cr);
	TEST_ASSERT(pop3_crlf_size("a\r", 2, &cr) == 2 && cr);
	TEST_ASSERT(pop3_crlf_size("\nb", 2, &cr) == 2 && !cr);
	TEST_ASSERT(pop3_crlf_size("", 0, &cr) == 0);
}

static void test_mailbox_parts(void)
{
	struct str u = STR_INIT(0), d = STR_INIT(0);

	TEST_ASSERT(pop3_mailbox_parts("a.b@ex.test", &u, &d) == 0);
	TEST_STREQ(str_c(&u), "a.b");
	TEST_STREQ(str_c(&d), "ex.test");
	TEST_ASSERT(pop3_mailbox_parts("x@y@ex.test", &u, &d) == 0);
	TEST_STREQ(str_c(&u), "x@y");
	TEST_ASSERT(pop3_mailbox_parts("..@ex.test", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts("a@..", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts("a/b@ex.test", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts("a@ex/test", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts("@ex.test", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts("a@", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts("nodomain", &u, &d) < 0);
	TEST_ASSERT(pop3_mailbox_parts(".hidden@ex.test", &u, &d) < 0);
	str_free(&u);
	str_free(&d);
}

TEST_MAIN(test_mailbox_parts, test_cmd_simple, test_cmd_numbers, test_cmd_text, test_cmd_auth,
	  test_mname_parse, test_mname_flags, test_mname_order,
	  test_crlf_size)
