/*
 * fuzz_maildir_keywords - the dovecot-keywords file (maildir_keywords.h)
 *
 * The input is the file. Invariants: no more lines skipped than there are
 * lines; every name kept is a valid keyword name and is found again (at
 * its index, or a lower one holding the same name); the text written back
 * parses to the same list with nothing skipped; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_maildir_keywords -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_maildir_keywords
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/maildir_keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_keywords kw, again;
	struct str text = STR_INIT(0);
	const char *p = (const char *)data;
	size_t lines = 1, skipped;

	for (size_t i = 0; i < size; i++)
		lines += p[i] == '\n';
	maildir_keywords_init(&kw);
	maildir_keywords_init(&again);
	skipped = maildir_keywords_parse(&kw, p, size);
	if (skipped > lines)
		abort();
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		int f;

		if (kw.name[i] == NULL)
			continue;
		f = maildir_keywords_find(&kw, kw.name[i]);
		if (!maildir_keywords_name_ok(kw.name[i], strlen(kw.name[i])) ||
		    f < 0 || f > i)
			abort();
	}
	if (maildir_keywords_format(&kw, &text) < 0 ||
	    maildir_keywords_parse(&again, text.s, text.len) != 0)
		abort();
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if ((kw.name[i] == NULL) != (again.name[i] == NULL) ||
		    (kw.name[i] != NULL && strcmp(kw.name[i], again.name[i])))
			abort();
	maildir_keywords_free(&kw);
	maildir_keywords_free(&again);
	str_free(&text);
	return 0;
}
