/*
 * fuzz_imap_uidlog - postern-uidlog's lines (imap_uidlog.h)
 *
 * The input is a log file. Its first line is parsed as the header, every
 * following one as a record, as imap_uidlog_read() walks them. Invariants:
 * a line is accepted only whole (through its LF, never past the input);
 * what is accepted formats back to exactly the bytes read; a prefix of
 * an accepted line is never accepted; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_imap_uidlog -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_imap_uidlog
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/imap_uidlog.h"

static void check_record(const char *p, size_t n, struct str *out)
{
	struct imap_uidlog_rec r, r2;
	size_t len, len2;
	int ret = imap_uidlog_parse_record(p, n, &r, &len);

	if (ret != 0 && (len > n || len == 0))
		abort();
	if (ret != 1)
		return;
	if (p[len - 1] != '\n' ||
	    ((r.type == 'U' || r.type == 'F') &&
	     (r.name < p || r.name + r.name_len > p + len)))
		abort();
	str_clear(out);
	if (imap_uidlog_format_record(out, &r) < 0 || out->len != len ||
	    memcmp(out->s, p, len) != 0)
		abort();
	if (imap_uidlog_parse_record(p, len - 1, &r2, &len2) == 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct imap_uidlog_header h;
	struct str out = STR_INIT(0);
	size_t len, pos = 0;
	int r = imap_uidlog_parse_header(p, size, &h, &len);

	if (r == 1) {
		if (imap_uidlog_format_header(&out, &h) < 0 || out.len != len ||
		    memcmp(out.s, p, len) != 0)
			abort();
		pos = len;
	}
	while (pos < size) {
		struct imap_uidlog_rec rec;

		check_record(p + pos, size - pos, &out);
		if (imap_uidlog_parse_record(p + pos, size - pos, &rec,
					     &len) == 0)
			break;
		pos += len;
	}
	str_free(&out);
	return 0;
}
