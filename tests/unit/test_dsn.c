/*
 * test_dsn - the text of bounces and delay warnings (queue/dsn.c):
 * structure and fields, status codes, dates, the header section,
 * cleaning of untrusted text, folding within 998 bytes, the boundary,
 * 8-bit parts, and no DSN for the null sender.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "queue/dsn.h"

#define T0 1717322400	/* Sun, 02 Jun 2024 10:00:00 +0000 */

static const char original[] =
	"Received: from x by y\n"
	"Subject: hello\n"
	"X-Marker: here\n"
	"\n"
	"the body must not be returned\n";

static struct dsn_rcpt rcpt_local = {
	"nobody@example.test", NULL, DSN_FAILED, "5.1.1 user unknown",
	NULL, NULL, T0 + 5, NULL,
};

static void report_init(struct dsn_report *d, const struct dsn_rcpt *r,
			size_t n)
{
	memset(d, 0, sizeof(*d));
	d->hostname = "mail.example.test";
	d->queue_id = "1JN7W800F2K3K7P";
	d->sender = "alice@example.test";
	d->unique = "1JN7W800F2K3K7P.1717322460.0";
	d->arrival = T0;
	d->now = T0 + 60;
	d->retry_until = T0 + 5 * 86400;
	d->rcpts = r;
	d->nrcpts = n;
	d->original = original;
	d->original_len = sizeof(original) - 1;
}

static int build(const struct dsn_report *d, struct str *out, int *eight)
{
	const char *error = NULL;
	int r;

	str_clear(out);
	r = dsn_build(d, out, eight, &error);
	if (r < 0)
		TEST_ASSERT(error != NULL);
	return r;
}

static int has(const struct str *s, const char *needle)
{
	return memmem(s->s, s->len, needle, strlen(needle)) != NULL;
}

static size_t count(const struct str *s, const char *needle)
{
	size_t n = 0, k = strlen(needle);
	const char *p = s->s, *end = s->s + s->len, *q;

	while ((q = memmem(p, (size_t)(end - p), needle, k)) != NULL) {
		n++;
		p = q + k;
	}
	return n;
}

/* Undo folding: LF and the white space after it become one space. */
static void unfold(const struct str *in, struct str *out)
{
	str_clear(out);
	for (size_t i = 0; i < in->len; i++) {
		if (in->s[i] == '\n' && i + 1 < in->len &&
		    (in->s[i + 1] == ' ' || in->s[i + 1] == '\t')) {
			while (i + 1 < in->len &&
			       (in->s[i + 1] == ' ' || in->s[i + 1] == '\t'))
				i++;
			str_appendc(out, ' ');
			continue;
		}
		str_appendc(out, in->s[i]);
	}
}

/* Every line within 998 bytes, no CR, no NUL, ends in LF. */
static int lines_ok(const struct str *s)
{
	size_t col = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (s->s[i] == '\r' || s->s[i] == '\0')
			return 0;
		col = s->s[i] == '\n' ? 0 : col + 1;
		if (col > DSN_LINE_MAX)
			return 0;
	}
	return s->len > 0 && s->s[s->len - 1] == '\n';
}

/* The boundary from the Content-Type, into b. */
static void boundary_of(const struct str *s, char *b, size_t size)
{
	const char *p = strstr(s->s, "boundary=\""), *e;

	b[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("boundary=\"");
	e = strchr(p, '"');
	if (e == NULL || (size_t)(e - p) >= size)
		return;
	memcpy(b, p, (size_t)(e - p));
	b[e - p] = '\0';
}

static void test_null_sender_gets_none(void)
{
	struct dsn_report d;
	struct str out = STR_INIT(0);
	int eight;

	TEST_ASSERT(!dsn_wanted(""));
	TEST_ASSERT(!dsn_wanted(NULL));
	TEST_ASSERT(dsn_wanted("a@b"));
	report_init(&d, &rcpt_local, 1);
	d.sender = "";
	TEST_ASSERT(build(&d, &out, &eight) < 0);
	TEST_ASSERT(out.len == 0);
	report_init(&d, &rcpt_local, 0);
	TEST_ASSERT(build(&d, &out, &eight) < 0);
	report_init(&d, &rcpt_local, 1);
	d.hostname = "";
	TEST_ASSERT(build(&d, &out, &eight) < 0);
	str_free(&out);
}

static void test_structure(void)
{
	struct dsn_report d;
	struct str out = STR_INIT(0), delim = STR_INIT(0);
	char b[100];
	int eight = 1;

	report_init(&d, &rcpt_local, 1);
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(!eight);
	TEST_ASSERT(lines_ok(&out));
	TEST_ASSERT(has(&out, "From: Mail Delivery System "
			"<MAILER-DAEMON@mail.example.test>\n") &&
		    out.s[0] == 'F');
	TEST_ASSERT(has(&out, "\nTo: <alice@example.test>\n"));
	TEST_ASSERT(has(&out, "\nSubject: Undelivered Mail Returned to "
			"Sender\n"));
	TEST_ASSERT(has(&out, "\nDate: Sun, 02 Jun 2024 10:01:00 +0000\n"));
	TEST_ASSERT(has(&out, "\nMessage-ID: <1JN7W800F2K3K7P.1717322460.0"
			".dsn@mail.example.test>\n"));
	TEST_ASSERT(has(&out, "\nAuto-Submitted: auto-replied\n"));
	TEST_ASSERT(has(&out, "\nMIME-Version: 1.0\n"));
	TEST_ASSERT(has(&out, "\nContent-Type: multipart/report; "
			"report-type=delivery-status;\n\tboundary=\""));
	boundary_of(&out, b, sizeof(b));
	TEST_ASSERT(b[0] != '\0');
	str_appendf(&delim, "\n--%s\n", b);
	TEST_ASSERT(count(&out, str_c(&delim)) == 3);
	str_clear(&delim);
	str_appendf(&delim, "\n--%s--\n", b);
	TEST_ASSERT(count(&out, str_c(&delim)) == 1);
	TEST_ASSERT(out.len >= delim.len &&
		    strcmp(out.s + out.len - delim.len, str_c(&delim)) == 0);
	TEST_ASSERT(has(&out, "Content-Type: text/plain; charset=us-ascii\n"));
	TEST_ASSERT(has(&out, "Content-Type: message/delivery-status\n\n"
			"Reporting-MTA: dns; mail.example.test\n"
			"X-Postern-Queue-ID: 1JN7W800F2K3K7P\n"
			"X-Postern-Sender: rfc822; alice@example.test\n"
			"Arrival-Date: Sun, 02 Jun 2024 10:00:00 +0000\n\n"
			"Final-Recipient: rfc822; nobody@example.test\n"
			"Action: failed\n"
			"Status: 5.1.1\n"
			"Diagnostic-Code: X-Postern; 5.1.1 user unknown\n"
			"Last-Attempt-Date: Sun, 02 Jun 2024 10:00:05 +0000\n"));
	TEST_ASSERT(has(&out, "Content-Type: text/rfc822-headers\n\n"
			"Received: from x by y\nSubject: hello\n"
			"X-Marker: here\n\n--"));
	TEST_ASSERT(!has(&out, "the body"));
	TEST_ASSERT(!has(&out, "Will-Retry-Until"));
	TEST_ASSERT(!has(&out, "Remote-MTA"));
	TEST_ASSERT(!has(&out, "Original-Recipient"));
	TEST_ASSERT(has(&out, "<nobody@example.test>: 5.1.1 user unknown\n"));
	TEST_ASSERT(!has(&out, "Content-Transfer-Encoding"));
	str_free(&out);
	str_free(&delim);
}

static void test_remote_and_original_recipient(void)
{
	struct dsn_rcpt r[2] = {
		{ "x@remote.example", "list@example.test", DSN_FAILED, NULL,
		  "mx1.remote.example",
		  "550-5.7.1 first line\r\n550 5.7.1 second\tline\x1b[2J",
		  T0 + 30, NULL },
		{ "y@remote.example", NULL, DSN_FAILED, NULL,
		  "mx2.remote.example", "554 no enhanced code", 0, NULL },
	};
	struct dsn_report d;
	struct str out = STR_INIT(0), raw = STR_INIT(0);
	int eight;

	report_init(&d, r, 2);
	TEST_ASSERT(build(&d, &raw, &eight) == 0);
	TEST_ASSERT(lines_ok(&raw));
	unfold(&raw, &out);
	TEST_ASSERT(has(&out, "Final-Recipient: rfc822; x@remote.example\n"
			"Original-Recipient: rfc822; list@example.test\n"
			"Action: failed\nStatus: 5.7.1\n"
			"Remote-MTA: dns; mx1.remote.example\n"
			"Diagnostic-Code: smtp; 550-5.7.1 first line 550 5.7.1 "
			"second line [2J\n"));
	TEST_ASSERT(has(&out, "Status: 5.0.0\nRemote-MTA: dns; "
			"mx2.remote.example\nDiagnostic-Code: smtp; 554 no "
			"enhanced code\nLast-Attempt-Date: Sun, 02 Jun 2024 "
			"10:01:00 +0000\n"));
	TEST_ASSERT(has(&out, "<x@remote.example> (for <list@example.test>): "
			"host mx1.remote.example said: 550-5.7.1 first line"));
	TEST_ASSERT(!has(&out, "\x1b"));
	str_free(&out);
	str_free(&raw);
}

static void test_expired_and_delayed(void)
{
	struct dsn_rcpt r[2] = {
		{ "a@example.test", NULL, DSN_EXPIRED,
		  "4.2.0 mailbox does not exist", NULL, NULL, 0, NULL },
		{ "b@example.test", NULL, DSN_DELAYED, NULL, NULL, NULL, 0,
		  NULL },
	};
	struct dsn_report d;
	struct str out = STR_INIT(0);
	int eight;

	report_init(&d, r, 1);
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(has(&out, "Action: failed\nStatus: 4.2.0\n"
			"Diagnostic-Code: X-Postern; 4.2.0 mailbox does not "
			"exist\n"));
	TEST_ASSERT(has(&out, "delivery time expired"));
	TEST_ASSERT(has(&out, "Subject: Undelivered Mail"));

	report_init(&d, r + 1, 1);
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(lines_ok(&out));
	TEST_ASSERT(has(&out, "Subject: Delayed Mail (still being "
			"retried)\n"));
	TEST_ASSERT(has(&out, "Action: delayed\nStatus: 4.0.0\n"));
	TEST_ASSERT(has(&out, "Will-Retry-Until: Fri, 07 Jun 2024 10:00:00 "
			"+0000\n"));
	TEST_ASSERT(has(&out, "WARNING ONLY"));
	TEST_ASSERT(has(&out, "waited 60 seconds"));

	report_init(&d, r, 2);	/* both in one: the failure decides */
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(has(&out, "Subject: Undelivered Mail"));
	TEST_ASSERT(count(&out, "Final-Recipient:") == 2);
	TEST_ASSERT(count(&out, "Will-Retry-Until:") == 1);
	str_free(&out);
}

static void test_status(void)
{
	static const struct {
		const char *reason, *reply;
		enum dsn_action action;
		const char *want;
	} cases[] = {
		{ "5.1.1 user unknown", NULL, DSN_FAILED, "5.1.1" },
		{ NULL, "550 5.2.2 full", DSN_FAILED, "5.2.2" },
		{ NULL, "550-5.2.2 full", DSN_FAILED, "5.2.2" },
		{ "5.1.1 x", "552 5.3.4 too big", DSN_FAILED, "5.3.4" },
		{ NULL, "552 too big", DSN_FAILED, "5.0.0" },
		{ NULL, "451 later", DSN_DELAYED, "4.0.0" },
		{ NULL, "451 4.4.1 no answer", DSN_EXPIRED, "4.4.1" },
		{ NULL, NULL, DSN_EXPIRED, "4.4.7" },
		{ NULL, NULL, DSN_FAILED, "5.0.0" },
		{ NULL, NULL, DSN_DELAYED, "4.0.0" },
		{ "4.2.0 no mailbox", NULL, DSN_FAILED, "5.2.0" },
		{ "5.1.1 x", NULL, DSN_DELAYED, "4.1.1" },
		{ "5.123.456 long", NULL, DSN_FAILED, "5.123.456" },
		{ "5.1234.1 bad", NULL, DSN_FAILED, "5.0.0" },
		{ "3.1.1 bad class", NULL, DSN_FAILED, "5.0.0" },
		{ "5.1.1x", NULL, DSN_FAILED, "5.1.1" },
		{ "5.1.12345", NULL, DSN_FAILED, "5.0.0" },
		{ "5..1", NULL, DSN_FAILED, "5.0.0" },
		{ "", "", DSN_FAILED, "5.0.0" },
		{ NULL, "55", DSN_FAILED, "5.0.0" },
	};
	char out[DSN_STATUS_SIZE];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dsn_rcpt r = { "a@b", NULL, cases[i].action,
				      cases[i].reason, NULL, cases[i].reply,
				      0, NULL };

		dsn_status(&r, out);
		if (strcmp(out, cases[i].want) != 0)
			printf("case %zu: %s\n", i, out);
		TEST_STREQ(out, cases[i].want);
	}
}

static void test_header_section(void)
{
	static const struct {
		const char *msg;
		size_t max, want;
	} cases[] = {
		{ "A: 1\nB: 2\n\nbody\n", 1000, 10 },
		{ "A: 1\r\nB: 2\r\n\r\nbody\n", 1000, 12 },
		{ "\nbody\n", 1000, 0 },
		{ "", 1000, 0 },
		{ "A: 1\nB: 2\n", 1000, 10 },
		{ "A: 1\nB: 2", 1000, 9 },
		{ "A: 1\nB: 2\nC: 3\n\nx", 7, 5 },
		{ "AAAAAAAAAAAA", 5, 5 },
		{ "A: 1\nB: 2\n\n", 10, 10 },
		{ "A: 1\nB: 2\n\n", 11, 10 },
		{ "A: 1\n\r", 1000, 6 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = dsn_header_section(cases[i].msg,
					      strlen(cases[i].msg),
					      cases[i].max);

		if (n != cases[i].want)
			printf("case %zu: %zu\n", i, n);
		TEST_ASSERT(n == cases[i].want);
	}
}

static void test_folding(void)
{
	static const char bad[] = "\nX-Bad: a\0b\rc\r\n\nbody\n";
	struct str reply = STR_INIT(0), orig = STR_INIT(0), out = STR_INIT(0),
		   addr = STR_INIT(0);
	struct dsn_rcpt r = { NULL, NULL, DSN_FAILED, NULL, "mx.example",
			      NULL, 0, NULL };
	struct dsn_report d;
	int eight;

	str_appends(&reply, "550 5.1.1");
	for (int i = 0; i < 300; i++)
		str_appendf(&reply, " word%d", i);
	str_appendc(&reply, ' ');
	for (int i = 0; i < 1500; i++)
		str_appendc(&reply, 'z');
	for (int i = 0; i < 1200; i++)
		str_appendc(&addr, 'a');
	str_appends(&addr, "@example.test");
	str_appends(&orig, "Subject: ");
	for (int i = 0; i < 500; i++)
		str_appendf(&orig, "w%d ", i);
	str_appends(&orig, "\nX-Solid: ");
	for (int i = 0; i < 3000; i++)
		str_appendc(&orig, 'y');
	str_append(&orig, bad, sizeof(bad) - 1);	/* with its NUL */
	r.final_rcpt = str_c(&addr);
	r.smtp_reply = str_c(&reply);
	report_init(&d, &r, 1);
	d.sender = str_c(&addr);
	d.original = orig.s;
	d.original_len = orig.len;
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(lines_ok(&out));
	TEST_ASSERT(has(&out, "\n word"));	/* folded at spaces */
	TEST_ASSERT(has(&out, "Diagnostic-Code: smtp; 550 5.1.1 word0 word1"));
	TEST_ASSERT(has(&out, "..."));	/* the reply was cut */
	/* the solid header was broken into continuation lines */
	TEST_ASSERT(has(&out, "X-Solid:\n yyy"));
	TEST_ASSERT(has(&out, "\n\tyyy"));
	TEST_ASSERT(has(&out, "X-Bad: a b c\n"));
	str_free(&reply);
	str_free(&orig);
	str_free(&out);
	str_free(&addr);
}

static void test_boundary_not_in_content(void)
{
	struct dsn_report d;
	struct str out = STR_INIT(0), orig = STR_INIT(0);
	char b[100];
	int eight;

	/* the first three boundaries the builder would try */
	str_appends(&orig, "X-A: postern-dsn-U1-0\nX-B: postern-dsn-U1-1\n"
		    "X-C: --postern-dsn-U1-2\n\n");
	report_init(&d, &rcpt_local, 1);
	d.unique = "U1";
	d.original = orig.s;
	d.original_len = orig.len;
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	boundary_of(&out, b, sizeof(b));
	TEST_STREQ(b, "postern-dsn-U1-3");
	TEST_ASSERT(count(&out, "postern-dsn-U1-3") == 5);
	/* an odd unique string keeps only safe characters */
	d.unique = "a b\"c;d\n";
	str_clear(&out);
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	boundary_of(&out, b, sizeof(b));
	TEST_STREQ(b, "postern-dsn-abcd-0");
	TEST_ASSERT(has(&out, "Message-ID: <abcd.dsn@mail.example.test>\n"));
	str_free(&out);
	str_free(&orig);
}

static void test_eightbit(void)
{
	static const char orig8[] = "Subject: caf\xc3\xa9\n\nbody\n";
	struct dsn_rcpt r = { "j\xc3\xb6rg@example.test", NULL, DSN_FAILED,
			      "5.1.1 bad \xc3\xa9 reason", NULL, NULL, 0, NULL };
	struct dsn_report d;
	struct str out = STR_INIT(0);
	int eight = 0;

	report_init(&d, &rcpt_local, 1);
	d.original = orig8;
	d.original_len = sizeof(orig8) - 1;
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(eight);
	TEST_ASSERT(has(&out, "Content-Type: text/rfc822-headers\n"
			"Content-Transfer-Encoding: 8bit\n"));
	TEST_ASSERT(has(&out, "charset=us-ascii"));

	report_init(&d, &r, 1);
	str_clear(&out);
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(eight);
	TEST_ASSERT(has(&out, "Final-Recipient: rfc822; j\xc3\xb6rg@"));
	TEST_ASSERT(has(&out, "X-Postern; 5.1.1 bad ?? reason"));
	TEST_ASSERT(has(&out, "charset=utf-8\nContent-Transfer-Encoding: "
			"8bit\n"));
	str_free(&out);
}

static void test_whole_original(void)
{
	struct dsn_report d;
	struct str out = STR_INIT(0);
	int eight;

	report_init(&d, &rcpt_local, 1);
	d.original_whole = 1;
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(has(&out, "Content-Type: message/rfc822\n\n"
			"Received: from x by y\n"));
	TEST_ASSERT(has(&out, "\nthe body must not be returned\n"));
	TEST_ASSERT(!has(&out, "text/rfc822-headers"));
	/* no original: two parts only */
	report_init(&d, &rcpt_local, 1);
	d.original_len = 0;
	str_clear(&out);
	TEST_ASSERT(build(&d, &out, &eight) == 0);
	TEST_ASSERT(!has(&out, "rfc822-headers"));
	TEST_ASSERT(count(&out, "\n--postern-dsn-") == 3);
	str_free(&out);
}

TEST_MAIN(test_null_sender_gets_none, test_structure,
	  test_remote_and_original_recipient, test_expired_and_delayed,
	  test_status, test_header_section, test_folding,
	  test_boundary_not_in_content, test_eightbit, test_whole_original)
