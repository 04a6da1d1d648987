/*
 * fuzz_cidr - CIDR networks and client addresses from arbitrary bytes
 *
 * Invariants, abort() when broken: a network that parses has no bits set
 * past its length, formats into CIDR_TEXT_MAX bytes, parses back from
 * that text to the same network, and contains its own first address; a
 * client address that parses is contained in its own host network and in
 * the network of its first 64 (IPv6) or 24 (IPv4) bits; the client key
 * of session_server is always made.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/session_server.h"
#include "util/cidr.h"

static int cidr_same(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static void fuzz_network(const char *s)
{
	struct cidr c, again, first;
	char text[CIDR_TEXT_MAX + 1];
	const char *error;

	if (cidr_parse(s, &c, &error) < 0) {
		if (error == NULL || *error == '\0')
			abort();
		return;
	}
	if (c.len > (c.family == AF_INET ? 32u : 128u))
		abort();
	again = c;
	cidr_truncate(&again, c.len);
	if (!cidr_same(&c, &again))
		abort();		/* a host bit survived */
	if (cidr_format(&c, text, sizeof(text)) < 0 ||
	    cidr_parse(text, &again, &error) < 0 || !cidr_same(&c, &again))
		abort();
	first = c;
	first.len = c.family == AF_INET ? 32 : 128;
	if (!cidr_contains(&c, &first))
		abort();
}

static void fuzz_client(const char *s)
{
	struct cidr host, net;
	char key[SESSION_IP_MAX];

	if (session_client_key(s, key, sizeof(key)) < 0 &&
	    strlen(s) < sizeof(key))
		abort();
	if (cidr_addr_parse(s, &host) < 0)
		return;
	if (!cidr_contains(&host, &host))
		abort();
	net = host;
	cidr_truncate(&net, host.family == AF_INET ? 24 : 64);
	if (!cidr_contains(&net, &host))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_network(s);
	fuzz_client(s);
	free(s);
	return 0;
}
