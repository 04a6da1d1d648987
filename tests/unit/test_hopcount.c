/*
 * test_hopcount - the Received: counter of postern-inject: a table of
 * header sections (folding, case, the obsolete blank before ':', names
 * that only look alike, CRLF, the end of the header section, a Received:
 * in the body) each fed whole and at every split, and the limit exactly
 * and one past
 */
#include <stdio.h>
#include <string.h>

#include "queue/hopcount.h"
#include "util/str.h"
#include "test.h"

struct hop_case {
	const char *in;
	unsigned count;
	int done;		/* the header section ended within in */
};

static const struct hop_case cases[] = {
	{ "", 0, 0 },
	{ "Received: a\nReceived: b\n\nbody\n", 2, 1 },
	{ "RECEIVED: x\nreceived: y\nReCeIvEd: z\n\n", 3, 1 },
	/* folded lines continue a field, even one that reads Received: */
	{ "Received: from a\n\tby b\n Received: no field\nSubject: s\n\n",
	  1, 1 },
	{ "Received: from a\n by b;\n\tSat, 1 Jan 2000\nReceived: c\n\n",
	  2, 1 },
	/* in the body it is no hop */
	{ "Subject: s\n\nReceived: in the body\nReceived: too\n", 0, 1 },
	/* RFC 5322 4.5.1: blanks before the colon */
	{ "Received : x\nReceived\t: y\nReceived \t : z\n\n", 3, 1 },
	/* names that only look alike */
	{ "Received-SPF: pass\nX-Received: y\nReceive: z\nReceivedx: w\n"
	  "Receivedxxxxxxxxxxx: v\nreceive d: u\n\n", 0, 1 },
	/* CRLF line ends: the CRLF line ends the header section */
	{ "Received: a\r\nReceived: b\r\n\r\nReceived: c\r\n", 2, 1 },
	/* a line that is no field ends the header section */
	{ "Received: a\nnot a header line\nReceived: b\n", 1, 1 },
	{ "Received: a\n: no name\nReceived: b\n", 1, 1 },
	{ "Received: a\nReceived b\nReceived: c\n", 1, 1 },
	/* a leading empty line: no header section at all */
	{ "\nReceived: a\n", 0, 1 },
	/* the end of the input inside the header section */
	{ "Received: a\nReceived: b\n", 2, 0 },
	{ "Received:", 1, 0 },
	{ "Received", 0, 0 },
	/* a bare CR at the start of a line ends it too */
	{ "Received: a\n\rReceived: b\n", 1, 1 },
	/* control bytes and 8-bit bytes are no field name */
	{ "Rec\x01" "eived: a\nReceived: b\n", 0, 1 },
	{ "R\xc3\xa9" "ceived: a\nReceived: b\n", 0, 1 },
};

static unsigned count_split(const char *in, size_t len, size_t step,
			    int *done_r)
{
	struct hopcount h;

	hopcount_init(&h);
	for (size_t off = 0; off < len; off += step)
		hopcount_feed(&h, in + off, len - off < step ? len - off : step);
	*done_r = hopcount_done(&h);
	return h.count;
}

static void test_table_every_split(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hop_case *c = &cases[i];
		size_t len = strlen(c->in);

		for (size_t step = 1; step <= len + 1; step++) {
			int done;
			unsigned n = count_split(c->in, len, step, &done);

			if (n != c->count || done != c->done)
				printf("  case %zu step %zu: %u (done %d), want "
				       "%u (done %d)\n", i, step, n, done,
				       c->count, c->done);
			TEST_ASSERT(n == c->count && done == c->done);
		}
	}
}

/* n Received: fields, folded as MTAs write them, then a body that has
 * one more. */
static void make_hops(struct str *s, unsigned n)
{
	str_clear(s);
	for (unsigned i = 0; i < n; i++)
		str_appendf(s, "Received: from h%u.example (h%u.example "
			    "[192.0.2.%u])\n\tby h%u.example (postern) with "
			    "ESMTP;\n\tSat, 1 Jan 2000 00:00:00 +0000\n",
			    i + 1, i + 1, i % 250 + 1, i);
	str_appends(s, "Subject: loop\n\nReceived: quoted in the body\n");
}

static void test_limit_exactly_and_one_past(void)
{
	struct str s = STR_INIT(0);
	struct hopcount h;

	make_hops(&s, 50);
	hopcount_init(&h);
	hopcount_feed(&h, s.s, s.len);
	TEST_ASSERT(h.count == 50 && hopcount_done(&h));
	TEST_ASSERT(!hopcount_exceeds(&h, 50));
	TEST_ASSERT(hopcount_exceeds(&h, 49));
	TEST_ASSERT(!hopcount_exceeds(&h, 0));	/* 0: no limit */
	make_hops(&s, 51);
	hopcount_init(&h);
	hopcount_feed(&h, s.s, s.len);
	TEST_ASSERT(h.count == 51);
	TEST_ASSERT(hopcount_exceeds(&h, 50));
	TEST_ASSERT(!hopcount_exceeds(&h, 51));
	str_free(&s);
}

/* Past the header section nothing more is looked at. */
static void test_body_is_not_scanned(void)
{
	struct hopcount h;

	hopcount_init(&h);
	hopcount_feed(&h, "Subject: x\n\n", 12);
	TEST_ASSERT(hopcount_done(&h));
	for (int i = 0; i < 1000; i++)
		hopcount_feed(&h, "Received: y\n", 12);
	TEST_ASSERT(h.count == 0);
}

TEST_MAIN(test_table_every_split, test_limit_exactly_and_one_past,
	  test_body_is_not_scanned)
