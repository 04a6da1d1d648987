/*
 * fuzz_mail_date - the RFC 5322 date parser (mail_date.h) against the
 * formatter
 *
 * The input is one Date field value. Invariants: a date that parses is
 * written back by mail_date() as a date that parses to the same time;
 * the parser never reads past the string; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_mail_date -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_mail_date
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail_date.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct str out = STR_INIT(0);
	time_t t, back;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mail_date_parse(s, &t) == 0 && t > -62135596800LL &&
	    t < 253402300800LL && mail_date(&out, t, MAIL_DATE_UTC) == 0) {
		if (mail_date_parse(str_c(&out), &back) < 0 || back != t)
			abort();
	}
	str_free(&out);
	free(s);
	return 0;
}
