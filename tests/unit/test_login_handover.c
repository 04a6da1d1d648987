/*
 * test_login_handover - the hand-over line (common/proto/login_handover.h):
 * what is formatted parses back, every field's rules, the limits, and
 * that refusals say why
 */
#include "test.h"

#include <string.h>

#include "proto/login_handover.h"
#include "util/str.h"

#define TOK "0123456789abcdef0123456789abcdef01234567"

static struct login_handover h;
static size_t used;
static const char *err;

static int parse(const char *p)
{
	err = NULL;
	return login_handover_parse(p, strlen(p), &h, &used, &err);
}

static int refused(const char *p, const char *why)
{
	return parse(p) < 0 && err != NULL && strcmp(err, why) == 0;
}

static void test_roundtrip(void)
{
	struct str line = STR_INIT(0);

	TEST_ASSERT(login_handover_format(&line, TOK, "::1", 0, NULL) == 0);
	TEST_STREQ(str_c(&line), "HANDOVER\t" TOK "\t::1\t0\n");
	TEST_ASSERT(login_handover_format(&line, TOK, "192.0.2.7", 1,
					  "a0001") == 0);
	TEST_STREQ(str_c(&line), "HANDOVER\t" TOK "\t192.0.2.7\t1\ta0001\n");
	TEST_ASSERT(str_append(&line, "STAT\r\n", 6) == 0);
	TEST_ASSERT(parse(str_c(&line)) == 0);
	TEST_ASSERT(used == line.len - 6);
	TEST_STREQ(h.token, TOK);
	TEST_STREQ(h.ip, "192.0.2.7");
	TEST_ASSERT(h.tls == 1);
	TEST_STREQ(h.param, "a0001");
	TEST_ASSERT(login_handover_format(&line, TOK, "::1", 0, "") == 0);
	TEST_ASSERT(parse(str_c(&line)) == 0 && h.param[0] == '\0' &&
		    h.tls == 0);
	login_handover_clear(&h);
	TEST_ASSERT(h.token[0] == '\0');
	str_free(&line);
}

static void test_format_refuses(void)
{
	struct str line = STR_INIT(0);
	char param[LOGIN_HANDOVER_PARAM_MAX + 2];

	TEST_ASSERT(login_handover_format(&line, "u@d.test", "::1", 0,
					  NULL) < 0);
	TEST_ASSERT(login_handover_format(&line, TOK, "", 0, NULL) < 0);
	TEST_ASSERT(login_handover_format(&line, TOK, "1.2.3.4 ", 0,
					  NULL) < 0);
	TEST_ASSERT(login_handover_format(&line, TOK, "::1", 0, "a b") < 0);
	TEST_ASSERT(login_handover_format(&line, TOK, "::1", 0, "a\tb") < 0);
	memset(param, 'p', sizeof(param));
	param[LOGIN_HANDOVER_PARAM_MAX] = '\0';
	TEST_ASSERT(login_handover_format(&line, TOK, "::1", 0, param) == 0);
	param[LOGIN_HANDOVER_PARAM_MAX] = 'p';
	param[LOGIN_HANDOVER_PARAM_MAX + 1] = '\0';
	TEST_ASSERT(login_handover_format(&line, TOK, "::1", 0, param) < 0);
	TEST_ASSERT(line.len == 0);
	str_free(&line);
}

/* The old hand-over named the user; it proves nothing and is refused. */
static void test_fields_refused(void)
{
	TEST_ASSERT(refused("LOGIN\talice@example.test\t127.0.0.1\t1\n",
			    "not a HANDOVER line"));
	TEST_ASSERT(refused("HANDOVER\talice@example.test\t127.0.0.1\t1\n",
			    "invalid token"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "0\t::1\t1\n", "invalid token"));
	TEST_ASSERT(refused("HANDOVER\t0123456789ABCDEF0123456789abcdef0123"
			    "4567\t::1\t1\n", "invalid token"));
	TEST_ASSERT(refused("HANDOVER\t\t::1\t1\n", "invalid token"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t\t1\n",
			    "invalid client address"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t1 2\t1\n",
			    "invalid client address"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t2\n", "invalid tls flag"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t11\n", "invalid tls flag"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t\n", "invalid tls flag"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t1\t\n",
			    "invalid parameter"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t1\ta b\n",
			    "invalid parameter"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\n",
			    "wrong number of fields"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t1\tp\tq\n",
			    "wrong number of fields"));
	TEST_ASSERT(refused("handover\t" TOK "\t::1\t1\n",
			    "not a HANDOVER line"));
	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t1\r\n", "invalid tls flag"));
	TEST_ASSERT(h.token[0] == '\0');	/* nothing kept of a refusal */
}

static void test_limits(void)
{
	char buf[LOGIN_HANDOVER_LINE_MAX + 16];
	size_t n;

	TEST_ASSERT(refused("HANDOVER\t" TOK "\t::1\t1", "no line end within "
			    "the limit"));
	TEST_ASSERT(refused("", "no line end within the limit"));
	/* a NUL cannot hide in a field */
	err = NULL;
	TEST_ASSERT(login_handover_parse("HANDOVER\t" TOK "\t::\0\t1\n",
					 strlen("HANDOVER\t" TOK) + 8, &h,
					 &used, &err) < 0);
	/* the LF must come within LOGIN_HANDOVER_LINE_MAX bytes */
	n = (size_t)snprintf(buf, sizeof(buf), "HANDOVER\t%s\t::1\t1\t", TOK);
	memset(buf + n, 'p', sizeof(buf) - n);
	buf[LOGIN_HANDOVER_LINE_MAX] = '\n';
	err = NULL;
	TEST_ASSERT(login_handover_parse(buf, sizeof(buf), &h, &used,
					 &err) < 0);
	buf[LOGIN_HANDOVER_LINE_MAX - 1] = '\n';
	TEST_ASSERT(login_handover_parse(buf, sizeof(buf), &h, &used,
					 &err) < 0);	/* param too long */
	TEST_STREQ(err, "invalid parameter");
}

static void test_token_id(void)
{
	char id[LOGIN_TOKEN_ID_LEN + 1];

	TEST_STREQ(login_handover_token_id(TOK, id), "01234567");
	TEST_STREQ(login_handover_token_id("ab\n", id), "ab?");
	TEST_STREQ(login_handover_token_id("", id), "");
}

TEST_MAIN(test_roundtrip, test_format_refuses, test_fields_refused,
	  test_limits, test_token_id)
