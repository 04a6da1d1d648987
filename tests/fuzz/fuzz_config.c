/*
 * fuzz_config - the configuration syntax and every value parser
 *
 * The input is parsed as a whole file, each setting of a known key going
 * through conf_value_check (as "postern config check" does); then the raw
 * bytes, as one NUL-terminated string, go to each value parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "util/alloc.h"
#include "util/cfgfile.h"
#include "util/str.h"

static int fuzz_setting(void *arg, const char *key, const char *value,
			struct str *err)
{
	(void)arg;
	if (!conf_key_known(key))
		return 0;
	return conf_value_check(key, value, err);
}

static void fuzz_values(const char *s)
{
	unsigned u;
	uint64_t size;
	int b;
	const char *error;
	char **items;
	struct hostport *hp;
	size_t n, i;

	(void)cfg_duration(s, &u, &error);
	(void)cfg_size(s, &size, &error);
	(void)cfg_bool(s, &b, &error);
	(void)cfg_uint(s, 65535, &u, &error);
	if (cfg_list(s, &items, &n, &error) == 0) {
		for (i = 0; i < n; i++)
			if (items[i][0] == '\0')
				abort();
		free(items);
	}
	if (cfg_hostports(s, &hp, &n, &error) == 0) {
		for (i = 0; i < n; i++)
			if (hp[i].port == 0)
				abort();
		free(hp);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str errors = STR_INIT(0);
	char *s;

	(void)cfg_parse_text("fuzz.conf", (const char *)data, size,
			     fuzz_setting, NULL, &errors);
	str_free(&errors);
	s = xstrndup((const char *)data, size);
	fuzz_values(s);
	free(s);
	return 0;
}
