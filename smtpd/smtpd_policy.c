/*
 * smtpd_policy - which recipients postern-smtpd accepts
 *
 * A recipient in one of local_domains must be a virtual user (users.cdb)
 * or an alias (aliases.cdb); the key is the address in lower case, and
 * "user+tag@domain" falls back to "user@domain" (550 5.1.1 otherwise).
 * Any other domain, and every address literal, is relayed only for an
 * authenticated client, or for a client in trusted_networks when
 * trusted_networks_relay is on (off by default: a trusted network is
 * exempt from connection limits, not from AUTH); 554 5.7.1 otherwise:
 * postern is never an open relay. "<Postmaster>" without a domain (RFC 5321 4.5.1) means
 * postmaster@hostname. Source routes and '%', '!', '@' in local parts are
 * already refused by the parser (553 5.1.3).
 */
#include "smtpd.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"

/* 1 found, 0 not found, -1 lookup error. */
static int policy_lookup(struct smtpd_session *s, const struct str *key)
{
	struct str val = STR_INIT(0);
	int r;

	r = cdbmap_lookup(&s->srv->users, key->s, key->len, &val);
	if (r == 0)
		r = cdbmap_lookup(&s->srv->aliases, key->s, key->len, &val);
	if (r < 0)
		log_warn(s->id, "map lookup failed: %s", strerror(errno));
	str_free(&val);
	return r;
}

/* key = lower(local[0..len)) "@" domain (already lower case). */
static void policy_key(struct str *key, const struct addr *a, size_t len)
{
	str_clear(key);
	for (size_t i = 0; i < len; i++) {
		char c = a->local[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (str_appendc(key, c) < 0)
			log_panic("map key: %s", strerror(errno));
	}
	if (str_appendc(key, '@') < 0 ||
	    str_append(key, a->domain, a->domain_len) < 0)
		log_panic("map key: %s", strerror(errno));
}

static enum smtpd_rcpt_verdict policy_local(struct smtpd_session *s,
					    const struct addr *a)
{
	struct str key = STR_INIT(0);
	const char *ext;
	size_t base;
	int r;

	policy_key(&key, a, a->local_len);
	r = policy_lookup(s, &key);
	if (r == 0 && addr_split_extension(a->local, a->local_len, '+',
					    &base, &ext)) {
		policy_key(&key, a, base);
		r = policy_lookup(s, &key);
	}
	str_free(&key);
	if (r < 0)
		return SMTPD_RCPT_TEMP;
	return r > 0 ? SMTPD_RCPT_OK : SMTPD_RCPT_UNKNOWN;
}

enum smtpd_rcpt_verdict smtpd_policy_rcpt(struct smtpd_session *s,
					  const struct addr *a,
					  struct str *address_r)
{
	struct addr full = *a;
	const char *host = s->srv->conf->hostname;

	if (full.domain_len == 0) {	/* <Postmaster> */
		if (cstr_copy(full.domain, sizeof(full.domain), host) < 0)
			log_panic("hostname longer than a domain");
		full.domain_len = strlen(full.domain);
	}
	str_clear(address_r);
	if (addr_format(&full, address_r) < 0)
		log_panic("recipient address: cannot format");
	if (full.is_literal || !conf_domain_is_local(s->srv->conf, full.domain))
		return s->authed || (s->trusted && s->srv->trusted_relay)
			? SMTPD_RCPT_OK : SMTPD_RCPT_RELAY;
	return policy_local(s, &full);
}
