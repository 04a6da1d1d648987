/*
 * fuzz_pop3 - the POP3 command parser and the Maildir name reader
 *
 * The input is taken as one command line and as one file name. Invariants:
 * a parsed command's pointers lie inside the line; numbers are in range;
 * a name's base is a prefix without ':'; adding a flag twice changes the
 * name once and keeps the base; abort() otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3d/pop3_cmd.h"
#include "mail/pop3_mname.h"

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

static void fuzz_name(const char *name)
{
	struct pop3_mname m, m2;
	struct str a = STR_INIT(0), b = STR_INIT(0);

	if (pop3_mname_parse(name, &m) < 0)
		return;
	if (memchr(name, ':', m.base_len) != NULL)
		abort();
	if (pop3_mname_add_flag(name, 'S', &a) == 1) {
		if (pop3_mname_parse(str_c(&a), &m2) < 0 ||
		    m2.base_len != m.base_len || m2.flags == NULL ||
		    strchr(m2.flags, 'S') == NULL ||
		    pop3_mname_add_flag(str_c(&a), 'S', &b) != 0)
			abort();
	}
	str_free(&a);
	str_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_cmd(s, size);
	fuzz_name(s);
	free(s);
	return 0;
}
