/*
 * fuzz_pwhash - password verification against arbitrary stored values
 *
 * The input is split at its first NUL into a password and a stored value
 * (both made NUL-terminated). pwhash_verify must return -1, 0 or 1 and
 * give a reason with -1; pwhash_scheme must agree that a value verify
 * rejects as malformed before hashing has no scheme. Inputs are capped at
 * 512 bytes, and crypt(3) runs only for the fixed-cost MD5/SHA-crypt
 * settings: a fuzzed "$2b$31$" or "$y$jFT$" cost would take minutes or
 * gigabytes per run (the cost is the administrator's choice, not an
 * attacker's), so other crypt settings are only parsed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/pwhash.h"

#define FUZZ_MAX 512

/* Whether verifying stored would run a crypt(3) of unbounded cost: any
 * crypt-family value except MD5/SHA-crypt without "rounds=". */
static int fuzz_costly(const char *stored)
{
	const char *scheme = pwhash_scheme(stored);
	const char *body = stored;
	size_t n;

	if (scheme == NULL || (n = strlen(scheme)) < 5 ||
	    strcmp(scheme + n - 5, "CRYPT") != 0)
		return 0;
	if (stored[0] == '{')
		body = strchr(stored, '}') + 1;
	if (strstr(body, "rounds=") != NULL)
		return 1;
	return strncmp(body, "$1$", 3) != 0 && strncmp(body, "$5$", 3) != 0 &&
	       strncmp(body, "$6$", 3) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char password[FUZZ_MAX + 1], stored[FUZZ_MAX + 1];
	const uint8_t *nul;
	const char *err = NULL;
	size_t plen, slen;
	int r;

	if (size > FUZZ_MAX)
		return 0;
	nul = memchr(data, '\0', size);
	plen = nul ? (size_t)(nul - data) : size;
	slen = nul ? size - plen - 1 : 0;
	memcpy(password, data, plen);
	password[plen] = '\0';
	if (slen > 0)
		memcpy(stored, nul + 1, slen);
	stored[slen] = '\0';

	if (fuzz_costly(stored))
		return 0;
	r = pwhash_verify(password, stored, &err);
	if (r < -1 || r > 1 || (r == -1 && err == NULL))
		abort();
	if (r >= 0 && pwhash_scheme(stored) == NULL)
		abort();
	return 0;
}
