/*
 * fuzz_maildir_name - Maildir file names and flags (maildir_name.h)
 *
 * The input is taken as one file name. Invariants: the base is a prefix
 * without ':'; a name ordered against itself is equal; adding S gives a
 * name with the same base and S among its flags, and adding it again
 * changes nothing; removing it again gives back the flags without S;
 * every name written is itself a message by name and within the length
 * limit; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_maildir_name -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_maildir_name
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/maildir_name.h"

static void check_flags(const char *name, const struct maildir_name *m)
{
	struct str a = STR_INIT(0), b = STR_INIT(0);
	struct maildir_name ma, mb;
	int r = maildir_name_set_flags(name, MAILDIR_FLAG_SEEN, 0, &a);

	if (r < 0 && a.len != 0)
		abort();
	if (r >= 0) {
		if (maildir_name_parse(str_c(&a), &ma) < 0 ||
		    ma.base_len != m->base_len ||
		    memcmp(str_c(&a), name, m->base_len) != 0 ||
		    !ma.has_flags || !(ma.flags & MAILDIR_FLAG_SEEN) ||
		    (ma.flags & ~MAILDIR_FLAG_SEEN) !=
			    (m->flags & ~MAILDIR_FLAG_SEEN) ||
		    a.len > MAILDIR_NAME_MAX)
			abort();
		if (maildir_name_set_flags(str_c(&a), MAILDIR_FLAG_SEEN, 0,
					   &b) != 0 ||
		    strcmp(str_c(&a), str_c(&b)) != 0)
			abort();
		if (maildir_name_set_flags(str_c(&a), 0, MAILDIR_FLAG_SEEN,
					   &b) < 0 ||
		    maildir_name_parse(str_c(&b), &mb) < 0 ||
		    mb.flags != (m->flags & ~MAILDIR_FLAG_SEEN))
			abort();
	}
	str_free(&a);
	str_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name m;
	char *name = malloc(size + 1);

	if (name == NULL)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	if (maildir_name_parse(name, &m) == 0) {
		if (m.base_len == 0 || m.base_len > strlen(name) ||
		    memchr(name, ':', m.base_len) != NULL ||
		    maildir_name_cmp(name, name) != 0)
			abort();
		check_flags(name, &m);
	}
	free(name);
	return 0;
}
