/*
 * fuzz_dsn_param - libFuzzer target for the RFC 3461 parameters
 * (common/mail/dsn_param.h)
 *
 * Invariants: whatever passes the checks decodes; xtext that decodes
 * encodes back to xtext that decodes to the same bytes; any bytes
 * encode to valid xtext; a parsed NOTIFY is valid and formats to a value
 * that parses to the same bits; an accepted ENVID or ORCPT is within its
 * limit.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_dsn_param -max_total_time=60 CORPUS
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dsn_param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_xtext(const char *in, size_t size)
{
	struct str dec = STR_INIT(0), enc = STR_INIT(0), back = STR_INIT(0);

	if (dsn_xtext_decode(in, size, &dec) == 0) {
		if (!dsn_xtext_valid(in, size))
			abort();
		dsn_xtext_encode(dec.s, dec.len, &enc);
		if (dsn_xtext_decode(enc.s, enc.len, &back) < 0 ||
		    back.len != dec.len ||
		    (dec.len > 0 && memcmp(back.s, dec.s, dec.len) != 0))
			abort();
	} else if (dsn_xtext_valid(in, size)) {
		abort();
	}
	str_clear(&enc);
	dsn_xtext_encode(in, size, &enc);
	if (!dsn_xtext_valid(enc.s, enc.len))
		abort();
	str_free(&dec);
	str_free(&enc);
	str_free(&back);
}

static void check_notify(const char *in, size_t size)
{
	struct str out = STR_INIT(0);
	const char *error;
	unsigned bits, again;

	if (dsn_notify_parse(in, size, &bits, &error) < 0)
		return;
	if (!dsn_notify_valid(bits))
		abort();
	dsn_notify_format(bits, &out);
	if (dsn_notify_parse(out.s, out.len, &again, &error) < 0 ||
	    again != bits)
		abort();
	str_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct str type = STR_INIT(0), addr = STR_INIT(0);
	const char *error;
	enum dsn_ret ret;

	check_xtext(in, size);
	check_notify(in, size);
	(void)dsn_ret_parse(in, size, &ret, &error);
	if (dsn_envid_check(in, size, &error) == 0 &&
	    (size == 0 || size > DSN_ENVID_MAX))
		abort();
	if (dsn_orcpt_check(in, size, &error) == 0) {
		if (size > DSN_ORCPT_MAX ||
		    dsn_orcpt_decode(in, size, &type, &addr) < 0 ||
		    type.len == 0 || addr.len == 0)
			abort();
	}
	str_free(&type);
	str_free(&addr);
	return 0;
}
