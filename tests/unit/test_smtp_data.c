/*
 * test_smtp_data - the DATA/BDAT stream decoder: end of data only at
 * <CRLF>.<CRLF>, dot-unstuffing, CRLF -> LF, bare CR, size limit, the
 * header scan and header holding, and any split of the input
 */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "smtpd/smtp_data.h"
#include "util/str.h"

struct sink_ctx {
	struct str out;
	int header_ends;
	int fail_after;		/* fail writes once out is this long; 0 never */
};

static int sink_write(void *ctx, const void *p, size_t n)
{
	struct sink_ctx *c = ctx;

	if (c->fail_after > 0 && c->out.len + n > (size_t)c->fail_after)
		return -1;
	return str_append(&c->out, p, n);
}

static int sink_header_end(void *ctx, const struct smtp_data *d)
{
	struct sink_ctx *c = ctx;

	c->header_ends++;
	if (!d->has_message_id)
		str_appends(&c->out, "Message-ID: <x@h>\n");
	if (!d->has_date)
		str_appends(&c->out, "Date: now\n");
	return 0;
}

struct run {
	struct sink_ctx c;
	struct smtp_data d;
	size_t used;
};

/* Feed in pieces of step bytes (0: all at once). */
static void run_data(struct run *r, enum smtp_data_mode mode,
		     const char *in, size_t len, uint64_t max, int hold,
		     size_t step)
{
	struct smtp_data_sink sink = { sink_write, sink_header_end, &r->c };
	size_t off = 0;

	memset(&r->c, 0, sizeof(r->c));
	str_init(&r->c.out, 0);
	smtp_data_init(&r->d, mode, max, hold, &sink);
	while (off < len && !r->d.done) {
		size_t n = step == 0 || step > len - off ? len - off : step;

		off += smtp_data_feed(&r->d, in + off, n);
	}
	if (mode == SMTP_DATA_BDAT)
		smtp_data_finish(&r->d);
	r->used = off;
}

static void run_free(struct run *r)
{
	smtp_data_free(&r->d);
	str_free(&r->c.out);
}

struct dot_case {
	const char *in;
	size_t in_len;
	const char *out;	/* decoded message (when OK) */
	size_t out_len;
	enum smtp_data_result result;
	size_t used;		/* bytes consumed; the rest is the next command */
};

#define S(x) x, sizeof(x) - 1
#define C(in, out, result, used) { S(in), S(out), result, used }

static const struct dot_case dot_cases[] = {
	C(".\r\n", "", SMTP_DATA_OK, 3),
	C("a\r\n.\r\n", "a\n", SMTP_DATA_OK, 6),
	C("a\r\n.\r\nQUIT\r\n", "a\n", SMTP_DATA_OK, 6),
	C("..a\r\n..\r\n.\r\n", ".a\n.\n", SMTP_DATA_OK, 12),
	C("a\r\n\r\nb\r\n.\r\n", "a\n\nb\n", SMTP_DATA_OK, 11),
	/* smuggling variants: content, never an end */
	C("a\n.\nb\r\n.\r\n", "a\n\nb\n", SMTP_DATA_OK, 10),
	C("a\n.\r\nb\r\n.\r\n", "a\n\nb\n", SMTP_DATA_OK, 11),
	C("a\r\n.\nb\r\n.\r\n", "a\n\nb\n", SMTP_DATA_OK, 11),
	C("a\r\n.\nMAIL FROM:<x>\r\n.\r\n", "a\n\nMAIL FROM:<x>\n",
	  SMTP_DATA_OK, 23),
	/* bare CR: read to the real end, then refuse */
	C("a\r.\rb\r\n.\r\n", "", SMTP_DATA_BARE_CR, 10),
	C("a\rb\r\n.\r\n", "", SMTP_DATA_BARE_CR, 8),
	C("a\r\n.\rx\r\n.\r\n", "", SMTP_DATA_BARE_CR, 11),
	C("a\r\r\n.\r\n", "", SMTP_DATA_BARE_CR, 7),
	/* bare LF lines are line ends */
	C("a\nb\n\r\n.\r\n", "a\nb\n\n", SMTP_DATA_OK, 9),
	/* 8-bit and NUL bytes pass */
	C("\xe4\xf6\x00z\r\n.\r\n", "\xe4\xf6\x00z\n", SMTP_DATA_OK, 9),
};

static void check_dot_case(const struct dot_case *tc, size_t step)
{
	struct run r;
	size_t outlen = tc->out_len;

	run_data(&r, SMTP_DATA_DOT, tc->in, tc->in_len, 0, 0, step);
	TEST_ASSERT(r.d.done);
	TEST_ASSERT(r.used == tc->used);
	TEST_ASSERT(smtp_data_result(&r.d) == tc->result);
	if (tc->result == SMTP_DATA_OK) {
		TEST_ASSERT(r.c.out.len == outlen);
		TEST_ASSERT(r.c.out.len == outlen &&
			    memcmp(str_c(&r.c.out), tc->out, outlen) == 0);
		TEST_ASSERT(r.d.size == outlen);
	}
	if (r.used != tc->used || smtp_data_result(&r.d) != tc->result)
		printf("  case \"%s\" step %zu: used %zu\n", tc->in, step,
		       r.used);
	run_free(&r);
}

static void test_dot_cases(void)
{
	static const size_t steps[] = { 0, 1, 2, 3, 5, 7 };

	for (size_t i = 0; i < sizeof(dot_cases) / sizeof(dot_cases[0]); i++)
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
			check_dot_case(&dot_cases[i], steps[s]);
}

static void test_dot_not_ended(void)
{
	struct run r;

	run_data(&r, SMTP_DATA_DOT, S("a\r\n.\n.\r"), 0, 0, 0);
	TEST_ASSERT(!r.d.done);
	TEST_ASSERT(r.used == 7);
	run_free(&r);
	run_data(&r, SMTP_DATA_DOT, S("a\r\n.\r\r\n"), 0, 0, 0);
	TEST_ASSERT(!r.d.done);
	run_free(&r);
}

static void test_long_line(void)
{
	static char in[5000];
	struct run r;

	memset(in, 'x', 4000);
	memcpy(in + 4000, "\r\n.\r\n", 5);
	run_data(&r, SMTP_DATA_DOT, in, 4005, 0, 0, 1000);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_OK);
	TEST_ASSERT(r.c.out.len == 4001 && r.c.out.s[4000] == '\n');
	run_free(&r);
}

static void test_too_big(void)
{
	struct run r;

	run_data(&r, SMTP_DATA_DOT, S("12345\r\n6789\r\n.\r\nNOOP\r\n"), 8, 0,
		 3);
	TEST_ASSERT(r.d.done);
	TEST_ASSERT(r.used == 16);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_TOO_BIG);
	TEST_ASSERT(r.c.out.len <= 8);
	TEST_ASSERT(r.d.size == 11);
	run_free(&r);
	run_data(&r, SMTP_DATA_DOT, S("1234567\r\n.\r\n"), 8, 0, 0);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_OK);	/* exactly 8 */
	run_free(&r);
}

static void test_bdat(void)
{
	struct run r;

	run_data(&r, SMTP_DATA_BDAT, S("a\r\n.\r\nb\r\n..c"), 0, 0, 4);
	TEST_ASSERT(r.used == 12);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_OK);
	TEST_STREQ(str_c(&r.c.out), "a\n.\nb\n..c\n");
	run_free(&r);
	run_data(&r, SMTP_DATA_BDAT, S("a\r\nb\r"), 0, 0, 0);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_BARE_CR);
	run_free(&r);
	run_data(&r, SMTP_DATA_BDAT, S("a\rb\r\n"), 0, 0, 0);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_BARE_CR);
	run_free(&r);
	run_data(&r, SMTP_DATA_BDAT, "", 0, 0, 0, 0);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_OK);
	TEST_ASSERT(r.c.out.len == 0);
	run_free(&r);
}

/* A CR at the end of one chunk and the LF at the start of the next. */
static void test_bdat_split_crlf(void)
{
	struct smtp_data d;
	struct sink_ctx c = { STR_INIT(0), 0, 0 };
	struct smtp_data_sink sink = { sink_write, NULL, &c };

	smtp_data_init(&d, SMTP_DATA_BDAT, 0, 0, &sink);
	TEST_ASSERT(smtp_data_feed(&d, "x\r", 2) == 2);
	TEST_ASSERT(smtp_data_feed(&d, "\ny\r\n", 4) == 4);
	smtp_data_finish(&d);
	TEST_ASSERT(smtp_data_result(&d) == SMTP_DATA_OK);
	TEST_STREQ(str_c(&c.out), "x\ny\n");
	smtp_data_free(&d);
	str_free(&c.out);
}

static void test_header_scan(void)
{
	struct run r;

	run_data(&r, SMTP_DATA_DOT,
		 S("Subject: x\r\nmessage-id : <a@b>\r\n\r\nDate: no\r\n.\r\n"),
		 0, 0, 0);
	TEST_ASSERT(r.d.has_message_id);
	TEST_ASSERT(!r.d.has_date);	/* that one is in the body */
	TEST_ASSERT(r.d.header_ended);
	TEST_ASSERT(r.c.header_ends == 0);	/* not holding */
	run_free(&r);
	run_data(&r, SMTP_DATA_DOT,
		 S("DATE: x\r\n folded\r\nMessage-Id:<a@b>\r\n.\r\n"), 0, 0, 0);
	TEST_ASSERT(r.d.has_message_id && r.d.has_date);
	run_free(&r);
}

static void test_header_hold(void)
{
	static const size_t steps[] = { 0, 1, 4 };
	struct run r;

	for (size_t i = 0; i < 3; i++) {
		run_data(&r, SMTP_DATA_DOT,
			 S("Subject: x\r\n\r\nbody\r\n.\r\n"), 0, 1, steps[i]);
		TEST_STREQ(str_c(&r.c.out), "Subject: x\nMessage-ID: <x@h>\n"
			   "Date: now\n\nbody\n");
		TEST_ASSERT(r.c.header_ends == 1);
		run_free(&r);
	}
	run_data(&r, SMTP_DATA_DOT,
		 S("Date: d\r\nSubject: x\r\nnot a header\r\n.\r\n"), 0, 1, 0);
	TEST_STREQ(str_c(&r.c.out), "Date: d\nSubject: x\n"
		   "Message-ID: <x@h>\nnot a header\n");
	run_free(&r);
	run_data(&r, SMTP_DATA_DOT, S("Message-ID: <m>\r\n.\r\n"), 0, 1, 0);
	TEST_STREQ(str_c(&r.c.out), "Message-ID: <m>\nDate: now\n");
	run_free(&r);
	run_data(&r, SMTP_DATA_DOT, S(".\r\n"), 0, 1, 0);
	TEST_STREQ(str_c(&r.c.out), "Message-ID: <x@h>\nDate: now\n");
	run_free(&r);
	run_data(&r, SMTP_DATA_BDAT, S("Date: d\r\nMessage-ID: <m>"), 0, 1,
		 0);
	TEST_STREQ(str_c(&r.c.out), "Date: d\nMessage-ID: <m>\n");
	TEST_ASSERT(r.c.header_ends == 1);
	run_free(&r);
}

/* A header section past the cap streams unchanged, without additions. */
static void test_header_overflow(void)
{
	struct str in = STR_INIT(0);
	struct run r;
	size_t lines = 0;

	for (; in.len < SMTP_DATA_HEADER_MAX * 2; lines++)
		str_appends(&in, "X-Filler: 0123456789012345678901234567\r\n");
	str_appends(&in, "\r\nbody\r\n.\r\n");
	run_data(&r, SMTP_DATA_DOT, in.s, in.len, 0, 1, 1000);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_OK);
	TEST_ASSERT(r.d.header_overflow);
	TEST_ASSERT(r.c.header_ends == 0);
	TEST_ASSERT(r.c.out.len == lines * 39 + 6);	/* CRs gone */
	TEST_ASSERT(strstr(str_c(&r.c.out), "Message-ID") == NULL);
	run_free(&r);
	str_free(&in);
}

static void test_sink_error(void)
{
	struct run r;
	struct smtp_data_sink sink;

	memset(&r, 0, sizeof(r));
	str_init(&r.c.out, 0);
	r.c.fail_after = 3;
	sink = (struct smtp_data_sink){ sink_write, NULL, &r.c };
	smtp_data_init(&r.d, SMTP_DATA_DOT, 0, 0, &sink);
	TEST_ASSERT(smtp_data_feed(&r.d, S("abcdef\r\n.\r\n")) == 11);
	TEST_ASSERT(r.d.done);
	TEST_ASSERT(smtp_data_result(&r.d) == SMTP_DATA_SINK_ERROR);
	run_free(&r);
}

TEST_MAIN(test_dot_cases, test_dot_not_ended, test_long_line, test_too_big,
	  test_bdat, test_bdat_split_crlf, test_header_scan, test_header_hold,
	  test_header_overflow, test_sink_error)
