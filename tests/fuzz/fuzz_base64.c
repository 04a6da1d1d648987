/*
 * fuzz_base64 - strict and lenient base64 decoding of arbitrary bytes
 *
 * Whatever decodes must encode back to exactly the input (the decoder
 * accepts only canonical base64), the lenient decoder must agree with it
 * wherever it decodes, and encoding arbitrary bytes must decode back to
 * them; abort() otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/str.h"

static void fuzz_decode(const uint8_t *data, size_t size)
{
	struct str dec = STR_INIT(0), enc = STR_INIT(0);

	if (base64_decode(&dec, (const char *)data, size) == 0) {
		if (base64_encode(&enc, dec.s, dec.len) < 0 ||
		    enc.len != size ||
		    (size > 0 && memcmp(enc.s, data, size) != 0))
			abort();
	} else if (dec.len != 0) {
		abort();
	}
	str_free(&dec);
	str_free(&enc);
}

static void fuzz_encode(const uint8_t *data, size_t size)
{
	struct str dec = STR_INIT(0), enc = STR_INIT(0);

	if (base64_encode(&enc, data, size) < 0 || enc.len % 4 != 0 ||
	    base64_decode(&dec, str_c(&enc), enc.len) < 0 ||
	    dec.len != size || (size > 0 && memcmp(dec.s, data, size) != 0))
		abort();
	str_free(&dec);
	str_free(&enc);
}

/* The lenient decoder takes whatever the strict one takes, to the same
 * bytes; it appends nothing when it fails. */
static void fuzz_decode_lenient(const uint8_t *data, size_t size)
{
	struct str strict = STR_INIT(0), lenient = STR_INIT(0);
	int r = base64_decode_lenient(&lenient, (const char *)data, size);

	if (r < 0 && lenient.len != 0)
		abort();
	if (base64_decode(&strict, (const char *)data, size) == 0 &&
	    (r < 0 || lenient.len != strict.len ||
	     (strict.len > 0 && memcmp(lenient.s, strict.s, strict.len) != 0)))
		abort();
	str_free(&strict);
	str_free(&lenient);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode(data, size);
	fuzz_decode_lenient(data, size);
	fuzz_encode(data, size);
	return 0;
}
