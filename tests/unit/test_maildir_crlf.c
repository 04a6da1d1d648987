/*
 * test_maildir_crlf - the CRLF / dot-stuffing / TOP stream
 * (common/mail/maildir_crlf.h)
 *
 * Every case is fed whole, then in pieces of every size from 1 byte up,
 * then in two pieces split at every position, then (for short inputs) in
 * three pieces at every pair of positions; each way must give the bytes
 * of the table, the same "mid line" answer, and the same count from the
 * counting mode. Then every string of up to 7 bytes over CR, LF, '.' and
 * 'a' is checked against a naive line-by-line reference, split at every
 * position. A read-sized case puts the CR of the header's empty line at
 * the end of a 64 KiB read (TOP used to send the body then).
 */
#include "test.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "mail/maildir_crlf.h"
#include "util/str.h"

struct result {
	struct str out;
	int mid;
	size_t counted;
};

/* Feed in[0..n) in pieces ending at the offsets cuts[0..ncuts) (then n). */
static void feed(const char *in, size_t n, unsigned flags, long lines,
		 const size_t *cuts, size_t ncuts, struct result *r)
{
	struct maildir_crlf c, cc;
	size_t start = 0;

	str_clear(&r->out);
	r->counted = 0;
	maildir_crlf_init(&c, flags, lines);
	maildir_crlf_init(&cc, flags, lines);
	for (size_t k = 0; k <= ncuts && !c.done; k++) {
		size_t end = k < ncuts ? cuts[k] : n, used, o;
		char *buf = malloc(MAILDIR_CRLF_OUT_MAX(end - start) + 1);

		o = maildir_crlf_convert(&c, in + start, end - start, buf,
					 &used);
		TEST_ASSERT(o <= MAILDIR_CRLF_OUT_MAX(end - start));
		TEST_ASSERT(used == end - start || c.done);
		str_append(&r->out, buf, o);
		r->counted += maildir_crlf_convert(&cc, in + start,
						   end - start, NULL, &used);
		free(buf);
		start = end;
	}
	r->mid = maildir_crlf_mid_line(&c);
}

/* The whole buffer, in pieces of size step. */
static void feed_step(const char *in, size_t n, unsigned flags, long lines,
		      size_t step, struct result *r)
{
	size_t ncuts = n / step + 1, k = 0;
	size_t *cuts = malloc(ncuts * sizeof(*cuts));

	for (size_t p = step; p < n; p += step)
		cuts[k++] = p;
	feed(in, n, flags, lines, cuts, k, r);
	free(cuts);
}

static int same(const struct result *a, const struct result *b)
{
	return a->out.len == b->out.len && a->mid == b->mid &&
	       memcmp(str_c(&a->out), str_c(&b->out), a->out.len) == 0;
}

/* Every way of cutting in must give what the whole buffer gives. */
static void every_split(const char *in, size_t n, unsigned flags, long lines,
			const struct result *whole)
{
	struct result r = { STR_INIT(0), 0, 0 };
	int bad = 0;

	for (size_t step = 1; step <= n && !bad; step++) {
		feed_step(in, n, flags, lines, step, &r);
		bad = !same(&r, whole) || r.counted != whole->out.len;
	}
	for (size_t p = 0; p <= n && !bad; p++) {
		feed(in, n, flags, lines, &p, 1, &r);
		bad = !same(&r, whole) || r.counted != whole->out.len;
	}
	for (size_t p = 0; n <= 64 && p <= n && !bad; p++)
		for (size_t q = p; q <= n && !bad; q++) {
			size_t cuts[2] = { p, q };

			feed(in, n, flags, lines, cuts, 2, &r);
			bad = !same(&r, whole) ||
			      r.counted != whole->out.len;
		}
	TEST_ASSERT(!bad);
	str_free(&r.out);
}

struct crlf_case {
	const char *in;
	unsigned flags;
	long lines;
	const char *want;
	int mid;
};

#define D MAILDIR_CRLF_DOTS
static const struct crlf_case cases[] = {
	/* bare LF */
	{ "A: b\nC: d\n\nline1\nline2\n", D, -1,
	  "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", 0 },
	{ "A: b\nC: d\n\nline1\nline2\n", D, 0, "A: b\r\nC: d\r\n\r\n", 0 },
	{ "A: b\nC: d\n\nline1\nline2\n", D, 1,
	  "A: b\r\nC: d\r\n\r\nline1\r\n", 0 },
	{ "A: b\nC: d\n\nline1\nline2\n", D, 2,
	  "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", 0 },
	{ "A: b\nC: d\n\nline1\nline2\n", D, 9,
	  "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", 0 },
	/* CRLF: kept as it is; the empty line CRLF ends the header */
	{ "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", D, -1,
	  "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", 0 },
	{ "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", D, 0,
	  "A: b\r\nC: d\r\n\r\n", 0 },
	{ "A: b\r\nC: d\r\n\r\nline1\r\nline2\r\n", D, 1,
	  "A: b\r\nC: d\r\n\r\nline1\r\n", 0 },
	/* mixed line ends */
	{ "A: b\r\n\nbody\r\nx\n", D, 0, "A: b\r\n\r\n", 0 },
	{ "A: b\n\r\nbody\nx\r\n", D, 1, "A: b\r\n\r\nbody\r\n", 0 },
	/* CR without LF is content and ends no line */
	{ "A: b\rc\n\nbody\rmore\nx\r", 0, -1,
	  "A: b\rc\r\n\r\nbody\rmore\r\nx\r", 1 },
	{ "A: b\rc\n\nbody\rmore\nx\r", 0, 0, "A: b\rc\r\n\r\n", 0 },
	{ "A: b\n\r\rX\nbody\n", 0, 0, "A: b\r\n\r\rX\r\nbody\r\n", 0 },
	{ "\r\r\nX\n\nbody\n", 0, 0, "\r\r\nX\r\n\r\n", 0 },
	{ "\r", 0, -1, "\r", 1 },
	{ "\r", 0, 0, "\r", 1 },
	/* a dot at a line start, in the header and the body */
	{ ".h: x\n\n.\n..x\n.y\n", D, -1,
	  "..h: x\r\n\r\n..\r\n...x\r\n..y\r\n", 0 },
	{ ".h: x\n\n.\n..x\n.y\n", 0, -1,
	  ".h: x\r\n\r\n.\r\n..x\r\n.y\r\n", 0 },
	{ ".h: x\n\n.\n..x\n.y\n", D, 1, "..h: x\r\n\r\n..\r\n", 0 },
	{ "a\n.\r\n", D, -1, "a\r\n..\r\n", 0 },
	{ "a\n.", D, -1, "a\r\n..", 1 },
	/* an empty body, an empty header, no header end */
	{ "A: b\n\n", D, 5, "A: b\r\n\r\n", 0 },
	{ "A: b\n\n", D, 0, "A: b\r\n\r\n", 0 },
	{ "\nbody\nmore\n", D, 1, "\r\nbody\r\n", 0 },
	{ "\nbody\nmore\n", D, 0, "\r\n", 0 },
	{ "A: b\nB: c\n", D, 0, "A: b\r\nB: c\r\n", 0 },
	/* no trailing newline */
	{ "A: b\n\nlast line", D, -1, "A: b\r\n\r\nlast line", 1 },
	{ "A: b\n\nlast line", D, 0, "A: b\r\n\r\n", 0 },
	{ "A: b\n\nl1\nlast", D, 1, "A: b\r\n\r\nl1\r\n", 0 },
	{ "A: b", D, -1, "A: b", 1 },
	/* the empty message */
	{ "", D, -1, "", 0 },
	{ "", D, 0, "", 0 },
};
#undef D

static void test_table_every_split(void)
{
	struct result whole = { STR_INIT(0), 0, 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct crlf_case *t = &cases[i];
		size_t n = strlen(t->in);

		feed(t->in, n, t->flags, t->lines, NULL, 0, &whole);
		if (strcmp(str_c(&whole.out), t->want) != 0 ||
		    whole.mid != t->mid || whole.counted != whole.out.len) {
			printf("case %zu: got \"%s\" mid %d\n", i,
			       str_c(&whole.out), whole.mid);
			TEST_ASSERT(!"table case");
		}
		every_split(t->in, n, t->flags, t->lines, &whole);
	}
	str_free(&whole.out);
}

/* A plain reference: one line at a time, no state across pieces. */
static void naive(const char *in, size_t n, unsigned flags, long lines,
		  struct result *r)
{
	size_t i = 0;
	int in_body = 0, cut = 0;

	str_clear(&r->out);
	while (i < n) {
		const char *lf = memchr(in + i, '\n', n - i);
		size_t j = lf != NULL ? (size_t)(lf - in) : n;

		if (in_body && lines >= 0 && lines-- == 0) {
			cut = 1;
			break;
		}
		if ((flags & MAILDIR_CRLF_DOTS) && in[i] == '.')
			str_appendc(&r->out, '.');
		str_append(&r->out, in + i, j - i);
		if (j < n) {
			int cr = j > i && in[j - 1] == '\r';

			str_appends(&r->out, cr ? "\n" : "\r\n");
			if (!in_body && (j == i || (j == i + 1 && cr)))
				in_body = 1;
		}
		i = j + 1;
	}
	r->mid = !cut && n > 0 && in[n - 1] != '\n';
}

static void test_against_reference(void)
{
	static const char alphabet[] = { '\r', '\n', '.', 'a' };
	static const long limits[] = { -1, 0, 1, 2 };
	struct result want = { STR_INIT(0), 0, 0 }, got = { STR_INIT(0), 0, 0 };
	char in[8];
	int bad = 0;

	for (size_t len = 0; len <= 7 && !bad; len++) {
		size_t total = 1;

		for (size_t k = 0; k < len; k++)
			total *= 4;
		for (size_t v = 0; v < total && !bad; v++) {
			size_t x = v;

			for (size_t k = 0; k < len; k++, x /= 4)
				in[k] = alphabet[x % 4];
			for (int f = 0; f < 2 && !bad; f++)
				for (size_t l = 0; l < 4 && !bad; l++) {
					unsigned fl = f ? MAILDIR_CRLF_DOTS : 0;

					naive(in, len, fl, limits[l], &want);
					for (size_t p = 0; p <= len && !bad; p++) {
						feed(in, len, fl, limits[l], &p, 1,
						     &got);
						bad = !same(&got, &want) ||
						      got.counted != want.out.len;
					}
				}
		}
	}
	TEST_ASSERT(!bad);
	str_free(&want.out);
	str_free(&got.out);
}

/* The size function agrees with the converter (no dots, no limit). */
static void test_size(void)
{
	static const char *const in[] = { "a\nb\r\n", "a\r", "\nb", "",
		"\r\n\r\n", "\n\n\n", "x\r\ry\n",
		"A: b\rc\n\nbody\rmore\nx\r" };
	struct result r = { STR_INIT(0), 0, 0 };
	int cr = 0;

	TEST_ASSERT(maildir_crlf_size("a\nb\r\n", 5, &cr) == 6 && !cr);
	TEST_ASSERT(maildir_crlf_size("a\r", 2, &cr) == 2 && cr);
	TEST_ASSERT(maildir_crlf_size("\nb", 2, &cr) == 2 && !cr);
	TEST_ASSERT(maildir_crlf_size("", 0, &cr) == 0 && !cr);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t n = strlen(in[i]);

		feed(in[i], n, 0, -1, NULL, 0, &r);
		for (size_t p = 0; p <= n; p++) {
			uint64_t v;

			cr = 0;
			v = maildir_crlf_size(in[i], p, &cr);
			v += maildir_crlf_size(in[i] + p, n - p, &cr);
			TEST_ASSERT(v == r.out.len);
		}
	}
	str_free(&r.out);
}

static void test_size_fd(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	static char big[200000];
	uint64_t v;
	int cr = 0;

	TEST_ASSERT(fd >= 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 7 == 6 ? '\n' : i % 13 == 12 ? '\r' : 'x';
	TEST_ASSERT(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	TEST_ASSERT(maildir_crlf_size_fd(fd, &v) == 0);
	TEST_ASSERT(v == maildir_crlf_size(big, sizeof(big), &cr));
	/* the offset is not moved */
	TEST_ASSERT(lseek(fd, 0, SEEK_CUR) == (off_t)sizeof(big));
	close(fd);
}

/* TOP 0 of a CRLF message whose empty line's CR is the last byte of a
 * 64 KiB read: only the header. */
static void test_header_end_at_read_boundary(void)
{
	const size_t chunk = 65536;
	struct str msg = STR_INIT(0), want = STR_INIT(0);
	struct result r = { STR_INIT(0), 0, 0 };

	while (msg.len < chunk - 1 - 200)
		str_appendf(&msg, "X-Pad-%05zu: %0100d\r\n", msg.len, 0);
	/* one field to fill up to the CR at offset chunk - 1 */
	str_appends(&msg, "X-Fill: ");
	while (msg.len < chunk - 3)
		str_appendc(&msg, 'f');
	str_appends(&msg, "\r\n\r");
	TEST_ASSERT(msg.len == chunk);
	str_appends(&msg, "\nbody line 1\r\nbody line 2\r\n");
	str_append(&want, msg.s, chunk + 1);
	feed_step(msg.s, msg.len, MAILDIR_CRLF_DOTS, 0, chunk, &r);
	TEST_ASSERT(r.out.len == want.len &&
		    memcmp(r.out.s, want.s, want.len) == 0);
	feed_step(msg.s, msg.len, MAILDIR_CRLF_DOTS, 1, chunk, &r);
	TEST_ASSERT(r.out.len == want.len + 13);
	str_free(&msg);
	str_free(&want);
	str_free(&r.out);
}

TEST_MAIN(test_table_every_split, test_against_reference, test_size,
	  test_size_fd, test_header_end_at_read_boundary)
