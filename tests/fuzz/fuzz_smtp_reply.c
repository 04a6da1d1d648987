/*
 * fuzz_smtp_reply - libFuzzer target for what the remote sender reads
 * from the network: SMTP reply lines (deliver/smtp_reply.h) and, from the
 * same input, MX RDATA and next-hop text (deliver/mx.h)
 *
 * The input is cut at LF into reply lines. Checked: a complete reply has
 * a code of 200..559, an enhanced code that passes smtp_enhanced_ok for
 * its class or none, a text within SMTP_REPLY_TEXT_MAX without control
 * bytes, and at most SMTP_REPLY_LINES_MAX lines; a parsed MX name has no
 * control bytes or spaces; a parsed next hop has a port of 1..65535. Any
 * difference aborts.
 *
 *   make fuzz && build/fuzz/fuzz_smtp_reply -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/mx.h"
#include "deliver/smtp_reply.h"
#include "util/str.h"

static void check_reply(const struct smtp_reply *r)
{
	if (r->code < 200 || r->code > 559 || r->lines == 0 ||
	    r->lines > SMTP_REPLY_LINES_MAX ||
	    r->text.len > SMTP_REPLY_TEXT_MAX)
		abort();
	if (r->enhanced[0] != '\0' &&
	    !smtp_enhanced_ok(r->enhanced, strlen(r->enhanced),
			      (char)('0' + r->code / 100)))
		abort();
	for (size_t i = 0; i < r->text.len; i++) {
		unsigned char c = (unsigned char)r->text.s[i];

		if (c < 0x20 || c == 0x7f)
			abort();
	}
}

static void fuzz_reply(const char *p, size_t n)
{
	struct smtp_reply r;
	struct str reason = STR_INIT(0);
	const char *error;
	size_t pos = 0;
	int res = 0;

	smtp_reply_init(&r);
	while (pos < n) {
		const char *nl = memchr(p + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - p) - pos : n - pos;

		res = smtp_reply_feed(&r, p + pos, len, &error);
		if (res < 0)
			smtp_reply_reset(&r);
		if (res > 0) {
			check_reply(&r);
			smtp_reply_reason(&r, "h[192.0.2.1]:25", &reason);
			str_clear(&reason);
			smtp_reply_reset(&r);
		}
		pos += len + 1;
	}
	smtp_reply_free(&r);
	str_free(&reason);
}

static void fuzz_mx(const uint8_t *p, size_t n)
{
	struct mx_host mx;
	struct mx_nexthop nh;
	char *s;
	const char *error;

	if (mx_rdata_parse(p, n, &mx) == 0)
		for (const char *c = mx.name; *c != '\0'; c++)
			if ((unsigned char)*c <= 0x20 || *c == 0x7f)
				abort();
	s = malloc(n + 1);
	if (s == NULL)
		return;
	memcpy(s, p, n);
	s[n] = '\0';
	if (mx_nexthop_parse(s, 25, &nh, &error) == 0 &&
	    (nh.port == 0 || nh.port > 65535 || nh.host[0] == '\0'))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_reply((const char *)data, size);
	fuzz_mx(data, size);
	return 0;
}
