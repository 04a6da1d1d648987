/*
 * fuzz_addr - libFuzzer target for the envelope address parser
 * (common/mail/addr.c)
 *
 * The first input byte picks the ADDR_* flags, the rest is the address.
 * Besides memory safety it checks one property: whatever parses, formats
 * with addr_format() to text that addr_parse_plain() parses back to the
 * same address under the same flags, never longer than the limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "mail/addr.h"

static void addr_same(const struct addr *a, const struct addr *b)
{
	if (a->is_null != b->is_null || a->local_len != b->local_len ||
	    a->domain_len != b->domain_len ||
	    a->is_literal != b->is_literal ||
	    memcmp(a->local, b->local, a->local_len) != 0 ||
	    memcmp(a->domain, b->domain, a->domain_len) != 0)
		abort();
}

static void roundtrip(const struct addr *a, unsigned flags)
{
	struct str out = STR_INIT(0);
	struct addr b;

	if (a->local_len > ADDR_LOCAL_MAX || a->domain_len > ADDR_DOMAIN_MAX ||
	    strlen(a->local) != a->local_len ||
	    strlen(a->domain) != a->domain_len)
		abort();
	if (addr_format(a, &out) < 0 || out.len > ADDR_MAX)
		abort();
	if (addr_parse_plain(str_c(&out), flags, &b, NULL) != 0)
		abort();
	addr_same(a, &b);
	str_free(&out);
}

static void path_run(const char *s, size_t len, unsigned flags)
{
	struct addr a;
	const char *error = NULL;
	int r = addr_parse_path(s, len, flags, &a, &error);

	if (r < 0) {
		if (error == NULL)
			abort();
		return;
	}
	if ((size_t)r > len || s[r - 1] != '>')
		abort();
	roundtrip(&a, flags);
}

static void plain_run(const char *s, size_t len, unsigned flags)
{
	char *buf = malloc(len + 1);
	struct addr a;
	const char *error = NULL;

	if (buf == NULL)
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (addr_parse_plain(buf, flags, &a, &error) == 0)
		roundtrip(&a, flags);
	else if (error == NULL)
		abort();
	free(buf);
}

static void helpers_run(const char *s, size_t len)
{
	size_t base;
	const char *ext;

	(void)addr_check_domain(s, len, ADDR_UTF8, NULL);
	(void)addr_check_utf8(s, len);
	if (addr_split_extension(s, len, '+', &base, &ext) == 1 &&
	    (base == 0 || base >= len || ext != s + base + 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	const char *s;

	if (size == 0)
		return 0;
	flags = data[0] & 0x1f;
	s = (const char *)data + 1;
	size--;
	path_run(s, size, flags);
	plain_run(s, size, flags);
	helpers_run(s, size);
	return 0;
}
