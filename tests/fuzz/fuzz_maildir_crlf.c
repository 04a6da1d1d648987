/*
 * fuzz_maildir_crlf - the CRLF / dot-stuffing / TOP stream (maildir_crlf.h)
 *
 * The first byte chooses dot-stuffing (bit 0) and the body line limit
 * (bits 1-3: 0 all, else n - 1), the second the piece size (1 to 256);
 * the rest is the message file. Invariants: the output fed in pieces is
 * the output fed whole; counting gives the length; the output has no LF
 * without CR before it, and with dots no line starting with one single
 * '.'; without a limit its length is the input's plus one per bare LF
 * (plus one per line starting with '.' when stuffing), and without dots
 * it equals maildir_crlf_size(); abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_maildir_crlf -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_maildir_crlf
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/maildir_crlf.h"

static size_t run(const char *in, size_t n, unsigned flags, long lines,
		  size_t step, char *out, int *mid_r)
{
	struct maildir_crlf c;
	size_t o = 0, pos = 0;

	maildir_crlf_init(&c, flags, lines);
	while (pos < n && !c.done) {
		size_t k = n - pos < step ? n - pos : step, used;

		o += maildir_crlf_convert(&c, in + pos, k, out + o, &used);
		if (used != k && !c.done)
			abort();
		pos += k;
	}
	*mid_r = maildir_crlf_mid_line(&c);
	return o;
}

static void check_form(const char *out, size_t o, unsigned flags)
{
	for (size_t i = 0; i < o; i++) {
		int bol = i == 0 || out[i - 1] == '\n';

		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
		if ((flags & MAILDIR_CRLF_DOTS) && bol && out[i] == '.' &&
		    (i + 1 >= o || out[i + 1] != '.'))
			abort();
	}
}

static void check_size(const char *in, size_t n, unsigned flags, size_t o)
{
	size_t want = n;
	int cr = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			want++;
		if ((flags & MAILDIR_CRLF_DOTS) && in[i] == '.' &&
		    (i == 0 || in[i - 1] == '\n'))
			want++;
	}
	if (o != want)
		abort();
	if (!(flags & MAILDIR_CRLF_DOTS) && maildir_crlf_size(in, n, &cr) != o)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	long lines;
	size_t step, n, o1, o2, counted, used;
	const char *in;
	char *a, *b;
	int mid1, mid2;
	struct maildir_crlf c;

	if (size < 2)
		return 0;
	flags = data[0] & 1 ? MAILDIR_CRLF_DOTS : 0;
	lines = ((data[0] >> 1) & 7) == 0 ? -1 : ((data[0] >> 1) & 7) - 1;
	step = (size_t)data[1] + 1;
	in = (const char *)data + 2;
	n = size - 2;
	a = malloc(MAILDIR_CRLF_OUT_MAX(n) + 1);
	b = malloc(MAILDIR_CRLF_OUT_MAX(n) + 1);
	if (a == NULL || b == NULL)
		abort();
	o1 = run(in, n, flags, lines, n > 0 ? n : 1, a, &mid1);
	o2 = run(in, n, flags, lines, step, b, &mid2);
	if (o1 != o2 || mid1 != mid2 || memcmp(a, b, o1) != 0 ||
	    o1 > MAILDIR_CRLF_OUT_MAX(n))
		abort();
	maildir_crlf_init(&c, flags, lines);
	counted = maildir_crlf_convert(&c, in, n, NULL, &used);
	if (counted != o1)
		abort();
	check_form(a, o1, flags);
	if (lines < 0)
		check_size(in, n, flags, o1);
	free(a);
	free(b);
	return 0;
}
