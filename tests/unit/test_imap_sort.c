/*
 * test_imap_sort - RFC 5256 base subject and SORT ordering
 * (imapd/imap_sort.h)
 *
 * The base subjects marked "Dovecot" were checked against Dovecot 2.3's
 * THREAD ORDEREDSUBJECT (two messages, the subject and its expected base
 * subject, land in one thread); the SORT orders in test_sort_dovecot are
 * Dovecot's answers for the same four messages.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "imapd/imap_sort.h"

struct base_case {
	const char *subject, *base;
	int reply;
};

static const struct base_case base_cases[] = {
	/* the brief's examples and RFC 5256's rules (Dovecot) */
	{ "Re: [PATCH] foo (fwd)", "foo", 1 },
	{ "Fwd: Re: re: x", "x", 1 },
	{ "[fwd: x]", "x", 1 },
	{ "[FWD: Re: X]", "x", 1 },
	{ "  Re:   hello \t world  ", "hello world", 1 },
	{ "A\tB", "a b", 0 },
	{ "a\r\n b", "a b", 0 },
	{ "[PATCH]", "[patch]", 0 },	/* a blob alone stays */
	{ "[a] [b]", "[b]", 0 },	/* the last blob is the base */
	{ "[a] [b] x", "x", 0 },
	{ "Re[2]: x", "x", 1 },
	{ "Re [blob]: x", "x", 1 },
	{ "FW: x", "x", 1 },
	{ "fw:x", "x", 1 },
	{ "fwd : x", "x", 1 },
	{ "fwdd: x", "fwdd: x", 0 },
	{ "Reply: x", "reply: x", 0 },
	{ "re x", "re x", 0 },
	{ "[a]Re: x", "x", 1 },		/* *subj-blob subj-refwd */
	{ "[a][b]re: x", "x", 1 },
	{ "Re: [fwd: Re: x] (fwd)", "x", 1 },
	{ "x (fwd) (fwd)", "x", 1 },
	{ "x(fwd)", "x", 1 },
	{ "[fwd: a] [b]", "[b]", 0 },	/* step 4 comes before step 6 */
	{ "[fwd: a [b]]", "a [b]", 1 },
	{ "Fwd: [fwd: [PATCH] Re: x]", "x", 1 },
	{ "[fwd: [a] x]", "x", 1 },
	{ "[fwd: x] (fwd)", "x", 1 },
	{ "re:re:re: x", "x", 1 },
	{ "Re: ", "", 1 },
	{ "Re:(fwd)", "", 1 },
	{ "(fwd)", "", 1 },
	{ "[fwd:]", "", 1 },
	{ "Re: [a]", "[a]", 1 },
	{ "Re: [x]: y", ": y", 1 },
	{ "[x] re:", "", 1 },
	{ "[]x", "x", 0 },
	{ "[] ", "[]", 0 },
	/* more */
	{ "", "", 0 },
	{ "   ", "", 0 },
	{ "Hello World", "hello world", 0 },
	{ "[a", "[a", 0 },
	{ "[a] [b", "[b", 0 },
	{ "re: [a", "[a", 1 },
	{ "re [a: x", "re [a: x", 0 },
	{ "[fwd: x", "[fwd: x", 0 },
	{ "fwd: [fwd: ]", "", 1 },
	{ "R\xc3\xa9: \xc3\x89t\xc3\xa9", "r\xc3\xa9: \xc3\x89t\xc3\xa9", 0 },
	{ "Re: \xc3\x89T\xc3\x89", "\xc3\x89t\xc3\x89", 1 },
	{ "SV: x", "sv: x", 0 },	/* only re, fw, fwd */
	{ "[a]x [b]", "x [b]", 0 },
};

static void test_base_subject_table(void)
{
	struct str out = STR_INIT(0);

	for (size_t i = 0; i < sizeof(base_cases) / sizeof(base_cases[0]); i++) {
		const struct base_case *c = &base_cases[i];
		int reply = -1;

		TEST_ASSERT(imap_base_subject(c->subject, strlen(c->subject),
					      &out, &reply) == 0);
		if (strcmp(str_c(&out), c->base) != 0 || reply != c->reply)
			printf("  case %zu \"%s\": \"%s\" reply %d\n", i,
			       c->subject, str_c(&out), reply);
		TEST_STREQ(str_c(&out), c->base);
		TEST_ASSERT(reply == c->reply);
		/* NULL is_reply_r is allowed and gives the same subject */
		TEST_ASSERT(imap_base_subject(c->subject, strlen(c->subject),
					      &out, NULL) == 0);
		TEST_STREQ(str_c(&out), c->base);
	}
	str_free(&out);
}

/* NUL bytes are dropped; the content of out is replaced, not appended. */
static void test_base_subject_bytes(void)
{
	struct str out = STR_INIT(0);
	int reply;

	str_sets(&out, "old");
	TEST_ASSERT(imap_base_subject("Re: a\0b", 7, &out, &reply) == 0);
	TEST_ASSERT(out.len == 2 && memcmp(out.s, "ab", 2) == 0 && reply);
	TEST_ASSERT(imap_base_subject(NULL, 0, &out, &reply) == 0);
	TEST_ASSERT(out.len == 0 && !reply);
	/* only len bytes are read */
	TEST_ASSERT(imap_base_subject("Re: abc", 5, &out, &reply) == 0);
	TEST_STREQ(str_c(&out), "a");
	str_free(&out);
}

/* out's cap: EMSGSIZE, out empty. The cap bounds the normalized subject,
 * not the raw one: collapsed spaces do not count. */
static void test_base_subject_cap(void)
{
	struct str out = STR_INIT(4);
	int reply;

	errno = 0;
	TEST_ASSERT(imap_base_subject("Re: abcdef", 10, &out, &reply) < 0);
	TEST_ASSERT(errno == EMSGSIZE && out.len == 0);
	TEST_ASSERT(imap_base_subject("a      b", 8, &out, &reply) == 0);
	TEST_STREQ(str_c(&out), "a b");
	str_free(&out);
}

/* Long runs of blobs and prefixes stay linear and come out right. */
static void test_base_subject_long(void)
{
	struct str in = STR_INIT(0), out = STR_INIT(0);
	int reply;

	for (int i = 0; i < 20000; i++)
		str_appends(&in, "[a]");
	str_appends(&in, " x");
	TEST_ASSERT(imap_base_subject(in.s, in.len, &out, &reply) == 0);
	TEST_STREQ(str_c(&out), "x");
	TEST_ASSERT(!reply);
	str_clear(&in);
	for (int i = 0; i < 20000; i++)
		str_appends(&in, "Re: [fwd: ");
	str_appends(&in, "y");
	for (int i = 0; i < 20000; i++)
		str_appends(&in, "] (fwd)");
	TEST_ASSERT(imap_base_subject(in.s, in.len, &out, &reply) == 0);
	TEST_STREQ(str_c(&out), "y");
	TEST_ASSERT(reply);
	str_clear(&in);
	str_appends(&in, "re");
	for (int i = 0; i < 20000; i++)
		str_appends(&in, "[a][a");
	TEST_ASSERT(imap_base_subject(in.s, in.len, &out, &reply) == 0);
	TEST_ASSERT(out.len == in.len && !reply);
	str_free(&in);
	str_free(&out);
}

/* ---- SORT ---- */

static struct imap_sort_msg msg(uint32_t seq, const char *subject,
				time_t date, const char *from,
				const char *displayfrom, const char *to)
{
	struct imap_sort_msg m;

	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.uid = seq * 10;
	m.arrival = 1000 - seq;
	m.date = date;
	m.size = 100 + seq % 2;
	m.subject = subject;
	m.from = from;
	m.displayfrom = displayfrom;
	m.to = to;
	m.cc = "";
	m.displayto = to;
	return m;
}

static const char *sort_order(const struct imap_sort_msg *in, size_t n,
			      const struct imap_sort_criterion *crit,
			      unsigned ncrit)
{
	static char buf[200];
	struct imap_sort_msg m[16];
	size_t off = 0;

	memcpy(m, in, n * sizeof(*m));
	if (imap_sort(m, n, crit, ncrit) < 0)
		return "error";
	buf[0] = '\0';
	for (size_t i = 0; i < n && off + 12 < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u",
					i ? " " : "", m[i].seq);
	return buf;
}

#define CRIT(...) (const struct imap_sort_criterion[]){ __VA_ARGS__ }
#define NCRIT(...) (unsigned)(sizeof(CRIT(__VA_ARGS__)) / \
			      sizeof(struct imap_sort_criterion))
#define ORDER(m, ...) sort_order(m, sizeof(m) / sizeof(m[0]), \
				 CRIT(__VA_ARGS__), NCRIT(__VA_ARGS__))

/* Dovecot's answers for these four messages (From: "Zed <Z@b.example>",
 * "al <al@a.example>", "Bob <bob@b.example>", "al@a.example"; dates 5,
 * 3, 5, 1; subjects "b", "Re: a", "[x] b", "a"; To to1, to2, To1, to3):
 * ties go by sequence number, also under REVERSE. */
static void test_sort_dovecot(void)
{
	const struct imap_sort_msg m[] = {
		msg(1, "b", 5, "z", "zed", "to1@x"),
		msg(2, "a", 3, "al", "al", "to2@x"),
		msg(3, "b", 5, "bob", "bob", "to1@x"),
		msg(4, "a", 1, "al", "al@a.example", "to3@x"),
	};

	TEST_STREQ(ORDER(m, { IMAP_SORT_SUBJECT, 0 }), "2 4 1 3");
	TEST_STREQ(ORDER(m, { IMAP_SORT_SUBJECT, 1 }), "1 3 2 4");
	TEST_STREQ(ORDER(m, { IMAP_SORT_DATE, 0 }), "4 2 1 3");
	TEST_STREQ(ORDER(m, { IMAP_SORT_DATE, 1 }), "1 3 2 4");
	TEST_STREQ(ORDER(m, { IMAP_SORT_FROM, 0 }), "2 4 3 1");
	TEST_STREQ(ORDER(m, { IMAP_SORT_FROM, 1 }, { IMAP_SORT_DATE, 0 }),
		   "1 3 4 2");
	TEST_STREQ(ORDER(m, { IMAP_SORT_DISPLAYFROM, 0 }), "2 4 3 1");
	TEST_STREQ(ORDER(m, { IMAP_SORT_TO, 0 }, { IMAP_SORT_SUBJECT, 1 }),
		   "1 3 2 4");
	TEST_STREQ(ORDER(m, { IMAP_SORT_SUBJECT, 0 }, { IMAP_SORT_DATE, 1 }),
		   "2 4 1 3");
}

static void test_sort_keys(void)
{
	struct imap_sort_msg m[] = {
		msg(1, "s", 7, "c", "c", "b"),
		msg(2, "s", 7, "b", "c", "a"),
		msg(3, "s", 7, "a", "a", "c"),
		msg(4, NULL, 7, NULL, NULL, NULL),	/* NULL is "" */
	};

	m[0].cc = "y";
	m[1].cc = "x";
	m[2].cc = "z";
	m[3].cc = "x";
	m[0].size = 1ULL << 40;
	m[1].size = 5;
	m[2].size = 5;
	m[3].size = 0;
	/* arrival is 1000 - seq: reverse mailbox order */
	TEST_STREQ(ORDER(m, { IMAP_SORT_ARRIVAL, 0 }), "4 3 2 1");
	TEST_STREQ(ORDER(m, { IMAP_SORT_ARRIVAL, 1 }), "1 2 3 4");
	TEST_STREQ(ORDER(m, { IMAP_SORT_SIZE, 0 }), "4 2 3 1");
	TEST_STREQ(ORDER(m, { IMAP_SORT_SIZE, 1 }), "1 2 3 4");
	TEST_STREQ(ORDER(m, { IMAP_SORT_CC, 0 }), "2 4 1 3");
	TEST_STREQ(ORDER(m, { IMAP_SORT_FROM, 0 }), "4 3 2 1");
	TEST_STREQ(ORDER(m, { IMAP_SORT_TO, 0 }), "4 2 1 3");
	TEST_STREQ(ORDER(m, { IMAP_SORT_DISPLAYTO, 1 }), "3 1 2 4");
	TEST_STREQ(ORDER(m, { IMAP_SORT_DISPLAYFROM, 0 },
			 { IMAP_SORT_FROM, 1 }), "4 3 1 2");
	TEST_STREQ(ORDER(m, { IMAP_SORT_SUBJECT, 0 }), "4 1 2 3");
	TEST_STREQ(ORDER(m, { IMAP_SORT_DATE, 0 }), "1 2 3 4");
	/* dates far apart do not overflow a subtraction */
	m[0].date = (time_t)-1;
	m[1].date = (time_t)((1ULL << (sizeof(time_t) * 8 - 1)) - 1);
	TEST_STREQ(ORDER(m, { IMAP_SORT_DATE, 0 }), "1 3 4 2");
	/* every criterion can be given, up to IMAP_SORT_KEYS_MAX */
	TEST_STREQ(ORDER(m, { IMAP_SORT_SUBJECT, 0 }, { IMAP_SORT_SUBJECT, 1 },
			 { IMAP_SORT_CC, 0 }, { IMAP_SORT_SIZE, 0 }), "4 2 1 3");
}

static void test_sort_errors(void)
{
	struct imap_sort_msg m[2] = { msg(1, "a", 1, "", "", ""),
				      msg(2, "a", 1, "", "", "") };
	struct imap_sort_criterion crit[IMAP_SORT_KEYS_MAX + 1];

	memset(crit, 0, sizeof(crit));
	errno = 0;
	TEST_ASSERT(imap_sort(m, 2, crit, 0) < 0 && errno == EINVAL);
	TEST_ASSERT(imap_sort(m, 2, crit, IMAP_SORT_KEYS_MAX + 1) < 0);
	TEST_ASSERT(imap_sort(m, 2, crit, IMAP_SORT_KEYS_MAX) == 0);
	crit[0].key = (enum imap_sort_key)99;
	TEST_ASSERT(imap_sort(m, 2, crit, 1) < 0 && errno == EINVAL);
	crit[0].key = IMAP_SORT_DATE;
	TEST_ASSERT(imap_sort(NULL, 0, crit, 1) == 0);
	TEST_ASSERT(imap_sort(NULL, 1, crit, 1) < 0);
}

/* A large mailbox, in reverse order, with ties: sorted and stable by
 * sequence number. */
static void test_sort_large(void)
{
	size_t n = 200000;
	struct imap_sort_msg *m = calloc(n, sizeof(*m));
	const struct imap_sort_criterion crit[] = { { IMAP_SORT_DATE, 1 } };
	int ok = 1;

	if (m == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		m[i].seq = (uint32_t)(n - i);
		m[i].date = (time_t)(i / 3);
	}
	TEST_ASSERT(imap_sort(m, n, crit, 1) == 0);
	for (size_t i = 1; i < n; i++)
		if (m[i - 1].date < m[i].date ||
		    (m[i - 1].date == m[i].date && m[i - 1].seq > m[i].seq))
			ok = 0;
	TEST_ASSERT(ok);
	free(m);
}

TEST_MAIN(test_base_subject_table, test_base_subject_bytes,
	  test_base_subject_cap, test_base_subject_long, test_sort_dovecot,
	  test_sort_keys, test_sort_errors, test_sort_large)
