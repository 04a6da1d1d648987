/*
 * cidr - IP networks in CIDR notation, and client addresses in them
 *
 * INPUT   one list item from a configuration file (trusted_networks), or
 *         a client address as sock_peer_addr() writes it
 * OUTPUT  struct cidr: the family, the network's address bytes, the
 *         prefix length
 * LIMITS  an item of at most CIDR_TEXT_MAX bytes
 *
 * GRAMMAR of one item (the caller splits a list, cfg_list() trims the
 * blanks around items):
 *
 *   item    = address [ "/" length ]       a bare address is one host
 *   address = IPv4 dotted quad             "192.0.2.0"
 *           | IPv6 text (RFC 4291 2.2)     "2001:db8::"
 *           | "[" IPv6 text "]"            "[2001:db8::]", as Postfix
 *   length  = decimal, 0..32 for IPv4, 0..128 for IPv6, without sign or
 *             leading zero
 *
 * Refused, each with its own reason: blanks or any other byte outside
 * the grammar, an empty address or length, a length out of range, and an
 * address with bits set past the length ("10.1.2.3/8": the writer meant
 * 10.0.0.0/8 or 10.1.2.3/32, and guessing either could open a relay, so
 * Postfix refuses it too). IPv4 octets with leading zeros are refused by
 * inet_pton (some resolvers read them as octal).
 *
 * An IPv4-mapped IPv6 network (::ffff:0:0/96 or longer) is kept as the
 * IPv4 network it maps, because client addresses are shown as IPv4 when
 * they arrive mapped on a dual-stack socket; the same holds for a client
 * address in cidr_addr_parse(). An IPv4 address never matches an IPv6
 * network otherwise.
 */
#ifndef POSTERN_CIDR_H
#define POSTERN_CIDR_H

#include <stddef.h>

/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]/128" is 52 bytes */
#define CIDR_TEXT_MAX 64

struct cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order; 4 used for IPv4 */
	unsigned len;			/* prefix length in bits */
};

struct cidr_list {
	struct cidr *v;
	size_t n;
};

/* Parse one item (NUL-terminated); 0, or -1 with *error_r (static). */
int cidr_parse(const char *s, struct cidr *net_r, const char **error_r);
/* A client address, no length (sock_peer_addr's text; IPv6 may carry a
 * "%zone", which is ignored): a host network of 32 or 128 bits. 0 or -1. */
int cidr_addr_parse(const char *s, struct cidr *host_r);
/* 1 if host (an address from cidr_addr_parse) lies in net, else 0. */
int cidr_contains(const struct cidr *net, const struct cidr *host);
/* Clear the bits of c past len bits and make len its length (len is cut
 * to the family's width). */
void cidr_truncate(struct cidr *c, unsigned len);
/* "192.0.2.0/24", "2001:db8::/32" into buf; 0, or -1 if it does not fit. */
int cidr_format(const struct cidr *c, char *buf, size_t size);

/* Parse items[0..n) into l (replacing its content); 0, or -1 with
 * *error_r and *bad_r (the index of the refused item), l then empty. */
int cidr_list_parse(struct cidr_list *l, char *const *items, size_t n,
		    const char **error_r, size_t *bad_r);
/* 1 if the client address ip (text) is in one of the networks; 0 if not
 * or if ip is not an IP address ("unix"). */
int cidr_list_match(const struct cidr_list *l, const char *ip);
void cidr_list_free(struct cidr_list *l);

#endif
