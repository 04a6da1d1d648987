/*
 * cidr - IP networks in CIDR notation; see cidr.h for the grammar
 *
 * Delimit, then check: the item's bytes are checked against the
 * grammar's alphabet first (so every refusal names its reason), the
 * length is parsed by hand (strtoul would take blanks, signs and leading
 * zeros), and only a bounded copy of the address part reaches
 * inet_pton().
 */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/alloc.h"

static const unsigned char cidr_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static unsigned cidr_width(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* ::ffff:a.b.c.d/len (len >= 96) becomes a.b.c.d/(len - 96). */
static void cidr_unmap(struct cidr *c)
{
	if (c->family != AF_INET6 || c->len < 96 ||
	    memcmp(c->addr, cidr_mapped_prefix, 12) != 0)
		return;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->family = AF_INET;
	c->len -= 96;
}

/* The length after '/': digits only, no leading zero, at most 128. */
static int cidr_parse_len(const char *p, unsigned *len_r,
			  const char **error_r)
{
	unsigned v = 0;

	if (*p == '\0') {
		*error_r = "empty prefix length after '/'";
		return -1;
	}
	if (p[0] == '0' && p[1] != '\0') {
		*error_r = "prefix length with a leading zero";
		return -1;
	}
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			*error_r = "prefix length is not a decimal number";
			return -1;
		}
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 128) {
			*error_r = "prefix length larger than 128";
			return -1;
		}
	}
	*len_r = v;
	return 0;
}

/* Every byte of s is one the grammar allows. */
static int cidr_alphabet_ok(const char *s, const char **error_r)
{
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t') {
			*error_r = "blank inside a network (separate networks "
				   "with commas)";
			return -1;
		}
		if (strchr("0123456789abcdefABCDEF.:/[]", *s) == NULL) {
			*error_r = "not an IP network (address/length)";
			return -1;
		}
	}
	return 0;
}

/* The address part addr[0..n) (brackets included) into c. */
static int cidr_parse_addr(const char *addr, size_t n, struct cidr *c,
			   const char **error_r)
{
	char buf[CIDR_TEXT_MAX + 1];
	int bracketed = n > 0 && addr[0] == '[';

	if (bracketed) {
		if (n < 2 || addr[n - 1] != ']') {
			*error_r = "'[' without its ']'";
			return -1;
		}
		addr++;
		n -= 2;
	}
	if (n == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (memchr(addr, '[', n) != NULL || memchr(addr, ']', n) != NULL) {
		*error_r = "misplaced bracket";
		return -1;
	}
	memcpy(buf, addr, n);
	buf[n] = '\0';
	c->family = memchr(buf, ':', n) != NULL ? AF_INET6 : AF_INET;
	if (bracketed && c->family != AF_INET6) {
		*error_r = "brackets around an address that is not IPv6";
		return -1;
	}
	memset(c->addr, 0, sizeof(c->addr));
	if (inet_pton(c->family, buf, c->addr) != 1) {
		*error_r = c->family == AF_INET6 ? "not a valid IPv6 address"
						 : "not a valid IPv4 address";
		return -1;
	}
	return 0;
}

/* 1 if c has a bit set past c->len. */
static int cidr_host_bits(const struct cidr *c)
{
	unsigned width = cidr_width(c->family);

	for (unsigned bit = c->len; bit < width; bit++)
		if (c->addr[bit / 8] & (0x80u >> (bit % 8)))
			return 1;
	return 0;
}

int cidr_parse(const char *s, struct cidr *net_r, const char **error_r)
{
	size_t n = strlen(s);
	const char *slash;
	struct cidr c;
	unsigned len;

	if (n == 0) {
		*error_r = "empty network";
		return -1;
	}
	if (n > CIDR_TEXT_MAX) {
		*error_r = "network text too long";
		return -1;
	}
	if (cidr_alphabet_ok(s, error_r) < 0)
		return -1;
	slash = strchr(s, '/');
	if (slash != NULL && strchr(slash + 1, '/') != NULL) {
		*error_r = "more than one '/'";
		return -1;
	}
	if (cidr_parse_addr(s, slash ? (size_t)(slash - s) : n, &c,
			    error_r) < 0)
		return -1;
	len = cidr_width(c.family);
	if (slash != NULL && cidr_parse_len(slash + 1, &len, error_r) < 0)
		return -1;
	if (len > cidr_width(c.family)) {
		*error_r = "prefix length larger than 32 for IPv4";
		return -1;
	}
	c.len = len;
	if (cidr_host_bits(&c)) {
		*error_r = "address has bits set past the prefix length "
			   "(write the network's first address, e.g. "
			   "10.0.0.0/8)";
		return -1;
	}
	cidr_unmap(&c);
	*net_r = c;
	return 0;
}

int cidr_addr_parse(const char *s, struct cidr *host_r)
{
	char buf[CIDR_TEXT_MAX + 1];
	size_t n = strcspn(s, "%");
	struct cidr c;

	if (n == 0 || n > CIDR_TEXT_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(&c, 0, sizeof(c));
	c.family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, buf, c.addr) != 1)
		return -1;
	c.len = cidr_width(c.family);
	cidr_unmap(&c);
	*host_r = c;
	return 0;
}

int cidr_contains(const struct cidr *net, const struct cidr *host)
{
	unsigned full = net->len / 8, rest = net->len % 8;

	if (net->family != host->family || net->len > host->len)
		return 0;
	if (memcmp(net->addr, host->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((net->addr[full] ^ host->addr[full]) &
		(0xffu << (8 - rest)) & 0xffu) == 0;
}

void cidr_truncate(struct cidr *c, unsigned len)
{
	unsigned width = cidr_width(c->family);

	if (len > width)
		len = width;
	for (unsigned bit = len; bit < width; bit++)
		c->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	c->len = len;
}

int cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int r;

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		return -1;
	r = snprintf(buf, size, "%s/%u", a, c->len);
	return r < 0 || (size_t)r >= size ? -1 : 0;
}

int cidr_list_parse(struct cidr_list *l, char *const *items, size_t n,
		    const char **error_r, size_t *bad_r)
{
	struct cidr *v = n > 0 ? xreallocarray(NULL, n, sizeof(*v)) : NULL;

	for (size_t i = 0; i < n; i++) {
		if (cidr_parse(items[i], &v[i], error_r) < 0) {
			free(v);
			cidr_list_free(l);
			*bad_r = i;
			return -1;
		}
	}
	cidr_list_free(l);
	l->v = v;
	l->n = n;
	return 0;
}

int cidr_list_match(const struct cidr_list *l, const char *ip)
{
	struct cidr host;

	if (l->n == 0 || cidr_addr_parse(ip, &host) < 0)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], &host))
			return 1;
	return 0;
}

void cidr_list_free(struct cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
