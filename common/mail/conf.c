/*
 * conf - postern's configuration: load, check, print and edit
 *
 * Every key is one line of conf_keys.def (STYLE.md 16); this file turns
 * the table into conf_keys[] (name, type, default, offset in struct conf)
 * and does everything by type from there. A few keys need more than their
 * type says (hostname and local_domains are domain names, remote_port is a
 * port, relay_host and dns_servers have their own syntax); conf_checks[]
 * names them.
 *
 * Loading is: zero the struct, store every default, parse the file over
 * it (a key set twice keeps the later value), cross-check values that
 * depend on each other, then derive what the file may leave empty
 * (hostname, local_domains, tls_cert, tls_key, config_path, etc_dir).
 *
 * conf_file_set edits the text: the last line setting the key is replaced
 * (or a line appended), the whole new text is checked exactly as
 * conf_load would check it, and only then written atomically.
 */
#include "mail/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/services.h"
#include "util/alloc.h"
#include "util/cidr.h"
#include "util/fileio.h"
#include "util/safedir.h"
#include "util/log.h"
#include "util/str.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/postern"
#endif

#define CONF_FILE_MAX (1024 * 1024)
#define CONF_DOMAIN_MAX 253

enum conf_type {
	CONF_STRING, CONF_PATH, CONF_LIST, CONF_HOSTPORTS,
	CONF_UINT, CONF_SIZE, CONF_DURATION, CONF_BOOL
};

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *def;
	const char *desc;
	size_t offset;
};

static const struct conf_key conf_keys[] = {
#define KEY(name, type, def, desc) \
	{ #name, CONF_##type, def, desc, offsetof(struct conf, name) },
#include "mail/conf_keys.def"
#undef KEY
};
#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static const struct conf_key *conf_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

int conf_key_known(const char *key)
{
	return conf_key_find(key) != NULL;
}

const char *conf_key_name(size_t i)
{
	return i < CONF_NKEYS ? conf_keys[i].name : NULL;
}

const char *conf_key_default(const char *key)
{
	const struct conf_key *k = conf_key_find(key);

	return k ? k->def : NULL;
}

const char *conf_key_description(const char *key)
{
	const struct conf_key *k = conf_key_find(key);

	return k ? k->desc : NULL;
}

const char *conf_path(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("POSTERN_CONF");
	if (env != NULL && *env != '\0')
		return env;
	return SYSCONFDIR "/postern.conf";
}

/* ---- checks beyond the type ------------------------------------------ */

static int conf_label_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-')
			return 0;
	return 1;
}

/* A DNS name: dot-separated labels of letters, digits and '-'. */
static int conf_domain_valid(const char *s)
{
	size_t len = strlen(s);
	const char *dot;

	if (len == 0 || len > CONF_DOMAIN_MAX)
		return 0;
	for (;;) {
		dot = strchr(s, '.');
		if (!conf_label_ok(s, dot ? (size_t)(dot - s) : strlen(s)))
			return 0;
		if (dot == NULL)
			return 1;
		s = dot + 1;
	}
}

static int conf_check_hostname(const char *v, const char **error_r)
{
	if (*v != '\0' && !conf_domain_valid(v)) {
		*error_r = "not a valid domain name";
		return -1;
	}
	return 0;
}

static int conf_check_domains(const char *v, const char **error_r)
{
	char **items;
	size_t n, i;
	int r = 0;

	if (cfg_list(v, &items, &n, error_r) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if (!conf_domain_valid(items[i])) {
			*error_r = "each item must be a valid domain name";
			r = -1;
		}
	}
	free(items);
	return r;
}

static int conf_port_ok(const char *s)
{
	unsigned port;
	const char *error;

	return cfg_uint(s, 65535, &port, &error) == 0 && port > 0;
}

static int conf_check_port(const char *v, const char **error_r)
{
	if (!conf_port_ok(v)) {
		*error_r = "port must be 1 to 65535";
		return -1;
	}
	return 0;
}

static int conf_ip_ok(const char *s, int v6)
{
	unsigned char raw[sizeof(struct in6_addr)];

	return inet_pton(v6 ? AF_INET6 : AF_INET, s, raw) == 1;
}

/* "[inside]" or "[inside]:port"; inside is checked by want. */
static int conf_bracketed(const char *s, int want_domain)
{
	const char *close = strchr(s, ']');
	char *inside;
	int ok;

	if (s[0] != '[' || close == NULL || close == s + 1)
		return 0;
	if (close[1] != '\0' && (close[1] != ':' || !conf_port_ok(close + 2)))
		return 0;
	inside = xstrndup(s + 1, (size_t)(close - s - 1));
	ok = conf_ip_ok(inside, 1) || conf_ip_ok(inside, 0) ||
		(want_domain && conf_domain_valid(inside));
	free(inside);
	return ok;
}

/* "host" or "host:port" where host passes ok(); s has at most one ':' */
static int conf_host_port(const char *s, int want_domain)
{
	const char *colon = strchr(s, ':');
	char *host;
	int ok;

	if (colon != NULL && !conf_port_ok(colon + 1))
		return 0;
	host = xstrndup(s, colon ? (size_t)(colon - s) : strlen(s));
	ok = conf_ip_ok(host, 0) || (want_domain && conf_domain_valid(host));
	free(host);
	return ok;
}

static int conf_check_relay(const char *v, const char **error_r)
{
	int ok;

	if (*v == '\0')
		return 0;
	if (v[0] == '[')
		ok = conf_bracketed(v, 1);
	else
		ok = strchr(v, ':') == strrchr(v, ':') && conf_host_port(v, 1);
	if (!ok) {
		*error_r = "expected host, host:port, [host] or [host]:port";
		return -1;
	}
	return 0;
}

static int conf_dns_server_ok(const char *s)
{
	if (s[0] == '[')
		return conf_bracketed(s, 0);
	if (strchr(s, ':') != strrchr(s, ':'))
		return conf_ip_ok(s, 1);
	return conf_host_port(s, 0);
}

static int conf_check_dns(const char *v, const char **error_r)
{
	char **items;
	size_t n, i;
	int r = 0;

	if (cfg_list(v, &items, &n, error_r) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if (!conf_dns_server_ok(items[i])) {
			*error_r = "each item must be an IP address, "
				"addr:port or [IPv6]:port";
			r = -1;
		}
	}
	free(items);
	return r;
}

/* A list of CIDR networks (trusted_networks); the reason names the
 * refused item (in a static buffer: configuration is read by one thread). */
static int conf_check_networks(const char *v, const char **error_r)
{
	static char reason[256];
	char item[CIDR_TEXT_MAX + 1];
	struct cidr_list l = { NULL, 0 };
	const char *error;
	char **items;
	size_t n, bad, i;
	int r;

	if (cfg_list(v, &items, &n, error_r) < 0)
		return -1;
	r = cidr_list_parse(&l, items, n, &error, &bad);
	if (r < 0) {
		for (i = 0; items[bad][i] != '\0' && i < CIDR_TEXT_MAX; i++)
			item[i] = isprint((unsigned char)items[bad][i])
				  ? items[bad][i] : '?';
		item[i] = '\0';
		snprintf(reason, sizeof(reason), "network '%s%s': %s", item,
			 items[bad][i] != '\0' ? "..." : "", error);
		*error_r = reason;
	}
	cidr_list_free(&l);
	free(items);
	return r;
}

static const struct {
	const char *name;
	int (*check)(const char *value, const char **error_r);
} conf_checks[] = {
	{ "hostname", conf_check_hostname },
	{ "local_domains", conf_check_domains },
	{ "remote_port", conf_check_port },
	{ "relay_host", conf_check_relay },
	{ "dns_servers", conf_check_dns },
	{ "trusted_networks", conf_check_networks },
};

static int conf_check_extra(const char *key, const char *value,
			    const char **error_r)
{
	size_t i;

	for (i = 0; i < sizeof(conf_checks) / sizeof(conf_checks[0]); i++)
		if (strcmp(conf_checks[i].name, key) == 0)
			return conf_checks[i].check(value, error_r);
	return 0;
}

/* ---- storing values by type ------------------------------------------ */

static void *conf_field(const struct conf *c, const struct conf_key *k)
{
	return (char *)c + k->offset;
}

static void conf_field_free(struct conf *c, const struct conf_key *k)
{
	void *f = conf_field(c, k);

	switch (k->type) {
	case CONF_STRING:
	case CONF_PATH:
		free(*(char **)f);
		*(char **)f = NULL;
		break;
	case CONF_LIST:
		free(((struct conf_list *)f)->v);
		memset(f, 0, sizeof(struct conf_list));
		break;
	case CONF_HOSTPORTS:
		free(((struct conf_hostports *)f)->v);
		memset(f, 0, sizeof(struct conf_hostports));
		break;
	default:
		break;
	}
}

static void conf_lowercase_list(struct conf_list *l)
{
	size_t i;
	char *p;

	for (i = 0; i < l->n; i++)
		for (p = l->v[i]; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
}

static int conf_store_list(struct conf *c, const struct conf_key *k,
			   const char *v, const char **error_r)
{
	struct conf_list l;

	if (cfg_list(v, &l.v, &l.n, error_r) < 0)
		return -1;
	if (strcmp(k->name, "local_domains") == 0)
		conf_lowercase_list(&l);
	conf_field_free(c, k);
	*(struct conf_list *)conf_field(c, k) = l;
	return 0;
}

static int conf_store_hostports(struct conf *c, const struct conf_key *k,
				const char *v, const char **error_r)
{
	struct conf_hostports h;

	if (cfg_hostports(v, &h.v, &h.n, error_r) < 0)
		return -1;
	conf_field_free(c, k);
	*(struct conf_hostports *)conf_field(c, k) = h;
	return 0;
}

static int conf_store_string(struct conf *c, const struct conf_key *k,
			     const char *v, const char **error_r)
{
	if (k->type == CONF_PATH && *v != '\0' && *v != '/') {
		*error_r = "must be an absolute path";
		return -1;
	}
	conf_field_free(c, k);
	*(char **)conf_field(c, k) = xstrdup(v);
	return 0;
}

static int conf_store(struct conf *c, const struct conf_key *k,
		      const char *v, const char **error_r)
{
	void *f = conf_field(c, k);

	switch (k->type) {
	case CONF_STRING:
	case CONF_PATH:
		return conf_store_string(c, k, v, error_r);
	case CONF_LIST:
		return conf_store_list(c, k, v, error_r);
	case CONF_HOSTPORTS:
		return conf_store_hostports(c, k, v, error_r);
	case CONF_UINT:
		return cfg_uint(v, UINT_MAX, f, error_r);
	case CONF_SIZE:
		return cfg_size(v, f, error_r);
	case CONF_DURATION:
		return cfg_duration(v, f, error_r);
	case CONF_BOOL:
		return cfg_bool(v, f, error_r);
	}
	*error_r = "unknown type";
	return -1;
}

static void conf_value_error(struct str *err, const char *key,
			     const char *value, const char *reason)
{
	str_appendf(err, "%s = '", key);
	log_escape(err, value, strlen(value), 80);
	str_appendf(err, "': %s", reason);
}

static int conf_set(struct conf *c, const struct conf_key *k,
		    const char *value, struct str *err)
{
	const char *error = "invalid value";

	if (conf_check_extra(k->name, value, &error) < 0 ||
	    conf_store(c, k, value, &error) < 0) {
		conf_value_error(err, k->name, value, error);
		return -1;
	}
	return 0;
}

static int conf_setting_cb(void *arg, const char *key, const char *value,
			   struct str *err)
{
	const struct conf_key *k = conf_key_find(key);

	if (k == NULL) {
		/* the parser lets only [a-z0-9_] through */
		str_appendf(err, "unknown key '%s'", key);
		return -1;
	}
	return conf_set(arg, k, value, err);
}

int conf_value_check(const char *key, const char *value, struct str *err)
{
	struct conf tmp;
	int r;

	memset(&tmp, 0, sizeof(tmp));
	r = conf_setting_cb(&tmp, key, value, err);
	conf_free(&tmp);
	return r;
}

static void conf_defaults(struct conf *c)
{
	struct str err = STR_INIT(0);
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_set(c, &conf_keys[i], conf_keys[i].def, &err) < 0)
			log_panic("conf_keys.def: bad default: %s", str_c(&err));
}

/* Keys that give a service's number of processes (services.c) are
 * bounded by what the master will start. */
static int conf_check_process_counts(const struct conf *c, const char *file,
				     struct str *errors)
{
	struct str v = STR_INIT(0);
	const char *error;
	unsigned count;
	int n = 0;

	for (unsigned i = 0; i < services_count; i++) {
		const char *key = services[i].processes_key;

		if (key == NULL || conf_get_text(c, key, &v) < 0 ||
		    cfg_uint(str_c(&v), SERVICE_PROCESSES_MAX, &count,
			     &error) == 0)
			continue;
		str_appendf(errors, "%s: %s: %s (at most %u)\n", file, key,
			    error, SERVICE_PROCESSES_MAX);
		n++;
	}
	str_free(&v);
	return n;
}

/* Values that depend on each other; "file: message" errors. */
static int conf_crosscheck(const struct conf *c, const char *file,
			   struct str *errors)
{
	int n = conf_check_process_counts(c, file, errors);

	if (c->retry_min == 0) {
		str_appendf(errors, "%s: retry_min must be more than 0\n",
			    file);
		n++;
	}
	if (c->retry_min > c->retry_max) {
		str_appendf(errors, "%s: retry_min (%us) is larger than "
			    "retry_max (%us)\n", file, c->retry_min,
			    c->retry_max);
		n++;
	}
	if (c->message_size_limit == 0) {
		str_appendf(errors, "%s: message_size_limit must be more "
			    "than 0\n", file);
		n++;
	}
	if (c->auth_hash_workers == 0 || c->auth_hash_workers > 64) {
		str_appendf(errors, "%s: auth_hash_workers must be 1 to 64\n",
			    file);
		n++;
	}
	if (c->auth_token_lifetime == 0 || c->auth_token_lifetime > 60) {
		str_appendf(errors, "%s: auth_token_lifetime must be 1s to "
			    "60s\n", file);
		n++;
	}
	if (c->auth_failure_delay > c->auth_failure_delay_max) {
		str_appendf(errors, "%s: auth_failure_delay (%us) is larger "
			    "than auth_failure_delay_max (%us)\n", file,
			    c->auth_failure_delay, c->auth_failure_delay_max);
		n++;
	}
	return n;
}

/* ---- derived values --------------------------------------------------- */

static void conf_derive_paths(struct conf *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;
	struct str full = STR_INIT(0);

	if (slash == NULL)
		dir = xstrdup(".");
	else
		dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	real = realpath(dir, NULL);
	if (real != NULL) {
		free(dir);
		dir = real;
	}
	path_join(&full, dir, slash ? slash + 1 : path);
	c->config_path = str_steal(&full);
	c->etc_dir = dir;
}

/* The machine's fully qualified name, or its plain name. */
static char *conf_fqdn(void)
{
	char name[256];
	struct addrinfo hints, *res;
	char *fqdn = NULL;

	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[sizeof(name) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(name, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL &&
		    strchr(res->ai_canonname, '.') != NULL)
			fqdn = xstrdup(res->ai_canonname);
		freeaddrinfo(res);
	}
	return fqdn ? fqdn : xstrdup(name);
}

static void conf_derive_default(struct conf *c, const char *key,
				const char *value)
{
	const struct conf_key *k = conf_key_find(key);
	const char *error = "unknown key";

	/* a value the system gave us (hostname) is stored even if odd */
	if (k == NULL || conf_store(c, k, value, &error) < 0)
		log_panic("conf: cannot derive %s from '%s': %s", key, value,
			  error);
}

static void conf_derive(struct conf *c, const char *path)
{
	struct str p = STR_INIT(0);
	char *name;

	conf_derive_paths(c, path);
	if (c->hostname == NULL || c->hostname[0] == '\0') {
		name = conf_fqdn();
		conf_derive_default(c, "hostname", name);
		free(name);
	}
	if (c->local_domains.n == 0 && strchr(c->hostname, ',') == NULL)
		conf_derive_default(c, "local_domains", c->hostname);
	if (c->tls_cert == NULL || c->tls_cert[0] == '\0') {
		path_join(&p, c->etc_dir, "tls.crt");
		conf_derive_default(c, "tls_cert", str_c(&p));
	}
	if (c->tls_key == NULL || c->tls_key[0] == '\0') {
		path_join(&p, c->etc_dir, "tls.key");
		conf_derive_default(c, "tls_key", str_c(&p));
	}
	str_free(&p);
}

int conf_load(struct conf *c, const char *path, struct str *errors)
{
	int n;

	memset(c, 0, sizeof(*c));
	conf_defaults(c);
	n = cfg_parse_file(path, conf_setting_cb, c, errors);
	n += conf_crosscheck(c, path, errors);
	conf_derive(c, path);
	return n;
}

void conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		conf_field_free(c, &conf_keys[i]);
	free(c->config_path);
	free(c->etc_dir);
	c->config_path = NULL;
	c->etc_dir = NULL;
}

/* ---- printing ---------------------------------------------------------- */

static void conf_text_duration(unsigned v, struct str *out)
{
	static const struct { unsigned secs; char suffix; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' },
	};
	size_t i;

	for (i = 0; v > 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (v % units[i].secs == 0) {
			str_appendf(out, "%u%c", v / units[i].secs,
				    units[i].suffix);
			return;
		}
	}
	str_appendf(out, "%us", v);
}

static void conf_text_hostport(const struct hostport *hp, struct str *out)
{
	char buf[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin = (const void *)&hp->addr;
	const struct sockaddr_in6 *sin6 = (const void *)&hp->addr;

	if (hp->addrlen == 0)
		str_appendf(out, "*:%u", hp->port);
	else if (hp->addr.ss_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)))
		str_appendf(out, "[%s]:%u", buf, hp->port);
	else if (hp->addr.ss_family == AF_INET &&
		 inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)))
		str_appendf(out, "%s:%u", buf, hp->port);
	else
		str_appendf(out, "%s:%u", hp->host, hp->port);
}

static void conf_text_list(const struct conf_list *l, struct str *out)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		str_appendf(out, "%s%s", i ? "," : "", l->v[i]);
}

static void conf_text_hostports(const struct conf_hostports *h,
				struct str *out)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (i > 0)
			str_appendc(out, ',');
		conf_text_hostport(&h->v[i], out);
	}
}

int conf_get_text(const struct conf *c, const char *key, struct str *out)
{
	const struct conf_key *k = conf_key_find(key);
	const void *f;

	str_clear(out);
	if (k == NULL)
		return -1;
	f = conf_field(c, k);
	switch (k->type) {
	case CONF_STRING:
	case CONF_PATH:
		str_appends(out, *(char *const *)f ? *(char *const *)f : "");
		break;
	case CONF_LIST:
		conf_text_list(f, out);
		break;
	case CONF_HOSTPORTS:
		conf_text_hostports(f, out);
		break;
	case CONF_UINT:
		str_appendf(out, "%u", *(const unsigned *)f);
		break;
	case CONF_SIZE:
		str_appendf(out, "%llu",
			    (unsigned long long)*(const uint64_t *)f);
		break;
	case CONF_DURATION:
		conf_text_duration(*(const unsigned *)f, out);
		break;
	case CONF_BOOL:
		str_appends(out, *(const int *)f ? "yes" : "no");
		break;
	}
	return 0;
}

/* ---- editing the file ---------------------------------------------------- */

static int conf_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Does line p[0..n) set key (same tokenising as cfg_parse_text)? */
static int conf_line_sets(const char *p, size_t n, const char *key)
{
	const char *eq;
	size_t klen;

	while (n > 0 && conf_is_blank(*p)) {
		p++;
		n--;
	}
	if (n == 0 || *p == '#' || (eq = memchr(p, '=', n)) == NULL)
		return 0;
	klen = (size_t)(eq - p);
	while (klen > 0 && conf_is_blank(p[klen - 1]))
		klen--;
	return klen == strlen(key) && memcmp(p, key, klen) == 0;
}

/* Find the last line of text setting key: [*start_r, *end_r) without the
 * line end ("\n" or "\r\n"). 1 found, 0 not. */
static int conf_find_line(const char *text, size_t len, const char *key,
			  size_t *start_r, size_t *end_r)
{
	size_t pos = 0, n, e;
	const char *nl;
	int found = 0;

	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (conf_line_sets(text + pos, n, key)) {
			e = n > 0 && text[pos + n - 1] == '\r' ? n - 1 : n;
			*start_r = pos;
			*end_r = pos + e;
			found = 1;
		}
		pos += n + (nl != NULL);
	}
	return found;
}

static void conf_edit_text(const struct str *old, const char *key,
			   const char *value, struct str *out)
{
	size_t start, end;

	str_clear(out);
	if (conf_find_line(str_c(old), old->len, key, &start, &end)) {
		str_append(out, str_c(old), start);
		str_appendf(out, "%s = %s", key, value);
		str_append(out, str_c(old) + end, old->len - end);
		return;
	}
	str_append(out, str_c(old), old->len);
	if (old->len > 0 && old->s[old->len - 1] != '\n')
		str_appendc(out, '\n');
	str_appendf(out, "%s = %s\n", key, value);
}

static int conf_text_check(const char *file, const struct str *text,
			   struct str *errors)
{
	struct conf tmp;
	int n;

	memset(&tmp, 0, sizeof(tmp));
	conf_defaults(&tmp);
	n = cfg_parse_text(file, str_c(text), text->len, conf_setting_cb,
			   &tmp, errors);
	n += conf_crosscheck(&tmp, file, errors);
	conf_free(&tmp);
	return n;
}

static int conf_set_args_check(const char *path, const char *key,
			       const char *value, struct str *errors)
{
	struct str msg = STR_INIT(0);
	int r = 0;

	if (strpbrk(value, "\r\n") != NULL) {
		str_appendf(errors, "%s: %s: the value must be one line\n",
			    path, key);
		return -1;
	}
	if (conf_value_check(key, value, &msg) < 0) {
		str_appendf(errors, "%s: %s\n", path, str_c(&msg));
		r = -1;
	}
	str_free(&msg);
	return r;
}

static int conf_write(const char *real, const struct stat *st,
		      const struct str *text, struct str *errors)
{
	const char *error;

	if (file_write_atomic(real, str_c(text), text->len,
			      st->st_mode & 07777, &error) < 0) {
		str_appendf(errors, "%s: %s\n", real, error);
		return -1;
	}
	/* the owner back, through a descriptor: never through a symlink
	 * someone put in the new file's place */
	if (geteuid() == 0) {
		int fd = safefile_open(real, S_IFREG);

		if (fd < 0 || safefile_chown(fd, st->st_uid, st->st_gid) < 0) {
			str_appendf(errors, "%s: chown: %s\n", real,
				    strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

int conf_file_set(const char *path, const char *key, const char *value,
		  struct str *errors)
{
	struct str old = STR_INIT(0), text = STR_INIT(0);
	struct stat st;
	char *real = NULL;
	int r = -1;

	if (conf_set_args_check(path, key, value, errors) < 0)
		return -1;
	/* write through a symlink to the file it names */
	real = realpath(path, NULL);
	if (real == NULL || stat(real, &st) < 0 ||
	    file_read_all(real, &old, CONF_FILE_MAX) < 0) {
		str_appendf(errors, "%s: %s\n", path, errno == EFBIG ?
			    "file larger than 1 MiB" : strerror(errno));
		goto out;
	}
	conf_edit_text(&old, key, value, &text);
	if (conf_text_check(path, &text, errors) > 0)
		goto out;
	r = conf_write(real, &st, &text, errors);
out:
	free(real);
	str_free(&old);
	str_free(&text);
	return r;
}

/* ---- paths and domains ------------------------------------------------- */

static int conf_join(const char *dir, const char *name, struct str *out)
{
	if (dir == NULL) {
		str_clear(out);
		errno = EINVAL;
		return -1;
	}
	return path_join(out, dir, name);
}

int conf_etc_path(const struct conf *c, const char *name, struct str *out)
{
	return conf_join(c->etc_dir, name, out);
}

int conf_queue_path(const struct conf *c, const char *name, struct str *out)
{
	return conf_join(c->queue_dir, name, out);
}

int conf_domain_is_local(const struct conf *c, const char *domain)
{
	size_t i, len = strlen(domain);

	/* "example.org." is example.org */
	if (len > 1 && domain[len - 1] == '.')
		len--;
	for (i = 0; i < c->local_domains.n; i++) {
		const char *d = c->local_domains.v[i];

		if (strlen(d) == len && strncasecmp(d, domain, len) == 0)
			return 1;
	}
	return 0;
}
