/*
 * fuzz_mailbox_path - the address -> Maildir rule (mailbox_path.h)
 *
 * The input is taken as an address. Invariants for an accepted one: each
 * part is non-empty, within its limit, has no '/', '@', control byte or
 * upper-case ASCII letter and does not begin with '.'; "DOMAIN/USER" is
 * exactly the two parts; the parts given apart, and the address made of
 * them, map to the same Maildir; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_mailbox_path -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_mailbox_path
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mailbox_path.h"

static void check_part(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.' || strpbrk(s, "/@") != NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] >= 'A' && s[i] <= 'Z'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailbox_path mp, mp2;
	struct str rel = STR_INIT(0), addr = STR_INIT(0);
	const char *error = NULL;
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mailbox_path_from_addr(s, &mp, &error) == 0) {
		check_part(mp.user, MAILBOX_USER_MAX);
		check_part(mp.domain, MAILBOX_DOMAIN_MAX);
		mailbox_path_relative(&mp, &rel);
		if (rel.len != strlen(mp.domain) + 1 + strlen(mp.user))
			abort();
		if (mailbox_path_from_parts(mp.domain, mp.user, &mp2,
					    &error) < 0 ||
		    memcmp(&mp, &mp2, sizeof(mp)) != 0)
			abort();
		str_appendf(&addr, "%s@%s", mp.user, mp.domain);
		if (mailbox_path_from_addr(str_c(&addr), &mp2, &error) < 0 ||
		    memcmp(&mp, &mp2, sizeof(mp)) != 0)
			abort();
	} else if (error == NULL) {
		abort();
	}
	free(s);
	str_free(&rel);
	str_free(&addr);
	return 0;
}
