/*
 * fuzz_imap_mutf7 - modified UTF-7 mailbox names (imapd/imap_mutf7.h)
 *
 * The input is taken both as a modified UTF-7 name and as UTF-8.
 * Invariants: what decodes is valid UTF-8 and encodes back to exactly the
 * input; what encodes is valid modified UTF-7 and decodes back to the
 * input; a failure leaves the output untouched; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_imap_mutf7 -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_imap_mutf7
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/imap_mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct str a = STR_INIT(0), b = STR_INIT(0);

	if (imap_mutf7_decode(p, size, &a) == 0) {
		if (!imap_utf8_valid(a.s != NULL ? a.s : "", a.len) ||
		    imap_mutf7_encode(str_c(&a), a.len, &b) < 0 ||
		    b.len != size || memcmp(str_c(&b), p, size) != 0)
			abort();
	} else if (a.len != 0) {
		abort();
	}
	str_clear(&a);
	str_clear(&b);
	if (imap_mutf7_encode(p, size, &a) == 0) {
		if (!imap_mutf7_valid(str_c(&a), a.len) ||
		    imap_mutf7_decode(str_c(&a), a.len, &b) < 0 ||
		    b.len != size || memcmp(str_c(&b), p, size) != 0)
			abort();
	} else if (a.len != 0 || (imap_utf8_valid(p, size) &&
				  memchr(p, '\0', size) == NULL)) {
		abort();
	}
	str_free(&a);
	str_free(&b);
	return 0;
}
