/*
 * fuzz_smtp_data - the DATA/BDAT decoder on arbitrary client bytes
 *
 * The first input byte picks the mode and a piece size; the rest is the
 * stream. abort() unless:
 *   - the result does not depend on how the stream is split;
 *   - holding the header section (with nothing added) changes nothing
 *     (the output is compared once a message was accepted);
 *   - in DOT mode the end is reported exactly after "\r\n.\r\n" (or ".\r\n"
 *     at the very start) and at the first such place;
 *   - an accepted message holds no CR, is as long as size says, and ends
 *     in LF unless empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd/smtp_data.h"
#include "util/str.h"

struct out {
	struct str s;
	int ends;
};

static int out_write(void *ctx, const void *p, size_t n)
{
	return str_append(&((struct out *)ctx)->s, p, n);
}

static int out_header_end(void *ctx, const struct smtp_data *d)
{
	(void)d;
	((struct out *)ctx)->ends++;
	return 0;
}

struct result {
	struct out o;
	size_t used;
	int done;
	enum smtp_data_result r;
	uint64_t size;
};

static void decode(struct result *res, enum smtp_data_mode mode, int hold,
		   const char *p, size_t n, size_t step)
{
	struct smtp_data_sink sink = { out_write, out_header_end, &res->o };
	struct smtp_data d;
	size_t off = 0;

	memset(res, 0, sizeof(*res));
	str_init(&res->o.s, 0);
	smtp_data_init(&d, mode, 4096, hold, &sink);
	while (off < n && !d.done) {
		size_t k = n - off < step ? n - off : step;
		size_t used = smtp_data_feed(&d, p + off, k);

		if (used > k || (used < k && !d.done))
			abort();
		off += used;
	}
	if (mode == SMTP_DATA_BDAT)
		smtp_data_finish(&d);
	res->used = off;
	res->done = d.done;
	res->r = smtp_data_result(&d);
	res->size = d.size;
	smtp_data_free(&d);
}

static int same(const struct result *a, const struct result *b)
{
	if (a->used != b->used || a->done != b->done || a->r != b->r ||
	    a->size != b->size)
		return 0;
	/* after a failure the output stops at a point that may differ, and
	 * a held header section is written only once it ends */
	return a->r != SMTP_DATA_OK || !a->done || (a->o.s.len == b->o.s.len &&
	       (a->o.s.len == 0 || memcmp(a->o.s.s, b->o.s.s, a->o.s.len) == 0));
}

/* Where DOT mode must stop: just after the first end marker. */
static size_t dot_end(const char *p, size_t n, int *found)
{
	*found = 1;
	if (n >= 3 && memcmp(p, ".\r\n", 3) == 0)
		return 3;
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	*found = 0;
	return n;
}

static void check_accepted(const struct result *r)
{
	if (r->r != SMTP_DATA_OK)
		return;
	if (r->o.s.len != r->size || r->size > 4096)
		abort();
	if (r->o.s.len > 0 &&
	    (memchr(r->o.s.s, '\r', r->o.s.len) != NULL ||
	     r->o.s.s[r->o.s.len - 1] != '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, split, held;
	enum smtp_data_mode mode;
	const char *p = (const char *)data + 1;
	size_t n, step, end;
	int found;

	if (size < 1)
		return 0;
	mode = (data[0] & 1) ? SMTP_DATA_BDAT : SMTP_DATA_DOT;
	step = (size_t)(data[0] >> 1) % 13 + 1;
	n = size - 1;
	decode(&whole, mode, 0, p, n, n > 0 ? n : 1);
	decode(&split, mode, 0, p, n, step);
	decode(&held, mode, 1, p, n, step);
	if (!same(&whole, &split) || !same(&whole, &held))
		abort();
	if (mode == SMTP_DATA_DOT) {
		end = dot_end(p, n, &found);
		if (whole.used != end || whole.done != found)
			abort();
	} else if (whole.used != n || !whole.done) {
		abort();
	}
	if (whole.done)
		check_accepted(&whole);
	str_free(&whole.o.s);
	str_free(&split.o.s);
	str_free(&held.o.s);
	return 0;
}
