/*
 * fuzz_pop3 - the POP3 command parser
 *
 * The input is taken as one command line. Invariants: a parsed command's
 * pointers lie inside the line; numbers are in range; abort() otherwise.
 * (Maildir names, which this target also read before they had a module of
 * their own: fuzz_maildir_name.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d/pop3_cmd.h"

static void fuzz_cmd(const char *p, size_t n)
{
	struct pop3_cmd c;
	const char *err = NULL;

	if (pop3_cmd_parse(p, n, &c, &err) < 0) {
		if (err == NULL)
			abort();
		return;
	}
	if (c.arg != NULL && (c.arg < p || c.arg + c.arg_len > p + n))
		abort();
	if (c.ir != NULL && (c.ir < p || c.ir + c.ir_len > p + n))
		abort();
	for (int i = 0; i < c.nnums; i++)
		if (c.num[i] > POP3_NUM_MAX)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_cmd(s, size);
	free(s);
	return 0;
}
