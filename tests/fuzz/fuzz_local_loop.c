/*
 * fuzz_local_loop - libFuzzer target for the header-section scan of
 * postern-local's Delivered-To: loop check (deliver/local_loop.h)
 *
 * The first byte chooses how much of the input is the recipient; the rest
 * is a message. The header end must lie inside the input, the scan must
 * agree with itself on the header section alone, and a Delivered-To: line
 * for the recipient put in front of the message must always be found.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_local_loop -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/local_loop.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str rcpt = STR_INIT(0), msg = STR_INIT(0);
	size_t rlen, end;
	const char *p;
	int found;

	if (size == 0)
		return 0;
	rlen = data[0] % 32;
	if (rlen > size - 1)
		rlen = size - 1;
	for (size_t i = 0; i < rlen; i++) {
		char c = (char)data[1 + i];

		/* an address: no blanks, controls, brackets */
		str_appendc(&rcpt, c > ' ' && c < 0x7f && c != '<' &&
			    c != '>' ? c : 'a');
	}
	p = (const char *)data + 1 + rlen;
	size -= 1 + rlen;
	local_loop_header_end(p, size, &end);
	if (end > size)
		abort();
	found = local_loop_has_delivered_to(p, size, str_c(&rcpt));
	if (found != local_loop_has_delivered_to(p, end, str_c(&rcpt)))
		abort();
	if (rlen > 0) {
		str_appendf(&msg, "Delivered-To: %s\nX-Fuzz: 1\n", str_c(&rcpt));
		str_append(&msg, p, size);
		if (!local_loop_has_delivered_to(msg.s, msg.len, str_c(&rcpt)))
			abort();
	}
	str_free(&rcpt);
	str_free(&msg);
	return 0;
}
