/*
 * fuzz_hopcount - libFuzzer target for the Received: counter of
 * postern-inject (queue/hopcount.h)
 *
 * Invariants: the input fed whole, byte by byte, and in pieces whose sizes
 * come from the input give the same count and the same end of the header
 * section; the count is at most the number of lines; once the header
 * section has ended, more bytes change nothing.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_hopcount -max_total_time=60 CORPUS
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/hopcount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct hopcount whole, bytes, pieces;
	unsigned seed = size > 0 ? data[0] : 7, lines = 1;
	size_t off, step;

	hopcount_init(&whole);
	hopcount_feed(&whole, in, size);
	hopcount_init(&bytes);
	for (off = 0; off < size; off++)
		hopcount_feed(&bytes, in + off, 1);
	hopcount_init(&pieces);
	for (off = 0; off < size; off += step) {
		seed = seed * 1103515245u + 12345u;
		step = 1 + (seed >> 16) % 97;
		if (step > size - off)
			step = size - off;
		hopcount_feed(&pieces, in + off, step);
	}
	if (whole.count != bytes.count || whole.count != pieces.count ||
	    hopcount_done(&whole) != hopcount_done(&bytes) ||
	    hopcount_done(&whole) != hopcount_done(&pieces))
		abort();
	for (off = 0; off < size; off++)
		lines += data[off] == '\n';
	if (whole.count > lines)
		abort();
	if (hopcount_done(&whole)) {
		unsigned n = whole.count;

		hopcount_feed(&whole, "Received: x\n", 12);
		if (whole.count != n)
			abort();
	}
	return 0;
}
