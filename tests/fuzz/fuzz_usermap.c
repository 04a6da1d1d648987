/*
 * fuzz_usermap - libFuzzer target for the etc/passwd and etc/aliases
 * parsers and the address check (master/usermap.c)
 *
 * The first byte picks the format; the rest is the file. Whatever parses
 * must format back to text that parses again to the same entries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/usermap.h"
#include "util/str.h"

static void check_round_trip(const struct usermap *m)
{
	struct usermap again;
	struct str text = STR_INIT(0), errs = STR_INIT(0);

	usermap_format(m, &text);
	usermap_init(&again, m->kind);
	if (usermap_parse(&again, "f", text.s ? text.s : "", text.len,
			  &errs) != 0 || again.n != m->n)
		abort();
	for (size_t i = 0; i < m->n; i++) {
		const char *k1 = m->v[i].key, *k2 = again.v[i].key;
		if ((k1 == NULL) != (k2 == NULL))
			abort();
		if (k1 != NULL && (strcmp(k1, k2) != 0 ||
				   strcmp(m->v[i].value, again.v[i].value) != 0))
			abort();
	}
	usermap_free(&again);
	str_free(&text);
	str_free(&errs);
}

static void check_addr(const uint8_t *data, size_t size)
{
	struct str in = STR_INIT(0), out = STR_INIT(0), again = STR_INIT(0);
	const char *error;

	str_set(&in, data, size < 400 ? size : 400);
	if (usermap_addr_check(str_c(&in), &out, &error) == 0) {
		if (usermap_addr_check(str_c(&out), &again, &error) != 0 ||
		    strcmp(str_c(&out), str_c(&again)) != 0)
			abort();
	}
	str_free(&in);
	str_free(&out);
	str_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	if (size == 0)
		return 0;
	usermap_init(&m, data[0] & 1 ? USERMAP_ALIASES : USERMAP_PASSWD);
	if (usermap_parse(&m, "f", (const char *)data + 1, size - 1,
			  &errs) == 0)
		check_round_trip(&m);
	else if (m.n > 0 && (data[0] & 2))
		usermap_del(&m, m.v[0].key ? m.v[0].key : "x@y");
	usermap_free(&m);
	str_free(&errs);
	check_addr(data + 1, size - 1);
	return 0;
}
