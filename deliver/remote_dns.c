/*
 * remote_dns - MX, A and AAAA lookups for postern-remote, through
 * libunbound
 *
 * WHY LIBUNBOUND  A validating, caching resolver library from NLnet Labs,
 * packaged in Debian (libunbound-dev): it parses DNS answers itself (no
 * hand-written packet parser facing the network), hands over MX RDATA
 * uncompressed, and resolves asynchronously so every lookup can be bound
 * by a deadline (remote_timeout) instead of the resolver's own retries.
 * c-ares would do as well; the glibc resolver (res_query) would need our
 * own answer parser and has no deadline.
 *
 * SERVERS  dns_servers, when set, are the forwarders ("addr", "addr:port",
 * "[v6]:port"); otherwise those of /etc/resolv.conf. Loopback servers are
 * allowed (unbound refuses them by default), for a local caching resolver
 * and for the tests. One context per process, created at start; the
 * lookups run in libunbound's worker thread and this process waits on its
 * descriptor with poll(2).
 *
 * SPECIAL-USE NAMES  Every name is asked of the servers above. libunbound
 * answers a list of special-use zones itself, before any forwarder is
 * asked: test., invalid., onion. (RFC 6761, 7686), home.arpa. (RFC 8375)
 * and the AS112 zones of RFC 6303 (private reverse zones). A resolver
 * library sends .test names to its configured servers (RFC 6761 section
 * 6.2), and a site that serves such names to its mail server means them
 * to be used; so the AS112 zones are unblocked and the others are made
 * "transparent" (an empty local zone: every name in it is resolved as
 * usual). "nodefault" would be the documented way, but libunbound 1.17's
 * ub_ctx_set_option() keeps the whole "ZONE nodefault" string as the
 * zone name, so it never matches. Only localhost. and the loopback
 * reverse zones (127.in-addr.arpa., ::1's ip6.arpa.) are still answered
 * locally, as RFC 6761 section 6.3 wants.
 */
#include "remote.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "util/cfgfile.h"
#include "util/event.h"
#include "util/log.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_MX 15
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1
#define DNS_RCODE_NXDOMAIN 3

/* "192.0.2.1:5353" -> "192.0.2.1@5353", "[::1]:53" -> "::1@53" */
static void fwd_text(const char *item, struct str *out)
{
	const char *colon = strrchr(item, ':');

	str_clear(out);
	if (item[0] == '[') {
		const char *close = strchr(item, ']');

		str_append(out, item + 1, (size_t)(close - item - 1));
		if (close[1] == ':')
			str_appendf(out, "@%s", close + 2);
	} else if (colon != NULL && colon == strchr(item, ':')) {
		str_append(out, item, (size_t)(colon - item));
		str_appendf(out, "@%s", colon + 1);
	} else {
		str_appends(out, item);
	}
}

static int dns_servers_set(struct remote_agent *ra, const char **error_r)
{
	struct str fwd = STR_INIT(0);
	char **items;
	size_t n;
	int r = 0;

	if (cfg_list(ra->conf->dns_servers, &items, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		fwd_text(items[i], &fwd);
		if (ub_ctx_set_fwd(ra->ub, str_c(&fwd)) != 0) {
			*error_r = "dns_servers: an address unbound refuses";
			r = -1;
		}
	}
	free(items);
	str_free(&fwd);
	return r;
}

/* The special-use zones libunbound would answer by itself (see above). */
static const char *const dns_forwarded_zones[] = {
	"test.", "invalid.", "onion.", "home.arpa.", "resolver.arpa.",
	"service.arpa.", NULL,
};

static int dns_special_use(struct ub_ctx *ub)
{
	struct str zone = STR_INIT(0);
	int r = 0;

	if (ub_ctx_set_option(ub, "unblock-lan-zones:", "yes") != 0)
		r = -1;
	for (size_t i = 0; r == 0 && dns_forwarded_zones[i] != NULL; i++) {
		str_clear(&zone);
		str_appendf(&zone, "%s transparent", dns_forwarded_zones[i]);
		if (ub_ctx_set_option(ub, "local-zone:", str_c(&zone)) != 0)
			r = -1;
	}
	str_free(&zone);
	return r;
}

int remote_dns_init(struct remote_agent *ra, const char **error_r)
{
	int r;

	ra->ub = ub_ctx_create();
	if (ra->ub == NULL) {
		*error_r = "cannot create the libunbound context";
		return -1;
	}
	if (ub_ctx_async(ra->ub, 1) != 0 ||
	    ub_ctx_set_option(ra->ub, "do-not-query-localhost:", "no") != 0 ||
	    dns_special_use(ra->ub) < 0) {
		*error_r = "cannot configure libunbound";
		return -1;
	}
	if (ra->conf->dns_servers[0] != '\0')
		return dns_servers_set(ra, error_r);
	r = ub_ctx_resolvconf(ra->ub, NULL);
	if (r != 0)
		log_warn(NULL, "/etc/resolv.conf: %s; resolving from the root "
			 "servers", ub_strerror(r));
	return 0;
}

void remote_dns_free(struct remote_agent *ra)
{
	if (ra->ub != NULL)
		ub_ctx_delete(ra->ub);
	ra->ub = NULL;
}

struct dns_wait {
	int done;
	int err;
	struct ub_result *res;
};

static void dns_callback(void *arg, int err, struct ub_result *res)
{
	struct dns_wait *w = arg;

	w->done = 1;
	w->err = err;
	w->res = res;
}

static const char *type_name(int type)
{
	return type == DNS_TYPE_MX ? "MX" : type == DNS_TYPE_A ? "A" : "AAAA";
}

/* One lookup within remote_timeout: the result, or NULL with a reason
 * ("4.4.3 ..."). */
static struct ub_result *dns_query(struct remote_agent *ra, const char *name,
				   int type, struct str *reason)
{
	struct dns_wait w = { 0, 0, NULL };
	int64_t deadline = clock_ms() + (int64_t)ra->conf->remote_timeout *
			   1000;
	int id, r;

	r = ub_resolve_async(ra->ub, name, type, DNS_CLASS_IN, &w,
			     dns_callback, &id);
	while (r == 0 && !w.done) {
		struct pollfd p = { ub_fd(ra->ub), POLLIN, 0 };
		int64_t left = deadline - clock_ms();

		if (left <= 0) {
			ub_cancel(ra->ub, id);
			str_appendf(reason, "4.4.3 DNS %s lookup of %s timed "
				    "out", type_name(type), name);
			return NULL;
		}
		if (poll(&p, 1, (int)(left > 60000 ? 60000 : left)) < 0 &&
		    errno != EINTR)
			break;
		r = ub_process(ra->ub);
	}
	if (r == 0 && w.done && w.err == 0)
		return w.res;
	str_appendf(reason, "4.4.3 DNS %s lookup of %s failed: %s",
		    type_name(type), name, ub_strerror(r != 0 ? r : w.err));
	return NULL;
}

static unsigned random_cb(void *arg)
{
	(void)arg;
	return (unsigned)random();
}

int remote_dns_mx(struct remote_agent *ra, const char *domain,
		  struct mx_host *v, size_t *n_r, struct str *reason)
{
	struct ub_result *res = dns_query(ra, domain, DNS_TYPE_MX, reason);
	size_t n = 0;

	*n_r = 0;
	if (res == NULL)
		return -1;
	if (res->rcode == DNS_RCODE_NXDOMAIN || res->nxdomain) {
		str_appendf(reason, "5.1.2 domain %s does not exist", domain);
		ub_resolve_free(res);
		return -1;
	}
	if (res->rcode != 0) {
		str_appendf(reason, "4.4.3 DNS MX lookup of %s failed (rcode "
			    "%d)", domain, res->rcode);
		ub_resolve_free(res);
		return -1;
	}
	for (int i = 0; res->havedata && res->data[i] != NULL &&
	     n < MX_HOSTS_MAX; i++)
		if (mx_rdata_parse((const uint8_t *)res->data[i],
				   (size_t)res->len[i], &v[n]) == 0)
			n++;
	ub_resolve_free(res);
	if (mx_is_null(v, n)) {
		str_appendf(reason, "5.1.10 domain %s accepts no mail (null "
			    "MX, RFC 7505)", domain);
		return -1;
	}
	mx_sort(v, n, random_cb, NULL);
	*n_r = n;
	return n > 0;
}

static int addrs_of(struct remote_agent *ra, const char *host, int type,
		    unsigned port, struct sockaddr_storage *v, size_t max,
		    size_t *n, int *nxdomain_r, struct str *reason)
{
	struct ub_result *res = dns_query(ra, host, type, reason);

	if (res == NULL)
		return -1;
	if (res->rcode == DNS_RCODE_NXDOMAIN || res->nxdomain)
		*nxdomain_r = 1;
	else if (res->rcode != 0) {
		str_appendf(reason, "4.4.3 DNS %s lookup of %s failed (rcode "
			    "%d)", type_name(type), host, res->rcode);
		ub_resolve_free(res);
		return -1;
	}
	for (int i = 0; res->havedata && res->data[i] != NULL && *n < max;
	     i++) {
		struct sockaddr_storage *ss = &v[*n];

		memset(ss, 0, sizeof(*ss));
		if (type == DNS_TYPE_A && res->len[i] == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			memcpy(&sin->sin_addr, res->data[i], 4);
			(*n)++;
		} else if (type == DNS_TYPE_AAAA && res->len[i] == 16) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
			memcpy(&sin6->sin6_addr, res->data[i], 16);
			(*n)++;
		}
	}
	ub_resolve_free(res);
	return 0;
}

/* An IP literal: one address, no DNS. 1 if host was one. */
static int literal_addr(const char *host, unsigned port,
			struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *h = host;

	memset(ss, 0, sizeof(*ss));
	if (cstr_case_prefix(h, "ipv6:"))
		h += 5;
	if (inet_pton(AF_INET, h, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return 1;
	}
	if (inet_pton(AF_INET6, h, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return 1;
	}
	return 0;
}

int remote_dns_addrs(struct remote_agent *ra, const char *host,
		     unsigned port, struct sockaddr_storage *v, size_t max,
		     int *nxdomain_r, struct str *reason)
{
	size_t n = 0;
	int nx4 = 0, nx6 = 0;

	*nxdomain_r = 0;
	if (max == 0)
		return 0;
	if (literal_addr(host, port, &v[0]))
		return 1;
	if (addrs_of(ra, host, DNS_TYPE_A, port, v, max, &n, &nx4,
		     reason) < 0)
		return -1;
	if (!nx4 && addrs_of(ra, host, DNS_TYPE_AAAA, port, v, max, &n, &nx6,
			     reason) < 0) {
		if (n == 0)
			return -1;
		str_clear(reason);	/* the A records will do */
	}
	*nxdomain_r = nx4 || nx6;
	return (int)n;
}
