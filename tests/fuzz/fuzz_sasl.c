/*
 * fuzz_sasl - libFuzzer target for the SASL server (common/mail/sasl.h)
 *
 * The input is an exchange: its first byte chooses the mechanism (bit 0:
 * PLAIN or LOGIN) and whether the first line is an initial response
 * (bit 1); the rest is split at LF into that initial response and the
 * answers. Every result must be one of sasl.h's; a finished exchange
 * must hold credentials that obey sasl.h's rules (not empty, no NUL,
 * within the limits); after sasl_free nothing of them is left.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_sasl -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/sasl.h"

static void fuzz_check_done(const struct sasl *s)
{
	if (s->user_len == 0 || s->user_len > SASL_USER_MAX ||
	    strlen(s->user) != s->user_len || s->pass_len == 0 ||
	    s->pass_len > SASL_PASSWORD_MAX || strlen(s->pass) != s->pass_len)
		abort();
}

static int fuzz_result_ok(int r)
{
	return r == SASL_DONE || r == SASL_CONTINUE || r == SASL_CANCELLED ||
	       r == SASL_BAD_BASE64 || r == SASL_MALFORMED;
}

/* The next LF-ended piece of data[*pos..size). */
static const char *fuzz_line(const uint8_t *data, size_t size, size_t *pos,
			     size_t *len_r)
{
	const char *p = (const char *)data + *pos;
	const char *lf = memchr(p, '\n', size - *pos);
	size_t n = lf != NULL ? (size_t)(lf - p) : size - *pos;

	*len_r = n;
	*pos += n + (lf != NULL);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl s;
	size_t pos = 1, n = 0;
	const char *ir = NULL;
	int r;

	if (size == 0)
		return 0;
	if (data[0] & 2)
		ir = fuzz_line(data, size, &pos, &n);
	r = sasl_start(&s, data[0] & 1 ? "PLAIN" : "login", ir, n);
	while (r == SASL_CONTINUE && pos < size) {
		const char *line = fuzz_line(data, size, &pos, &n);

		if (s.challenge == NULL)
			abort();
		r = sasl_step(&s, line, n);
	}
	if (!fuzz_result_ok(r))
		abort();
	if (r == SASL_DONE)
		fuzz_check_done(&s);
	sasl_free(&s);
	if (s.user[0] != '\0' || s.pass[0] != '\0' || s.user_len != 0)
		abort();
	return 0;
}
