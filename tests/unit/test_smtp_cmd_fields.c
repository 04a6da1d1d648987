/*
 * test_smtp_cmd_fields - what smtp_cmd_parse records for each verb:
 * HELO names, MAIL/RCPT addresses and ESMTP parameters, BDAT, AUTH, and
 * the replies for bad parameters (smtpd/smtp_cmd.c)
 */
#include <string.h>

#include "test.h"
#include "util/str.h"
#include "smtpd/smtp_cmd.h"

static struct smtp_cmd cmd;

static int parse(const char *line, unsigned flags)
{
	return smtp_cmd_parse(line, strlen(line), flags, &cmd, NULL);
}

/* Expect failure with this reply; prints the line if not. */
static void bad(const char *line, unsigned flags, int code,
		const char *enhanced)
{
	const char *error = NULL;
	int r = smtp_cmd_parse(line, strlen(line), flags, &cmd, &error);

	if (r != -1 || cmd.code != code)
		printf("  \"%s\": %d %d %s\n", line, r, cmd.code,
		       error ? error : "");
	TEST_ASSERT(r == -1);
	TEST_ASSERT(cmd.code == code);
	TEST_STREQ(cmd.enhanced, enhanced);
	TEST_ASSERT(error != NULL && error[0] != '\0');
}

static void test_helo_fields(void)
{
	TEST_ASSERT(parse("EHLO Mail.Example.COM", 0) == 0);
	TEST_STREQ(cmd.arg, "Mail.Example.COM");
	TEST_ASSERT(cmd.arg_len == 16);
	TEST_ASSERT(cmd.helo_valid == 1);
	TEST_ASSERT(parse("HELO my_pc", 0) == 0);
	TEST_STREQ(cmd.arg, "my_pc");
	TEST_ASSERT(cmd.helo_valid == 0);
	TEST_ASSERT(parse("EHLO [192.0.2.1]", 0) == 0);
	TEST_ASSERT(cmd.helo_valid == 1);
	TEST_ASSERT(parse("EHLO [192.0.2.300]", 0) == 0);
	TEST_ASSERT(cmd.helo_valid == 0);
	TEST_ASSERT(parse("EHLO host.", 0) == 0);
	TEST_ASSERT(cmd.helo_valid == 0);
}

static void test_helo_length(void)
{
	struct str line = STR_INIT(0);

	TEST_ASSERT(str_appends(&line, "EHLO ") == 0);
	while (line.len < 5 + SMTP_HELO_MAX)
		TEST_ASSERT(str_appendc(&line, 'h') == 0);
	TEST_ASSERT(parse(str_c(&line), 0) == 0);
	TEST_ASSERT(cmd.arg_len == SMTP_HELO_MAX);
	TEST_ASSERT(cmd.helo_valid == 0);	/* one 255-octet label */
	TEST_ASSERT(str_appendc(&line, 'h') == 0);
	bad(str_c(&line), 0, 501, "5.5.4");
	str_free(&line);
}

static void test_mail_fields(void)
{
	TEST_ASSERT(parse("MAIL FROM:<Joe@Example.COM>", 0) == 0);
	TEST_STREQ(cmd.addr.local, "Joe");
	TEST_STREQ(cmd.addr.domain, "example.com");
	TEST_ASSERT(cmd.addr.is_null == 0);
	TEST_ASSERT(cmd.has_size == 0 && cmd.body == SMTP_BODY_NONE);
	TEST_ASSERT(cmd.smtputf8 == 0 && cmd.has_auth == 0);
	TEST_ASSERT(cmd.ret == SMTP_RET_NONE && cmd.envid[0] == '\0');

	TEST_ASSERT(parse("MAIL FROM:<>", 0) == 0);
	TEST_ASSERT(cmd.addr.is_null == 1);

	TEST_ASSERT(parse("MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME "
			  "AUTH=<> RET=HDRS ENVID=QQ314159", 0) == 0);
	TEST_ASSERT(cmd.has_size == 1 && cmd.size == 1000);
	TEST_ASSERT(cmd.body == SMTP_BODY_8BITMIME);
	TEST_ASSERT(cmd.has_auth == 1);
	TEST_ASSERT(cmd.ret == SMTP_RET_HDRS);
	TEST_STREQ(cmd.envid, "QQ314159");

	TEST_ASSERT(parse("mail from:<a@b> size=0 body=binarymime ret=full "
			  "smtputf8", SMTP_CMD_ALLOW_UTF8) == 0);
	TEST_ASSERT(cmd.has_size == 1 && cmd.size == 0);
	TEST_ASSERT(cmd.body == SMTP_BODY_BINARYMIME);
	TEST_ASSERT(cmd.ret == SMTP_RET_FULL);
	TEST_ASSERT(cmd.smtputf8 == 1);
	TEST_ASSERT(parse("MAIL FROM:<a@b> BODY=7bit", 0) == 0);
	TEST_ASSERT(cmd.body == SMTP_BODY_7BIT);
}

struct size_case {
	const char *line;
	int ret;
	unsigned long long size;
};

static void test_size(void)
{
	static const struct size_case cases[] = {
		{ "MAIL FROM:<a@b> SIZE=1", 0, 1 },
		{ "MAIL FROM:<a@b> SIZE=0000000000000000000000000042", 0, 42 },
		{ "MAIL FROM:<a@b> SIZE=18446744073709551615", 0,
		  18446744073709551615ULL },
		{ "MAIL FROM:<a@b> SIZE=18446744073709551616", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=99999999999999999999999", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=-1", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=+1", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=1k", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=0x10", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE", -1, 0 },
		{ "MAIL FROM:<a@b> SIZE=1 SIZE=1", -1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *line = cases[i].line;

		if (cases[i].ret == 0) {
			TEST_ASSERT(parse(line, 0) == 0);
			TEST_ASSERT(cmd.size == cases[i].size);
		} else {
			bad(line, 0, 501, "5.5.4");
		}
	}
}

static void test_mail_params_bad(void)
{
	bad("MAIL FROM:<a@b> FOO=bar", 0, 555, "5.5.4");
	bad("MAIL FROM:<a@b> XFORWARD", 0, 555, "5.5.4");
	bad("MAIL FROM:<a@b> NOTIFY=NEVER", 0, 555, "5.5.4");
	bad("MAIL FROM:<a@b> ORCPT=rfc822;a@b", 0, 555, "5.5.4");
	bad("MAIL FROM:<a@b> BODY=9BIT", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> BODY", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> BODY=7BIT BODY=7BIT", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> body=7BIT BODY=8BITMIME", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> RET=ALL", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> RET=FULL RET=FULL", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> AUTH", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> AUTH=a+zz", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> AUTH=a+2", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> ENVID", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> -X=1", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> =1", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> SIZE=1=2", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> X_Y=1", 0, 501, "5.5.4");
	bad("MAIL FROM:<a@b> ENVID=\xc3\xa9", SMTP_CMD_ALLOW_UTF8, 501,
	    "5.5.4");
	bad("MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8", SMTP_CMD_ALLOW_UTF8, 501,
	    "5.5.4");
	TEST_ASSERT(parse("MAIL FROM:<a@b> AUTH=a+2Bb+3d", 0) == 0);
	TEST_ASSERT(parse("MAIL FROM:<a@b> AUTH=<a+40b>", 0) == 0);
}

static void test_envid_length(void)
{
	struct str line = STR_INIT(0);

	TEST_ASSERT(str_appends(&line, "MAIL FROM:<a@b> ENVID=") == 0);
	while (line.len < 22 + SMTP_ENVID_MAX)
		TEST_ASSERT(str_appendc(&line, 'e') == 0);
	TEST_ASSERT(parse(str_c(&line), 0) == 0);
	TEST_ASSERT(strlen(cmd.envid) == SMTP_ENVID_MAX);
	TEST_ASSERT(str_appendc(&line, 'e') == 0);
	bad(str_c(&line), 0, 501, "5.5.4");
	str_free(&line);
}

static void test_rcpt_fields(void)
{
	TEST_ASSERT(parse("RCPT TO:<User+Tag@Example.Org>", 0) == 0);
	TEST_STREQ(cmd.addr.local, "User+Tag");
	TEST_STREQ(cmd.addr.domain, "example.org");
	TEST_ASSERT(cmd.notify == 0 && cmd.orcpt[0] == '\0');

	TEST_ASSERT(parse("RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE "
			  "ORCPT=rfc822;a+40b", 0) == 0);
	TEST_ASSERT(cmd.notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE));
	TEST_STREQ(cmd.orcpt, "rfc822;a+40b");
	TEST_ASSERT(parse("RCPT TO:<a@b> notify=never", 0) == 0);
	TEST_ASSERT(cmd.notify == SMTP_NOTIFY_NEVER);
	TEST_ASSERT(parse("RCPT TO:<a@b> NOTIFY=DELAY,FAILURE,SUCCESS", 0) == 0);
	TEST_ASSERT(cmd.notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE |
				   SMTP_NOTIFY_DELAY));
	TEST_ASSERT(parse("RCPT TO:<\xce\xb4@x> ORCPT=utf-8;\xce\xb4@x",
			  SMTP_CMD_TXN_UTF8) == 0);
	TEST_STREQ(cmd.orcpt, "utf-8;\xce\xb4@x");
	TEST_ASSERT(parse("RCPT TO:<Postmaster>", 0) == 0);
	TEST_STREQ(cmd.addr.local, "Postmaster");
	TEST_STREQ(cmd.addr.domain, "");
}

static void test_rcpt_params_bad(void)
{
	bad("RCPT TO:<a@b> SIZE=1", 0, 555, "5.5.4");
	bad("RCPT TO:<a@b> BODY=8BITMIME", 0, 555, "5.5.4");
	bad("RCPT TO:<a@b> FOO", 0, 555, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY=SUCCESS,SUCCESS", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY=SUCCESS,", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY=,SUCCESS", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY=SOMETIMES", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=rfc822", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=;a@b", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=rfc822;", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=rfc822;a+4", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=rfc/822;a@b", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=utf-8;\xce\xb4@x", 0, 501, "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=rfc822;\xce\xb4@x", SMTP_CMD_TXN_UTF8, 501,
	    "5.5.4");
	bad("RCPT TO:<a@b> ORCPT=utf-8;\xce@x", SMTP_CMD_TXN_UTF8, 501,
	    "5.5.4");
}

static void test_bdat(void)
{
	TEST_ASSERT(parse("BDAT 1000", 0) == 0);
	TEST_ASSERT(cmd.chunk_size == 1000 && cmd.last == 0);
	TEST_ASSERT(parse("BDAT 0 LAST", 0) == 0);
	TEST_ASSERT(cmd.chunk_size == 0 && cmd.last == 1);
	TEST_ASSERT(parse("bdat 10 last", 0) == 0);
	TEST_ASSERT(cmd.chunk_size == 10 && cmd.last == 1);
	TEST_ASSERT(parse("BDAT 10   LAST  ", 0) == 0);
	TEST_ASSERT(cmd.last == 1);
	TEST_ASSERT(parse("BDAT 18446744073709551615", 0) == 0);
	TEST_ASSERT(cmd.chunk_size == 18446744073709551615ULL);
	bad("BDAT", 0, 501, "5.5.4");
	bad("BDAT x", 0, 501, "5.5.4");
	bad("BDAT -1", 0, 501, "5.5.4");
	bad("BDAT LAST", 0, 501, "5.5.4");
	bad("BDAT 10 FIRST", 0, 501, "5.5.4");
	bad("BDAT 10 LAST x", 0, 501, "5.5.4");
	bad("BDAT 10 LASTX", 0, 501, "5.5.4");
	bad("BDAT 18446744073709551616", 0, 501, "5.5.4");
	bad("BDAT 10x", 0, 501, "5.5.4");
}

static void test_auth(void)
{
	TEST_ASSERT(parse("AUTH PLAIN", 0) == 0);
	TEST_STREQ(cmd.mech, "PLAIN");
	TEST_ASSERT(cmd.has_initial == 0 && cmd.arg_len == 0);
	TEST_ASSERT(parse("auth login", 0) == 0);
	TEST_STREQ(cmd.mech, "LOGIN");
	TEST_ASSERT(parse("AUTH PLAIN =", 0) == 0);
	TEST_ASSERT(cmd.has_initial == 1 && cmd.arg_len == 0);
	TEST_STREQ(cmd.arg, "");
	TEST_ASSERT(parse("AUTH PLAIN AGFsaWNlAHNlY3JldA==", 0) == 0);
	TEST_ASSERT(cmd.has_initial == 1);
	TEST_STREQ(cmd.arg, "AGFsaWNlAHNlY3JldA==");
	TEST_ASSERT(parse("AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9", 0) == 0);
	TEST_STREQ(cmd.mech, "SCRAM-SHA-256");
	TEST_ASSERT(parse("AUTH PLAIN AGFsaWNl+/8=", 0) == 0);
	TEST_ASSERT(parse("AUTH ABCDEFGHIJKLMNOPQRST", 0) == 0);	/* 20 */
	bad("AUTH ABCDEFGHIJKLMNOPQRSTU", 0, 501, "5.5.4");		/* 21 */
	bad("AUTH", 0, 501, "5.5.4");
	bad("AUTH PL@IN", 0, 501, "5.5.4");
	bad("AUTH PLAIN a b", 0, 501, "5.5.4");
	bad("AUTH PLAIN abc", 0, 501, "5.5.2");
	bad("AUTH PLAIN ab=c", 0, 501, "5.5.2");
	bad("AUTH PLAIN a===", 0, 501, "5.5.2");
	bad("AUTH PLAIN ab=x", 0, 501, "5.5.2");
	bad("AUTH PLAIN ==", 0, 501, "5.5.2");
	bad("AUTH PLAIN ab*d", 0, 501, "5.5.2");
}

static void test_text_args(void)
{
	TEST_ASSERT(parse("NOOP", 0) == 0);
	TEST_ASSERT(cmd.arg_len == 0);
	TEST_ASSERT(parse("NOOP  hello  world  ", 0) == 0);
	TEST_STREQ(cmd.arg, "hello  world");
	TEST_ASSERT(parse("VRFY <postmaster@example.com>", 0) == 0);
	TEST_STREQ(cmd.arg, "<postmaster@example.com>");
	TEST_ASSERT(parse("HELP", 0) == 0);
	TEST_STREQ(cmd.arg, "");
}

TEST_MAIN(test_helo_fields, test_helo_length, test_mail_fields, test_size,
	  test_mail_params_bad, test_envid_length, test_rcpt_fields,
	  test_rcpt_params_bad, test_bdat, test_auth, test_text_args)
