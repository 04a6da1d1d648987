/*
 * mx - where mail for a destination goes: the next-hop syntax, MX
 * records, their order (RFC 5321 section 5.1, RFC 7505)
 *
 * NEXT HOP  A destination is written as relay_host is (postern.conf(5)):
 *           "host", "host:port", "[host]" or "[host]:port". Without
 *           brackets the host's MX records are looked up (a recipient's
 *           domain is such a host); with brackets the host itself is
 *           connected to (its A/AAAA records, or the IP literal). The port
 *           defaults to remote_port.
 * RECORDS   mx_rdata_parse reads the RDATA of one MX record as a resolver
 *           library hands it over (uncompressed wire format: 16-bit
 *           preference, then the exchange as length-prefixed labels). The
 *           exchange "." (empty name) is the null MX of RFC 7505: the
 *           domain accepts no mail.
 * ORDER     mx_sort puts the hosts in increasing preference; hosts of
 *           equal preference are shuffled (RFC 5321 5.1: "randomize") with
 *           the caller's random source, so tests can fix it. If our own
 *           name is among them, it and every host of equal or larger
 *           preference are dropped (mx_prune_self; RFC 5321 5.1), so two
 *           MX hosts never bounce a message between them.
 * Everything here is pure: no I/O, no DNS. The unit test and fuzz target
 * drive it with tables.
 */
#ifndef POSTERN_MX_H
#define POSTERN_MX_H

#include <stddef.h>
#include <stdint.h>

#define MX_NAME_MAX 255		/* a domain name in text */
#define MX_HOSTS_MAX 32		/* MX records looked at per domain */

struct mx_host {
	char name[MX_NAME_MAX + 1];	/* "" for the null MX */
	unsigned pref;
};

struct mx_nexthop {
	char host[MX_NAME_MAX + 1];	/* lower case, no trailing dot */
	unsigned port;
	int literal;			/* bracketed: no MX lookup */
};

/* Parse a next hop (see above); port defaults to default_port. 0, or -1
 * with *error_r (static). */
int mx_nexthop_parse(const char *s, unsigned default_port,
		     struct mx_nexthop *nh, const char **error_r);
/* One MX RDATA into *mx. 0, or -1 if it is malformed. */
int mx_rdata_parse(const uint8_t *p, size_t len, struct mx_host *mx);
/* Is there a null MX among v[0..n)? 1 or 0. */
int mx_is_null(const struct mx_host *v, size_t n);
/* Order v[0..n) (see above); rnd(arg) returns a random number. */
void mx_sort(struct mx_host *v, size_t n, unsigned (*rnd)(void *),
	     void *arg);
/* Drop ourselves (myname, case-insensitive) and every host not more
 * preferred than us from the sorted v; the new count. */
size_t mx_prune_self(struct mx_host *v, size_t n, const char *myname);

#endif
