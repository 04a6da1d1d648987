/*
 * test_inject_proto - the injection protocol: request parser, chunk
 * lengths, limits, local submissions, the client's envelope builder and
 * the answer parser; the client library against a scripted injector
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/inject_proto.h"
#include "util/sock.h"
#include "test.h"

/* What a parse produced: the events in order ('E'nvelope, 'B'ody, e'N'd,
 * 'X' error; recipients are not listed there but collected in env), the
 * message bytes, and the parser for its head fields and error. */
struct run {
	struct inject_proto p;
	char events[64];
	struct str body;
	struct queue_env env;	/* the recipients handed back */
	size_t max_held;	/* most recipients the parser held at once */
};

/* Feed input step bytes at a time (0: all at once). */
static void run_feed(struct run *r, const char *in, size_t n, size_t step)
{
	static const char letter[] = { 'M', 'E', 'B', 'N', 'X' };
	size_t off = 0, nev = 0;

	while (off < n && r->p.state != INJECT_PS_DONE) {
		size_t avail = step == 0 || n - off < step ? n - off : step;
		size_t used, len;
		const char *data;
		enum inject_event ev;

		ev = inject_proto_next(&r->p, in + off, avail, &used, &data,
				       &len);
		TEST_ASSERT(used <= avail);
		off += used;
		if (ev == INJECT_EV_BODY)
			str_append(&r->body, data, len);
		if (ev == INJECT_EV_RCPT) {
			TEST_ASSERT(r->p.rcpt_addr != NULL);
			queue_env_add_rcpt(&r->env, r->p.rcpt_addr,
					   r->p.rcpt_orig)->notify =
				(unsigned char)r->p.rcpt_notify;
			TEST_ASSERT(r->p.nrcpts == r->env.rcpt_count);
			TEST_ASSERT(r->p.env.rcpt_count == 0);
			continue;
		}
		if (ev != INJECT_EV_MORE && nev + 1 < sizeof(r->events) &&
		    (ev != INJECT_EV_BODY || nev == 0 ||
		     r->events[nev - 1] != 'B'))
			r->events[nev++] = letter[ev];
		if (ev == INJECT_EV_MORE)
			TEST_ASSERT(used == avail);
	}
	r->events[nev] = '\0';
}

static size_t rcpt_limit;	/* for the next run_start; 0: none */

static void run_start(struct run *r, int local, uint64_t limit)
{
	memset(r, 0, sizeof(*r));
	inject_proto_init(&r->p, local, limit, rcpt_limit);
	str_init(&r->body, 0);
	queue_env_init(&r->env);
}

static void run_free(struct run *r)
{
	inject_proto_free(&r->p);
	str_free(&r->body);
	queue_env_free(&r->env);
}

/* Parse s whole; returns the events string (static). */
static const char *parse(struct run *r, const char *s, int local,
			 uint64_t limit)
{
	run_start(r, local, limit);
	run_feed(r, s, strlen(s), 0);
	return r->events;
}

/* Does s fail, with an error containing want? */
static int fails_with(const char *s, const char *want)
{
	struct run r;
	int ok;

	parse(&r, s, 0, 0);
	ok = strchr(r.events, 'X') != NULL && strstr(r.p.error, want) != NULL;
	if (!ok)
		printf("  input %s -> events \"%s\" error \"%s\"\n", s,
		       r.events, r.p.error);
	run_free(&r);
	return ok;
}

#define MINIMAL "SENDER\ta@example.org\nRCPT\tb@example.net\nDATA\n"

static void test_minimal(void)
{
	struct run r;

	TEST_STREQ(parse(&r, MINIMAL "5\nhello0\n", 0, 0), "EBN");
	TEST_STREQ(r.p.env.sender, "a@example.org");
	TEST_ASSERT(r.env.rcpt_count == 1);
	TEST_STREQ(r.env.rcpts[0].addr, "b@example.net");
	TEST_ASSERT(r.env.rcpts[0].orig == NULL);
	TEST_STREQ(str_c(&r.body), "hello");
	TEST_ASSERT(r.p.size == 5);
	TEST_ASSERT(r.p.env.protocol == NULL && r.p.env.client_addr == NULL);
	run_free(&r);
}

static void test_all_fields(void)
{
	struct run r;

	TEST_STREQ(parse(&r, "SENDER\t\nCLIENT\t192.0.2.1\nHELO\tmx.example\n"
			 "AUTH\tjo\nPROTO\tESMTPSA\nFLAGS\t3\nORCPT\tX@A\n"
			 "RCPT\tx@a\nRCPT\ty@b\nDATA\n0\n", 0, 0), "EN");
	TEST_STREQ(r.p.env.sender, "");
	TEST_ASSERT(r.env.rcpt_count == 2);
	TEST_STREQ(r.env.rcpts[0].orig, "X@A");
	TEST_ASSERT(r.env.rcpts[1].orig == NULL);
	TEST_STREQ(r.p.env.client_addr, "192.0.2.1");
	TEST_STREQ(r.p.env.helo, "mx.example");
	TEST_STREQ(r.p.env.auth_user, "jo");
	TEST_STREQ(r.p.env.protocol, "ESMTPSA");
	TEST_ASSERT(r.p.env.flags == 3);
	TEST_ASSERT(r.p.size == 0);
	run_free(&r);
}

/* Every split of the input gives the same result. */
static void test_byte_at_a_time(void)
{
	const char *in = MINIMAL "3\nabc4\ndefg0\n";
	struct run r;

	for (size_t step = 1; step < 8; step++) {
		run_start(&r, 0, 0);
		run_feed(&r, in, strlen(in), step);
		TEST_STREQ(r.events, "EBN");
		TEST_STREQ(str_c(&r.body), "abcdefg");
		TEST_STREQ(r.env.rcpts[0].addr, "b@example.net");
		run_free(&r);
	}
}

static void test_many_chunks_one_buffer(void)
{
	struct str in = STR_INIT(0);
	struct run r;

	str_appends(&in, MINIMAL);
	for (int i = 0; i < 100; i++)
		str_appends(&in, "2\nxy");
	str_appends(&in, "65536\n");
	for (int i = 0; i < 65536; i++)
		str_appendc(&in, (char)i);
	str_appends(&in, "0\n");
	run_start(&r, 0, 0);
	run_feed(&r, in.s, in.len, 0);
	TEST_STREQ(r.events, "EBN");
	TEST_ASSERT(r.body.len == 200 + 65536);
	TEST_ASSERT(r.p.size == 200 + 65536);
	TEST_ASSERT(memcmp(r.body.s + 200, in.s + in.len - 2 - 65536,
			   65536) == 0);
	run_free(&r);
	str_free(&in);
}

static void test_sender_first(void)
{
	TEST_ASSERT(fails_with("RCPT\tb@x\nSENDER\ta@x\n",
			       "SENDER must come first"));
	TEST_ASSERT(fails_with("DATA\n", "SENDER must come first"));
	TEST_ASSERT(fails_with("SENDER a@x\n", "SENDER must come first"));
	TEST_ASSERT(fails_with("SENDER\ta@x\nSENDER\ta@x\n", "twice"));
}

static void test_control_bytes(void)
{
	TEST_ASSERT(fails_with("SENDER\ta\r@x\n", "control"));
	TEST_ASSERT(fails_with("SENDER\ta@x\nRCPT\tb\x1b@x\n", "control"));
	TEST_ASSERT(fails_with("SENDER\ta@x\nRCPT\tb\x7f@x\n", "control"));
	TEST_ASSERT(fails_with("SENDER\ta@x\nRCPT\tb\t@x\n", "control"));
	TEST_ASSERT(fails_with("SENDER\ta@x\nDATA\r\n", "control"));
	TEST_ASSERT(fails_with("SEN\rDER\ta@x\n", "control"));
}

static void test_nul_byte(void)
{
	static const char in[] = "SENDER\ta@x\nRCPT\tb\0c@x\nDATA\n0\n";
	struct run r;

	run_start(&r, 0, 0);
	run_feed(&r, in, sizeof(in) - 1, 0);
	TEST_STREQ(r.events, "X");
	TEST_ASSERT(strstr(r.p.error, "control") != NULL);
	run_free(&r);
}

static void test_line_too_long(void)
{
	struct str in = STR_INIT(0);
	struct run r;

	str_appends(&in, "SENDER\t");
	while (in.len < INJECT_LINE_MAX + 10)
		str_appendc(&in, 'a');
	str_appendc(&in, '\n');
	run_start(&r, 0, 0);
	run_feed(&r, in.s, in.len, 7);
	TEST_STREQ(r.events, "X");
	TEST_ASSERT(strstr(r.p.error, "line longer") != NULL);
	run_free(&r);
	str_free(&in);
}

static void test_field_length(void)
{
	struct str in = STR_INIT(0);
	struct run r;

	str_appends(&in, "SENDER\t");
	for (int i = 0; i < QUEUE_TEXT_MAX; i++)
		str_appendc(&in, 's');
	str_appends(&in, "\nRCPT\tr\nDATA\n0\n");
	TEST_STREQ(parse(&r, in.s, 0, 0), "EN");
	TEST_ASSERT(strlen(r.p.env.sender) == QUEUE_TEXT_MAX);
	run_free(&r);
	str_clear(&in);
	str_appends(&in, "SENDER\t");
	for (int i = 0; i <= QUEUE_TEXT_MAX; i++)
		str_appendc(&in, 's');
	str_appends(&in, "\n");
	TEST_ASSERT(fails_with(in.s, "longer than 1024"));
	str_free(&in);
}

static void test_rcpt_rules(void)
{
	struct run r;

	TEST_ASSERT(fails_with("SENDER\ta\nRCPT\t\n", "empty RCPT"));
	TEST_ASSERT(fails_with("SENDER\ta\nDATA\n", "DATA without RCPT"));
	TEST_ASSERT(fails_with("SENDER\ta\nORCPT\to\nDATA\n",
			       "ORCPT not followed by its RCPT"));
	TEST_ASSERT(fails_with("SENDER\ta\nRCPT\tr\nORCPT\to\nDATA\n",
			       "ORCPT not followed by its RCPT"));
	TEST_ASSERT(fails_with("SENDER\ta\nORCPT\to\nORCPT\tp\n",
			       "ORCPT not followed by its RCPT"));
	TEST_ASSERT(fails_with("SENDER\ta\nORCPT\to\nHELO\th\n",
			       "ORCPT not followed by its RCPT"));
	TEST_ASSERT(fails_with("SENDER\ta\nORCPT\t\n", "empty"));
	/* the original belongs to the RCPT after it, and to it only */
	TEST_STREQ(parse(&r, "SENDER\ta\nRCPT\tr1\nORCPT\to2\nRCPT\tr2\n"
			 "RCPT\tr3\nDATA\n", 0, 0), "E");
	TEST_ASSERT(r.env.rcpt_count == 3);
	TEST_ASSERT(r.env.rcpts[0].orig == NULL);
	TEST_STREQ(r.env.rcpts[1].orig, "o2");
	TEST_ASSERT(r.env.rcpts[2].orig == NULL);
	run_free(&r);
}

/* The head is final at the first recipient: nothing of it may follow. */
static void test_head_before_rcpts(void)
{
	static const char *const late[] = { "CLIENT\t1", "HELO\th", "AUTH\tu",
					    "PROTO\tp", "FLAGS\t1" };

	for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		struct str in = STR_INIT(0);

		str_appendf(&in, "SENDER\ta\nRCPT\tr\n%s\nDATA\n", late[i]);
		TEST_ASSERT(fails_with(in.s, "after the recipients"));
		str_free(&in);
	}
}

/* A local submission's limit; the parser never holds more than one. */
static void test_rcpt_limit(void)
{
	struct str in = STR_INIT(0);
	struct run r;

	str_appends(&in, "SENDER\ta\n");
	for (int i = 0; i < 5; i++)
		str_appendf(&in, "RCPT\tr%d\n", i);
	rcpt_limit = 5;
	TEST_STREQ(parse(&r, in.s, 1, 0), "");
	TEST_ASSERT(r.env.rcpt_count == 5);
	run_free(&r);
	str_appends(&in, "RCPT\tr5\n");
	TEST_STREQ(parse(&r, in.s, 1, 0), "X");
	TEST_STREQ(r.p.error, "too many recipients (limit 5)");
	TEST_ASSERT(r.env.rcpt_count == 5);
	run_free(&r);
	rcpt_limit = 0;
	str_free(&in);
}

static void test_too_many_rcpts(void)
{
	struct str in = STR_INIT(0);
	struct run r;

	str_appends(&in, "SENDER\ta\n");
	for (int i = 0; i < QUEUE_RCPT_MAX; i++)
		str_appends(&in, "RCPT\tr\n");
	TEST_STREQ(parse(&r, in.s, 0, 0), "");
	TEST_ASSERT(r.env.rcpt_count == QUEUE_RCPT_MAX);
	run_free(&r);
	str_appends(&in, "RCPT\tr\n");
	TEST_ASSERT(fails_with(in.s, "too many recipients"));
	str_free(&in);
}

static void test_once_keywords(void)
{
	TEST_ASSERT(fails_with("SENDER\ta\nCLIENT\t1\nCLIENT\t2\n", "twice"));
	TEST_ASSERT(fails_with("SENDER\ta\nHELO\th\nHELO\th\n", "twice"));
	TEST_ASSERT(fails_with("SENDER\ta\nAUTH\tu\nAUTH\tu\n", "twice"));
	TEST_ASSERT(fails_with("SENDER\ta\nPROTO\tp\nPROTO\tp\n", "twice"));
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t1\nFLAGS\t1\n", "twice"));
	TEST_ASSERT(fails_with("SENDER\ta\nCLIENT\t\n", "empty CLIENT"));
}

static void test_unknown_requests(void)
{
	TEST_ASSERT(fails_with("SENDER\ta\nMAIL\tx\n", "unknown request"));
	TEST_ASSERT(fails_with("SENDER\ta\nRCPT x\n", "unknown request"));
	TEST_ASSERT(fails_with("SENDER\ta\nrcpt\tx\n", "unknown request"));
	TEST_ASSERT(fails_with("SENDER\ta\nRCPT\tr\ndata\n", "unknown"));
	TEST_ASSERT(fails_with("SENDER\ta\nRCPT\tr\nDATA\tx\n", "unknown"));
	TEST_ASSERT(fails_with("SENDER\ta\n\n", "unknown"));
}

static void test_flags(void)
{
	struct run r;

	TEST_STREQ(parse(&r, "SENDER\ta\nFLAGS\t2\nRCPT\tr\nDATA\n", 0, 0),
		   "E");
	TEST_ASSERT(r.p.env.flags == QUEUE_FLAG_SMTPUTF8);
	run_free(&r);
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t16\n", "unknown flags"));
	/* the DSN RET flags: one or the other, never both */
	TEST_STREQ(parse(&r, "SENDER\ta\nFLAGS\t8\nRCPT\tr\nDATA\n", 0, 0),
		   "E");
	TEST_ASSERT(r.p.env.flags == QUEUE_FLAG_RET_HDRS);
	run_free(&r);
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t12\n", "both RET"));
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t\n", "unknown flags"));
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t-1\n", "decimal"));
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t0x1\n", "decimal"));
	TEST_ASSERT(fails_with("SENDER\ta\nFLAGS\t99999999999999999999\n",
			       "decimal"));
}

/* ENVID in the head, NOTIFY and ORCPT before their RCPT, in either
 * order; what the queue file would refuse is refused here. */
static void test_dsn_lines(void)
{
	static const char *const rcpts[] = { "x@a", "y@b" };
	static const char *const orcpts[] = { "rfc822;X+2B@A", NULL };
	static const unsigned notify[] = { 0, QUEUE_NOTIFY_NEVER };
	struct inject_env env = { .sender = "s@x", .rcpts = rcpts,
				  .orcpts = orcpts, .notify = notify,
				  .nrcpts = 2, .envid = "QQ+2B1" };
	struct str out = STR_INIT(0);
	const char *error;
	struct run r;

	TEST_STREQ(parse(&r, "SENDER\ta\nENVID\tQQ+2B1\nNOTIFY\t6\n"
			 "ORCPT\trfc822;o\nRCPT\tx@a\nRCPT\ty@b\n"
			 "ORCPT\trfc822;p\nNOTIFY\t1\nRCPT\tz@c\nDATA\n0\n",
			 0, 0), "EN");
	TEST_STREQ(r.p.env.envid, "QQ+2B1");
	TEST_ASSERT(r.env.rcpts[0].notify == 6 && r.env.rcpts[1].notify == 0);
	TEST_ASSERT(r.env.rcpts[2].notify == QUEUE_NOTIFY_NEVER);
	TEST_STREQ(r.env.rcpts[2].orig, "rfc822;p");
	run_free(&r);
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\t1\nDATA\n",
			       "NOTIFY not followed"));
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\t1\nNOTIFY\t2\n",
			       "NOTIFY not followed"));
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\t1\nHELO\th\n",
			       "NOTIFY not followed"));
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\t3\n", "NEVER alone"));
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\t0\n", "NEVER alone"));
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\t16\n", "NEVER alone"));
	TEST_ASSERT(fails_with("SENDER\ta\nNOTIFY\tx\n", "decimal"));
	TEST_ASSERT(fails_with("SENDER\ta\nENVID\ta b\n", "ENVID"));
	TEST_ASSERT(fails_with("SENDER\ta\nENVID\ta\nENVID\tb\n",
			       "ENVID given twice"));
	TEST_ASSERT(fails_with("SENDER\ta\nRCPT\tr\nENVID\ta\n",
			       "after the recipients"));
	/* the client's side writes what the parser reads back */
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) == 0);
	TEST_STREQ(str_c(&out), "SENDER\ts@x\nENVID\tQQ+2B1\n"
		   "ORCPT\trfc822;X+2B@A\nRCPT\tx@a\nNOTIFY\t1\nRCPT\ty@b\n"
		   "DATA\n");
	env.envid = "a b";
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	env.envid = NULL;
	env.notify = (const unsigned[]){ 5, 9 };
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	str_free(&out);
}

static void test_chunk_lengths(void)
{
	static const char *const bad[] = {
		"01\n", "+1\n", " 1\n", "1 \n", "1a\n", "\n", "-1\n",
		"65537\n", "1000000\n", "00\n", "0x10\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct str in = STR_INIT(0);

		str_appends(&in, MINIMAL);
		str_appends(&in, bad[i]);
		TEST_ASSERT(fails_with(in.s, "chunk"));
		str_free(&in);
	}
}

static void test_size_limit(void)
{
	struct run r;

	TEST_STREQ(parse(&r, MINIMAL "6\n123456" "4\n7890" "0\n", 0, 10),
		   "EBN");
	TEST_ASSERT(r.p.size == 10);
	run_free(&r);
	TEST_STREQ(parse(&r, MINIMAL "6\n123456" "5\n78901" "0\n", 0, 10),
		   "EBX");
	TEST_STREQ(r.p.error, "message too big (limit 10 bytes)");
	TEST_STREQ(str_c(&r.body), "123456");
	run_free(&r);
}

static void test_local_submission(void)
{
	struct run r;

	TEST_STREQ(parse(&r, "SENDER\tme\nCLIENT\t10.0.0.1\n"
			 "HELO\tforged\nAUTH\tboss\nPROTO\tESMTPSA\n"
			 "RCPT\tyou\nDATA\n", 1, 0), "E");
	TEST_STREQ(r.p.env.protocol, "local");
	TEST_ASSERT(r.p.env.client_addr == NULL);
	TEST_ASSERT(r.p.env.helo == NULL);
	TEST_ASSERT(r.p.env.auth_user == NULL);
	run_free(&r);
	TEST_STREQ(parse(&r, MINIMAL, 1, 0), "E");
	TEST_STREQ(r.p.env.protocol, "local");
	run_free(&r);
	/* ignored, but still checked */
	run_start(&r, 1, 0);
	run_feed(&r, "SENDER\ta\nHELO\tx\nHELO\ty\n", 23, 0);
	TEST_STREQ(r.events, "X");
	run_free(&r);
}

static void test_after_the_end(void)
{
	struct run r;
	const char *data;
	size_t used, len;

	TEST_STREQ(parse(&r, MINIMAL "0\n", 0, 0), "EN");
	TEST_ASSERT(inject_proto_next(&r.p, "x", 1, &used, &data, &len) ==
		    INJECT_EV_ERROR);
	TEST_ASSERT(used == 0);
	run_free(&r);
	/* the end chunk stops the parse: the rest is not consumed */
	run_start(&r, 0, 0);
	TEST_ASSERT(inject_proto_next(&r.p, MINIMAL "0\nextra",
				      strlen(MINIMAL "0\nextra"), &used,
				      &data, &len) == INJECT_EV_RCPT);
	TEST_ASSERT(used == strlen(MINIMAL) - strlen("DATA\n"));
	TEST_ASSERT(inject_proto_next(&r.p, "DATA\n0\nextra", 12, &used,
				      &data, &len) == INJECT_EV_ENVELOPE);
	TEST_ASSERT(used == strlen("DATA\n"));
	TEST_ASSERT(inject_proto_next(&r.p, "0\nextra", 7, &used, &data,
				      &len) == INJECT_EV_END);
	TEST_ASSERT(used == 2);
	run_free(&r);
}

static void test_field_ok(void)
{
	TEST_ASSERT(inject_proto_field_ok("a@b", 0));
	TEST_ASSERT(inject_proto_field_ok("", 1));
	TEST_ASSERT(!inject_proto_field_ok("", 0));
	TEST_ASSERT(!inject_proto_field_ok("a\nb", 0));
	TEST_ASSERT(!inject_proto_field_ok("a\tb", 0));
	TEST_ASSERT(inject_proto_field_ok("j\xc3\xb6rg@b", 0));
}

static void test_envelope_round_trip(void)
{
	const char *rcpts[] = { "x@a", "y@b", "z@c" };
	const char *orcpts[] = { "X@A", NULL, "" };
	struct inject_env env = {
		.sender = "s@x", .rcpts = rcpts, .orcpts = orcpts,
		.nrcpts = 3, .client_ip = "2001:db8::1", .helo = "h",
		.auth_user = NULL, .protocol = "ESMTPS", .flags = 1,
	};
	struct str out = STR_INIT(0);
	const char *error;
	struct run r;

	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) == 0);
	str_appends(&out, "0\n");
	TEST_STREQ(parse(&r, out.s, 0, 0), "EN");
	TEST_STREQ(r.p.env.sender, "s@x");
	TEST_ASSERT(r.env.rcpt_count == 3);
	TEST_STREQ(r.env.rcpts[0].orig, "X@A");
	TEST_ASSERT(r.env.rcpts[1].orig == NULL);
	TEST_ASSERT(r.env.rcpts[2].orig == NULL);
	TEST_STREQ(r.env.rcpts[2].addr, "z@c");
	TEST_STREQ(r.p.env.client_addr, "2001:db8::1");
	TEST_ASSERT(r.p.env.auth_user == NULL);
	TEST_ASSERT(r.p.env.flags == 1);
	run_free(&r);
	str_free(&out);
}

static void test_envelope_refused(void)
{
	const char *good[] = { "r@x" }, *empty[] = { "" }, *cr[] = { "a\r" };
	struct inject_env env = { .sender = "", .rcpts = good, .nrcpts = 1 };
	struct str out = STR_INIT(0);
	const char *error;

	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) == 0);
	env.sender = "a\nRCPT\tevil";
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	TEST_STREQ(error, "bad sender address");
	env.sender = "";
	env.rcpts = empty;
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	env.rcpts = cr;
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	TEST_STREQ(error, "bad recipient address");
	env.rcpts = good;
	env.nrcpts = 0;
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	env.nrcpts = 1;
	env.flags = 16;
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	env.flags = QUEUE_FLAG_RET_FULL | QUEUE_FLAG_RET_HDRS;
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	env.flags = 0;
	env.helo = "x\ty";
	TEST_ASSERT(inject_proto_envelope(&env, &out, &error) < 0);
	TEST_STREQ(error, "bad HELO name");
	str_free(&out);
}

static int answer(const char *line, struct str *t)
{
	return inject_proto_answer(line, strlen(line), t);
}

static void test_answers(void)
{
	struct str t = STR_INIT(0);

	TEST_ASSERT(answer("OK\t1JN7W800F2K3K7P", &t) ==
		    INJECT_OK);
	TEST_STREQ(str_c(&t), "1JN7W800F2K3K7P");
	TEST_ASSERT(answer("OK\t../etc", &t) == -1);
	TEST_ASSERT(answer("TEMP\tdisk full", &t) ==
		    INJECT_TEMP);
	TEST_STREQ(str_c(&t), "disk full");
	TEST_ASSERT(answer("PERM\ttoo big", &t) ==
		    INJECT_PERM);
	TEST_STREQ(str_c(&t), "too big");
	TEST_ASSERT(answer("PERM too big", &t) == -1);
	TEST_ASSERT(answer("NO\tx", &t) == -1);
	TEST_ASSERT(answer("TEMP\ta\rb", &t) == -1);
	TEST_ASSERT(answer("", &t) == -1);
	str_free(&t);
}

static void test_reason_code(void)
{
	TEST_ASSERT(inject_reason_code("5.4.6 too many hops", '5') == 5);
	TEST_ASSERT(inject_reason_code("4.3.0 disk full", '4') == 5);
	TEST_ASSERT(inject_reason_code("5.123.456 x", '5') == 9);
	TEST_ASSERT(inject_reason_code("4.4.6 x", '5') == 0);
	TEST_ASSERT(inject_reason_code("5.4.6", '5') == 0);
	TEST_ASSERT(inject_reason_code("5.4.6x y", '5') == 0);
	TEST_ASSERT(inject_reason_code("5.1234.6 y", '5') == 0);
	TEST_ASSERT(inject_reason_code("5..6 y", '5') == 0);
	TEST_ASSERT(inject_reason_code("message too big", '5') == 0);
	TEST_ASSERT(inject_reason_code("", '5') == 0);
}

/* ---- the client against a scripted injector (a forked child) ---------- */

enum script { SCRIPT_OK, SCRIPT_EARLY_PERM, SCRIPT_DROP };

static char sock_dir[64];
static char sock_path[128];
#define BIG_SIZE 300000

/* The expected message byte at offset i. */
static char big_byte(size_t i)
{
	return (char)('a' + (i * 7) % 26);
}

/* In the child: serve one client; exit 0 if it behaved. */
static int script_serve(int cfd, enum script sc)
{
	static char buf[8192];
	struct inject_proto p;
	size_t used, len, at = 0;
	const char *data;
	ssize_t n;
	int ok = 1;

	char second[16] = "";

	inject_proto_init(&p, 0, 0, 0);
	while ((n = read(cfd, buf, sizeof(buf))) > 0) {
		for (size_t off = 0; off < (size_t)n; off += used) {
			enum inject_event ev = inject_proto_next(
				&p, buf + off, (size_t)n - off, &used, &data,
				&len);

			if (ev == INJECT_EV_ENVELOPE && sc == SCRIPT_EARLY_PERM) {
				dprintf(cfd, "PERM\tmessage too big\n");
				return 0;
			}
			if (ev == INJECT_EV_BODY && sc == SCRIPT_DROP)
				return 0;
			if (ev == INJECT_EV_RCPT && p.nrcpts == 2)
				snprintf(second, sizeof(second), "%s",
					 p.rcpt_addr);
			for (size_t i = 0; ev == INJECT_EV_BODY && i < len; i++)
				ok &= data[i] == big_byte(at++);
			if (ev == INJECT_EV_END) {
				dprintf(cfd, "OK\t1JN7W800F2K3K7P\n");
				return ok && at == BIG_SIZE &&
				       strcmp(second, "c@d") == 0 ? 0 : 1;
			}
			if (ev == INJECT_EV_ERROR)
				return 1;
		}
	}
	return 1;
}

static pid_t script_start(enum script sc)
{
	const char *error;
	int lfd, cfd;
	pid_t pid;

	snprintf(sock_dir, sizeof(sock_dir), "/tmp/test_inject.XXXXXX");
	if (mkdtemp(sock_dir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/inject", sock_dir);
	lfd = sock_listen_unix(sock_path, 0600, 5, &error);
	if (lfd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		fd_nonblock(lfd, 0);
		cfd = accept(lfd, NULL, NULL);
		_exit(cfd < 0 ? 2 : script_serve(cfd, sc));
	}
	close(lfd);
	return pid;
}

static int script_end(pid_t pid)
{
	int status = -1;

	waitpid(pid, &status, 0);
	unlink(sock_path);
	rmdir(sock_dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Begin, write BIG_SIZE bytes in uneven pieces, commit. */
static int client_send_big(struct str *id, struct str *reason)
{
	const char *rcpts[] = { "b@d", "c@d" };
	struct inject_env env = { .sender = "a@d", .rcpts = rcpts,
				  .nrcpts = 2 };
	struct inject_client ic;
	char piece[1000];
	size_t at = 0;
	int r;

	r = inject_begin(&ic, sock_path, &env, 5000, reason);
	if (r != INJECT_OK)
		return r;
	for (size_t k = 1; at < BIG_SIZE; k = k % 997 + 1) {
		size_t n = BIG_SIZE - at < k ? BIG_SIZE - at : k;

		for (size_t i = 0; i < n; i++)
			piece[i] = big_byte(at + i);
		if (inject_write(&ic, piece, n) < 0)
			break;
		at += n;
	}
	return inject_commit(&ic, id, reason);
}

static void test_client_refuses_bad_fields(void)
{
	const char *rcpts[] = { "b@d" };
	struct inject_env env = { .sender = "a\r\n@d", .rcpts = rcpts,
				  .nrcpts = 1 };
	struct str reason = STR_INIT(0);
	struct inject_client ic;

	/* a PERM, decided before any connection is tried */
	TEST_ASSERT(inject_begin(&ic, "/nonexistent/inject", &env, 1000,
				 &reason) == INJECT_PERM);
	TEST_STREQ(str_c(&reason), "bad sender address");
	env.sender = "a@d";
	TEST_ASSERT(inject_begin(&ic, "/nonexistent/inject", &env, 1000,
				 &reason) == INJECT_TEMP);
	TEST_ASSERT(strncmp(str_c(&reason), "queue service unavailable",
			    25) == 0);
	str_free(&reason);
}

static void test_client_round_trip(void)
{
	struct str id = STR_INIT(0), reason = STR_INIT(0);
	pid_t pid = script_start(SCRIPT_OK);

	TEST_ASSERT(pid > 0);
	TEST_ASSERT(client_send_big(&id, &reason) == INJECT_OK);
	TEST_STREQ(str_c(&id), "1JN7W800F2K3K7P");
	TEST_ASSERT(script_end(pid) == 0);
	str_free(&id);
	str_free(&reason);
}

static void test_client_early_answer(void)
{
	struct str id = STR_INIT(0), reason = STR_INIT(0);
	pid_t pid = script_start(SCRIPT_EARLY_PERM);

	TEST_ASSERT(pid > 0);
	TEST_ASSERT(client_send_big(&id, &reason) == INJECT_PERM);
	TEST_STREQ(str_c(&reason), "message too big");
	TEST_ASSERT(script_end(pid) == 0);
	str_free(&id);
	str_free(&reason);
}

static void test_client_connection_lost(void)
{
	struct str id = STR_INIT(0), reason = STR_INIT(0);
	pid_t pid = script_start(SCRIPT_DROP);

	TEST_ASSERT(pid > 0);
	TEST_ASSERT(client_send_big(&id, &reason) == INJECT_TEMP);
	TEST_ASSERT(strncmp(str_c(&reason), "queue service unavailable: "
			    "connection lost", 42) == 0);
	TEST_ASSERT(script_end(pid) == 0);
	str_free(&id);
	str_free(&reason);
}

TEST_MAIN(test_minimal, test_all_fields, test_byte_at_a_time,
	  test_many_chunks_one_buffer, test_sender_first, test_control_bytes,
	  test_nul_byte, test_line_too_long, test_field_length,
	  test_rcpt_rules, test_head_before_rcpts, test_rcpt_limit,
	  test_too_many_rcpts, test_once_keywords,
	  test_unknown_requests, test_flags, test_dsn_lines,
	  test_chunk_lengths,
	  test_size_limit, test_local_submission, test_after_the_end,
	  test_field_ok, test_envelope_round_trip, test_envelope_refused,
	  test_answers, test_reason_code, test_client_refuses_bad_fields,
	  test_client_round_trip, test_client_early_answer,
	  test_client_connection_lost)
