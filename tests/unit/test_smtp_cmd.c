/*
 * test_smtp_cmd - SMTP command line parsing (smtpd/smtp_cmd.c):
 * verbs, syntax and the reply each error asks for
 *
 * One table: the line, the flags, and the expected result, verb, reply
 * code and enhanced status code; on error a word of the message. The
 * fields each verb fills in are checked in test_smtp_cmd_fields.c.
 */
#include <string.h>

#include "test.h"
#include "util/str.h"
#include "smtpd/smtp_cmd.h"

#define UTF8 SMTP_CMD_ALLOW_UTF8
#define TXN SMTP_CMD_TXN_UTF8
#define RELAY SMTP_CMD_RELAY_TRICKS

struct cmd_case {
	const char *line;
	unsigned flags;
	int ret;
	enum smtp_verb verb;
	int code;		/* 0 on success */
	const char *enhanced;	/* NULL on success */
	const char *error;	/* a substring of the message on failure */
};

static void case_check(const struct cmd_case *c)
{
	static struct smtp_cmd cmd;
	const char *error = NULL;
	int r = smtp_cmd_parse(c->line, strlen(c->line), c->flags, &cmd,
			       &error);

	if (r != c->ret || cmd.code != c->code)
		printf("  case \"%s\": %d %d %s %s\n", c->line, r, cmd.code,
		       cmd.enhanced ? cmd.enhanced : "", error ? error : "");
	TEST_ASSERT(r == c->ret);
	TEST_ASSERT(cmd.verb == c->verb);
	TEST_ASSERT(cmd.code == c->code);
	if (c->enhanced == NULL) {
		TEST_ASSERT(cmd.enhanced == NULL);
		return;
	}
	TEST_STREQ(cmd.enhanced, c->enhanced);
	TEST_ASSERT(error != NULL && strstr(error, c->error) != NULL);
	if (error != NULL && strstr(error, c->error) == NULL)
		printf("  case \"%s\": error \"%s\"\n", c->line, error);
}

static void cases_run(const struct cmd_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		case_check(&cases[i]);
}

#define RUN(cases) cases_run(cases, sizeof(cases) / sizeof(cases[0]))
#define OK(line, flags, verb) { line, flags, 0, verb, 0, NULL, NULL }
#define BAD(line, flags, verb, code, enh, err) \
	{ line, flags, -1, verb, code, enh, err }

static void test_verbs(void)
{
	static const struct cmd_case cases[] = {
		OK("HELO mail.example.com", 0, SMTP_HELO),
		OK("EHLO mail.example.com", 0, SMTP_EHLO),
		OK("MAIL FROM:<a@b>", 0, SMTP_MAIL),
		OK("RCPT TO:<a@b>", 0, SMTP_RCPT),
		OK("DATA", 0, SMTP_DATA),
		OK("BDAT 10", 0, SMTP_BDAT),
		OK("RSET", 0, SMTP_RSET),
		OK("NOOP", 0, SMTP_NOOP),
		OK("QUIT", 0, SMTP_QUIT),
		OK("VRFY user", 0, SMTP_VRFY),
		OK("HELP", 0, SMTP_HELP),
		OK("STARTTLS", 0, SMTP_STARTTLS),
		OK("AUTH PLAIN", 0, SMTP_AUTH),
		BAD("FOO", 0, SMTP_UNKNOWN, 500, "5.5.1", "unrecognized"),
		BAD("MAILX FROM:<a@b>", 0, SMTP_UNKNOWN, 500, "5.5.1",
		    "unrecognized"),
		BAD("MAI", 0, SMTP_UNKNOWN, 500, "5.5.1", "unrecognized"),
		BAD("STARTTLSX", 0, SMTP_UNKNOWN, 500, "5.5.1", "unrecognized"),
		BAD("GET / HTTP/1.0", 0, SMTP_UNKNOWN, 500, "5.5.1",
		    "unrecognized"),
	};
	RUN(cases);
}

static void test_case_and_spaces(void)
{
	static const struct cmd_case cases[] = {
		OK("quit", 0, SMTP_QUIT),
		OK("QuIt", 0, SMTP_QUIT),
		OK("QUIT ", 0, SMTP_QUIT),
		OK("QUIT    ", 0, SMTP_QUIT),
		OK("data  ", 0, SMTP_DATA),
		OK("starttls", 0, SMTP_STARTTLS),
		OK("mail from:<a@b>", 0, SMTP_MAIL),
		OK("Mail From:<a@b>", 0, SMTP_MAIL),
		OK("rcpt to:<a@b>", 0, SMTP_RCPT),
		OK("MAIL   FROM:<a@b>", 0, SMTP_MAIL),
		OK("MAIL FROM: <a@b>", 0, SMTP_MAIL),
		OK("MAIL FROM:  <a@b>  ", 0, SMTP_MAIL),
		OK("MAIL FROM:<a@b>  SIZE=10   BODY=7BIT ", 0, SMTP_MAIL),
		OK("ehlo   host", 0, SMTP_EHLO),
		BAD("", 0, SMTP_UNKNOWN, 500, "5.5.2", "no command"),
		BAD("   ", 0, SMTP_UNKNOWN, 500, "5.5.2", "no command"),
		BAD(" QUIT", 0, SMTP_UNKNOWN, 500, "5.5.2", "no command"),
		BAD("MAIL FROM :<a@b>", 0, SMTP_MAIL, 501, "5.5.4", "syntax"),
		BAD("MAIL FROM<a@b>", 0, SMTP_MAIL, 501, "5.5.4", "syntax"),
	};
	RUN(cases);
}

static void test_no_argument_verbs(void)
{
	static const struct cmd_case cases[] = {
		BAD("DATA x", 0, SMTP_DATA, 501, "5.5.4", "syntax"),
		BAD("RSET now", 0, SMTP_RSET, 501, "5.5.4", "syntax"),
		BAD("QUIT bye", 0, SMTP_QUIT, 501, "5.5.4", "syntax"),
		BAD("STARTTLS x", 0, SMTP_STARTTLS, 501, "5.5.4", "syntax"),
		OK("NOOP anything at all", 0, SMTP_NOOP),
		OK("HELP MAIL", 0, SMTP_HELP),
		OK("VRFY <user@example.com>", 0, SMTP_VRFY),
		OK("VRFY", 0, SMTP_VRFY),
		OK("VRFY gr\xc3\xbc\xc3\x9f", 0, SMTP_VRFY),
		BAD("VRFY \xff", 0, SMTP_VRFY, 501, "5.5.4", "UTF-8"),
		BAD("NOOP \xc0\xaf", 0, SMTP_NOOP, 501, "5.5.4", "UTF-8"),
	};
	RUN(cases);
}

static void test_helo(void)
{
	static const struct cmd_case cases[] = {
		OK("EHLO [192.0.2.1]", 0, SMTP_EHLO),
		OK("EHLO [IPv6:2001:db8::1]", 0, SMTP_EHLO),
		OK("HELO my_pc", 0, SMTP_HELO),
		OK("EHLO bl\xc3\xa5" "b\xc3\xa6r.example", UTF8, SMTP_EHLO),
		BAD("EHLO", 0, SMTP_EHLO, 501, "5.5.4", "EHLO hostname"),
		BAD("HELO", 0, SMTP_HELO, 501, "5.5.4", "HELO hostname"),
		BAD("HELO ", 0, SMTP_HELO, 501, "5.5.4", "HELO hostname"),
		BAD("EHLO a b", 0, SMTP_EHLO, 501, "5.5.4", "EHLO hostname"),
		BAD("EHLO bl\xc3\xa5" "b\xc3\xa6r.example", 0, SMTP_EHLO, 501,
		    "5.5.4", "8-bit"),
		BAD("EHLO \xc3", UTF8, SMTP_EHLO, 501, "5.5.4", "8-bit"),
	};
	RUN(cases);
}

static void test_mail_syntax(void)
{
	static const struct cmd_case cases[] = {
		OK("MAIL FROM:<>", 0, SMTP_MAIL),
		OK("MAIL FROM:<> BODY=8BITMIME", 0, SMTP_MAIL),
		OK("MAIL FROM:<\"a b\"@example.com>", 0, SMTP_MAIL),
		OK("MAIL FROM:<a%b@c>", RELAY, SMTP_MAIL),
		BAD("MAIL", 0, SMTP_MAIL, 501, "5.5.4", "MAIL FROM:<address>"),
		BAD("MAIL FROM:", 0, SMTP_MAIL, 501, "5.5.4", "MAIL FROM:"),
		BAD("MAIL FROM:a@b", 0, SMTP_MAIL, 501, "5.5.4", "MAIL FROM:"),
		BAD("MAIL TO:<a@b>", 0, SMTP_MAIL, 501, "5.5.4", "MAIL FROM:"),
		BAD("MAIL FROM:<a@b>x", 0, SMTP_MAIL, 501, "5.5.4",
		    "after the address"),
		BAD("MAIL FROM:<a@b>SIZE=1", 0, SMTP_MAIL, 501, "5.5.4",
		    "after the address"),
		BAD("MAIL FROM:<@a,@b:u@d>", 0, SMTP_MAIL, 553, "5.1.7",
		    "source routes"),
		BAD("MAIL FROM:<a@b", 0, SMTP_MAIL, 553, "5.1.7", "missing '>'"),
		BAD("MAIL FROM:<a@b.>", 0, SMTP_MAIL, 553, "5.1.7", "dot"),
		BAD("MAIL FROM:<a>", 0, SMTP_MAIL, 553, "5.1.7", "no domain"),
		BAD("MAIL FROM:<Postmaster>", 0, SMTP_MAIL, 553, "5.1.7",
		    "no domain"),
	};
	RUN(cases);
}

static void test_rcpt_syntax(void)
{
	static const struct cmd_case cases[] = {
		OK("RCPT TO:<Postmaster>", 0, SMTP_RCPT),
		OK("RCPT TO:<postmaster>", 0, SMTP_RCPT),
		OK("RCPT TO: <a@[127.0.0.1]>", 0, SMTP_RCPT),
		OK("RCPT TO:<a%b@c>", 0, SMTP_RCPT),
		BAD("RCPT TO:<a%b@c>", RELAY, SMTP_RCPT, 553, "5.1.3", "%-hack"),
		BAD("RCPT TO:<a!b@c>", RELAY, SMTP_RCPT, 553, "5.1.3",
		    "bang path"),
		BAD("RCPT TO:<>", 0, SMTP_RCPT, 553, "5.1.3", "null address"),
		BAD("RCPT TO:<root>", 0, SMTP_RCPT, 553, "5.1.3", "no domain"),
		BAD("RCPT FROM:<a@b>", 0, SMTP_RCPT, 501, "5.5.4", "RCPT TO:"),
		BAD("RCPT TO:a@b", 0, SMTP_RCPT, 501, "5.5.4", "RCPT TO:"),
		BAD("RCPT", 0, SMTP_RCPT, 501, "5.5.4", "RCPT TO:"),
		BAD("RCPT TO:<@x:a@b>", 0, SMTP_RCPT, 553, "5.1.3",
		    "source routes"),
		BAD("RCPT TO:<a@[300.1.1.1]>", 0, SMTP_RCPT, 553, "5.1.3",
		    "IPv4"),
	};
	RUN(cases);
}

static void test_utf8(void)
{
	static const struct cmd_case cases[] = {
		OK("MAIL FROM:<\xce\xb4@x> SMTPUTF8", UTF8, SMTP_MAIL),
		OK("MAIL FROM:<a@\xce\xb4> SMTPUTF8 BODY=8BITMIME", UTF8,
		   SMTP_MAIL),
		OK("MAIL FROM:<a@b> SMTPUTF8", UTF8, SMTP_MAIL),
		OK("RCPT TO:<\xce\xb4@x>", TXN, SMTP_RCPT),
		BAD("MAIL FROM:<\xce\xb4@x>", UTF8, SMTP_MAIL, 553, "5.6.7",
		    "SMTPUTF8"),
		BAD("MAIL FROM:<\xce\xb4@x>", 0, SMTP_MAIL, 553, "5.6.7",
		    "SMTPUTF8"),
		BAD("MAIL FROM:<\xce\xb4@x> SMTPUTF8", 0, SMTP_MAIL, 555,
		    "5.5.4", "SMTPUTF8"),
		BAD("MAIL FROM:<a@b> SMTPUTF8=yes", UTF8, SMTP_MAIL, 501,
		    "5.5.4", "no value"),
		BAD("RCPT TO:<\xce\xb4@x>", UTF8, SMTP_RCPT, 553, "5.6.7",
		    "SMTPUTF8"),
		BAD("MAIL FROM:<\xc0\xaf@x> SMTPUTF8", UTF8, SMTP_MAIL, 553,
		    "5.1.7", "UTF-8"),
		BAD("RCPT TO:<\xed\xa0\x80@x>", TXN, SMTP_RCPT, 553, "5.1.3",
		    "UTF-8"),
	};
	RUN(cases);
}

static void test_line_checks(void)
{
	static const struct cmd_case cases[] = {
		BAD("QUIT\r", 0, SMTP_UNKNOWN, 500, "5.5.2", "CR, LF or NUL"),
		BAD("NOOP a\nb", 0, SMTP_UNKNOWN, 500, "5.5.2", "CR, LF or NUL"),
		BAD("MAIL FROM:<a\rb@c>", 0, SMTP_UNKNOWN, 500, "5.5.2",
		    "CR, LF or NUL"),
		BAD("NOOP \t", 0, SMTP_UNKNOWN, 500, "5.5.2", "control"),
		BAD("QUIT\x7f", 0, SMTP_UNKNOWN, 500, "5.5.2", "control"),
		BAD("HELO a\x1b[2J", 0, SMTP_UNKNOWN, 500, "5.5.2", "control"),
	};
	static struct smtp_cmd cmd;
	static const char nul_line[] = "RCPT TO:<a@b\0c>";
	struct str line = STR_INIT(0);
	const char *error = NULL;

	RUN(cases);
	TEST_ASSERT(smtp_cmd_parse(nul_line, sizeof(nul_line) - 1, 0, &cmd,
				   &error) == -1);
	TEST_ASSERT(cmd.code == 500 && strstr(error, "NUL") != NULL);

	TEST_ASSERT(str_appends(&line, "NOOP ") == 0);
	while (line.len < SMTP_CMD_LINE_MAX)
		TEST_ASSERT(str_appendc(&line, 'x') == 0);
	TEST_ASSERT(smtp_cmd_parse(line.s, line.len, 0, &cmd, &error) == 0);
	TEST_ASSERT(cmd.arg_len == SMTP_CMD_LINE_MAX - 5);
	TEST_ASSERT(str_appendc(&line, 'x') == 0);
	TEST_ASSERT(smtp_cmd_parse(line.s, line.len, 0, &cmd, &error) == -1);
	TEST_ASSERT(cmd.code == 500);
	TEST_STREQ(cmd.enhanced, "5.5.2");
	TEST_ASSERT(strstr(error, "too long") != NULL);
	str_free(&line);
}

static void test_null_error_r(void)
{
	static struct smtp_cmd cmd;

	TEST_ASSERT(smtp_cmd_parse("FOO", 3, 0, &cmd, NULL) == -1);
	TEST_ASSERT(cmd.code == 500);
	TEST_ASSERT(smtp_cmd_parse("QUIT", 4, 0, &cmd, NULL) == 0);
	TEST_ASSERT(cmd.code == 0 && cmd.enhanced == NULL);
}

static void test_verb_names(void)
{
	TEST_STREQ(smtp_verb_name(SMTP_MAIL), "MAIL");
	TEST_STREQ(smtp_verb_name(SMTP_STARTTLS), "STARTTLS");
	TEST_STREQ(smtp_verb_name(SMTP_AUTH), "AUTH");
	TEST_STREQ(smtp_verb_name(SMTP_UNKNOWN), "UNKNOWN");
}

TEST_MAIN(test_verbs, test_case_and_spaces, test_no_argument_verbs,
	  test_helo, test_mail_syntax, test_rcpt_syntax, test_utf8,
	  test_line_checks, test_null_error_r, test_verb_names)
