/*
 * cfgfile - the syntax of configuration files, without knowing any key
 *
 * A file is split into lines at '\n' (a '\r' before it is a blank). Each
 * line is blank, a comment ('#' as first non-blank) or "key = value"; the
 * first '=' separates key from value, so a value may itself contain '='.
 * A '#' after the '=' is part of the value. A line longer than
 * CFG_LINE_MAX bytes or holding a NUL byte is an error for that line;
 * parsing goes on with the next line so that one run reports every error.
 * When a key appears twice the callback sees both, in order: the caller
 * keeps the later value.
 *
 * The value parsers never allocate on error and never accept blanks inside
 * a value: " 5m" is not a duration (the line parser has trimmed already).
 */
#include "util/cfgfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/str.h"

#define CFG_LINE_MAX 4096
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_ERRORS_MAX 100

struct cfg_parser {
	const char *file;
	cfg_setting_cb *cb;
	void *arg;
	struct str *errors;
	int count;
};

static int cfg_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int cfg_is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Drop leading and trailing blanks of p[0..*n); return the new start. */
static const char *cfg_trim(const char *p, size_t *n)
{
	while (*n > 0 && cfg_is_blank(p[0])) {
		p++;
		(*n)--;
	}
	while (*n > 0 && cfg_is_blank(p[*n - 1]))
		(*n)--;
	return p;
}

static void cfg_error(struct cfg_parser *ps, unsigned line, const char *msg)
{
	ps->count++;
	if (ps->count > CFG_ERRORS_MAX)
		return;
	if (ps->count == CFG_ERRORS_MAX)
		msg = "too many errors, the rest are not shown";
	(void)str_appendf(ps->errors, "%s:%u: %s\n", ps->file, line, msg);
}

static void cfg_key_error(struct cfg_parser *ps, unsigned line,
			  const char *key, size_t n)
{
	struct str msg = STR_INIT(0);

	str_appends(&msg, "invalid key '");
	log_escape(&msg, key, n, 64);
	str_appends(&msg, "' (keys are made of a-z, 0-9 and _)");
	cfg_error(ps, line, str_c(&msg));
	str_free(&msg);
}

/* One line p[0..n) that is known to hold no NUL and fit the limit. */
static void cfg_parse_line(struct cfg_parser *ps, unsigned line,
			   const char *p, size_t n)
{
	const char *eq, *key, *value;
	size_t klen, vlen, i;
	char *k, *v;
	struct str msg = STR_INIT(0);

	p = cfg_trim(p, &n);
	if (n == 0 || p[0] == '#')
		return;
	eq = memchr(p, '=', n);
	if (eq == NULL) {
		cfg_error(ps, line, "expected key = value");
		return;
	}
	klen = (size_t)(eq - p);
	key = cfg_trim(p, &klen);
	vlen = n - (size_t)(eq + 1 - p);
	value = cfg_trim(eq + 1, &vlen);
	for (i = 0; i < klen && cfg_is_key_char(key[i]); i++)
		;
	if (klen == 0 || i < klen) {
		cfg_key_error(ps, line, key, klen);
		return;
	}
	k = xstrndup(key, klen);
	v = xstrndup(value, vlen);
	if (ps->cb(ps->arg, k, v, &msg) < 0)
		cfg_error(ps, line, msg.len ? str_c(&msg) : "invalid setting");
	str_free(&msg);
	free(k);
	free(v);
}

int cfg_parse_text(const char *file, const char *buf, size_t len,
		   cfg_setting_cb *cb, void *arg, struct str *errors)
{
	struct cfg_parser ps = { file, cb, arg, errors, 0 };
	size_t pos = 0, n;
	unsigned line = 0;
	const char *nl;

	while (pos < len && ps.count < CFG_ERRORS_MAX) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		if (line < UINT_MAX)
			line++;
		if (n > CFG_LINE_MAX)
			cfg_error(&ps, line, "line longer than 4096 bytes");
		else if (memchr(buf + pos, '\0', n) != NULL)
			cfg_error(&ps, line, "line contains a NUL byte");
		else
			cfg_parse_line(&ps, line, buf + pos, n);
		pos += n + (nl != NULL);
	}
	return ps.count;
}

int cfg_parse_file(const char *file, cfg_setting_cb *cb, void *arg,
		   struct str *errors)
{
	struct str text = STR_INIT(0);
	int r;

	if (file_read_all(file, &text, CFG_FILE_MAX) < 0) {
		(void)str_appendf(errors, "%s: %s\n", file, errno == EFBIG ?
				  "file larger than 1 MiB" : strerror(errno));
		str_free(&text);
		return 1;
	}
	r = cfg_parse_text(file, str_c(&text), text.len, cb, arg, errors);
	str_free(&text);
	return r;
}

/* Parse a run of decimal digits into a uint64; *end_r after the last.
 * -1 on no digits or overflow. */
static int cfg_digits(const char *s, uint64_t *r, const char **end_r,
		      const char **error_r)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9') {
		*error_r = *s ? "expected a number" : "empty value";
		return -1;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v)) {
			*error_r = "number too large";
			return -1;
		}
	}
	*r = v;
	*end_r = s;
	return 0;
}

static int cfg_duration_unit(char c, uint64_t *mult_r)
{
	switch (c) {
	case '\0': case 's': *mult_r = 1; return 0;
	case 'm': *mult_r = 60; return 0;
	case 'h': *mult_r = 3600; return 0;
	case 'd': *mult_r = 86400; return 0;
	default: return -1;
	}
}

int cfg_duration(const char *s, unsigned *seconds_r, const char **error_r)
{
	uint64_t v, mult;
	const char *end;

	if (cfg_digits(s, &v, &end, error_r) < 0)
		return -1;
	if (cfg_duration_unit(*end, &mult) < 0 ||
	    (*end != '\0' && end[1] != '\0')) {
		*error_r = "unknown suffix (use s, m, h or d)";
		return -1;
	}
	if (__builtin_mul_overflow(v, mult, &v) || v > UINT_MAX) {
		*error_r = "duration too large";
		return -1;
	}
	*seconds_r = (unsigned)v;
	return 0;
}

static int cfg_size_unit(char c, unsigned *shift_r)
{
	switch (c) {
	case '\0': *shift_r = 0; return 0;
	case 'k': case 'K': *shift_r = 10; return 0;
	case 'm': case 'M': *shift_r = 20; return 0;
	case 'g': case 'G': *shift_r = 30; return 0;
	default: return -1;
	}
}

int cfg_size(const char *s, uint64_t *bytes_r, const char **error_r)
{
	uint64_t v;
	unsigned shift;
	const char *end;

	if (cfg_digits(s, &v, &end, error_r) < 0)
		return -1;
	if (cfg_size_unit(*end, &shift) < 0 ||
	    (*end != '\0' && end[1] != '\0')) {
		*error_r = "unknown suffix (use k, m or g)";
		return -1;
	}
	if (shift > 0 && v > (UINT64_MAX >> shift)) {
		*error_r = "size too large";
		return -1;
	}
	*bytes_r = v << shift;
	return 0;
}

int cfg_bool(const char *s, int *bool_r, const char **error_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*bool_r = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*bool_r = 0;
			return 0;
		}
	}
	*error_r = "expected yes or no";
	return -1;
}

int cfg_uint(const char *s, unsigned max, unsigned *r, const char **error_r)
{
	uint64_t v;
	const char *end;

	if (cfg_digits(s, &v, &end, error_r) < 0)
		return -1;
	if (*end != '\0') {
		*error_r = "expected a number";
		return -1;
	}
	if (v > max) {
		*error_r = "number too large";
		return -1;
	}
	*r = (unsigned)v;
	return 0;
}

/* Split the copy p (NUL-terminated, trimmed, non-empty) in place at ','
 * into items[], trimming each; -1 if an item is empty. */
static int cfg_split(char *p, char **items, size_t *n_r)
{
	size_t n = 0, len;
	char *comma, *item;

	for (;;) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		len = strlen(p);
		item = (char *)cfg_trim(p, &len);
		if (len == 0)
			return -1;
		item[len] = '\0';
		items[n++] = item;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*n_r = n;
	return 0;
}

int cfg_list(const char *s, char ***items_r, size_t *n_r,
	     const char **error_r)
{
	size_t len = strlen(s), n = 1, i, size;
	const char *t = cfg_trim(s, &len);
	char **items;

	*items_r = NULL;
	*n_r = 0;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		n += t[i] == ',';
	/* n + 1 pointers (NULL-terminated), then the text */
	size = (n + 1) * sizeof(char *) + len + 1;
	items = xmalloc(size);
	memcpy((char *)(items + n + 1), t, len);
	((char *)(items + n + 1))[len] = '\0';
	if (cfg_split((char *)(items + n + 1), items, &n) < 0) {
		free(items);
		*error_r = "empty item in list";
		return -1;
	}
	items[n] = NULL;
	*items_r = items;
	*n_r = n;
	return 0;
}

static int cfg_port(const char *s, uint16_t *port_r, const char **error_r)
{
	unsigned v;

	if (*s == '\0') {
		*error_r = "missing port after ':'";
		return -1;
	}
	if (cfg_uint(s, 65535, &v, error_r) < 0 || v == 0) {
		*error_r = "port must be 1 to 65535";
		return -1;
	}
	*port_r = (uint16_t)v;
	return 0;
}

static void cfg_hostport_addr(struct hostport *hp, int family,
			      const void *raw)
{
	memset(&hp->addr, 0, sizeof(hp->addr));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&hp->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(hp->port);
		memcpy(&sin->sin_addr, raw, sizeof(sin->sin_addr));
		hp->addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hp->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(hp->port);
		memcpy(&sin6->sin6_addr, raw, sizeof(sin6->sin6_addr));
		hp->addrlen = sizeof(*sin6);
	}
}

/* Split "host:port" or "[v6]:port" into host (no brackets) and port text;
 * *v6_r tells whether brackets were used. Modifies item. */
static int cfg_hostport_split(char *item, char **host_r, char **port_r,
			      int *v6_r, const char **error_r)
{
	char *colon, *close;

	*v6_r = item[0] == '[';
	if (*v6_r) {
		close = strchr(item, ']');
		if (close == NULL || close[1] != ':') {
			*error_r = close ? "missing :port after ']'" :
				"missing ']' after IPv6 address";
			return -1;
		}
		*close = '\0';
		*host_r = item + 1;
		*port_r = close + 2;
		return 0;
	}
	colon = strrchr(item, ':');
	if (colon == NULL) {
		*error_r = "missing :port";
		return -1;
	}
	*colon = '\0';
	if (strchr(item, ':') != NULL) {
		*error_r = "IPv6 addresses need brackets: [addr]:port";
		return -1;
	}
	*host_r = item;
	*port_r = colon + 1;
	return 0;
}

static int cfg_hostport_one(char *item, struct hostport *hp,
			    const char **error_r)
{
	unsigned char raw[sizeof(struct in6_addr)];
	char *host, *port;
	int v6;

	memset(hp, 0, sizeof(*hp));
	if (cfg_hostport_split(item, &host, &port, &v6, error_r) < 0 ||
	    cfg_port(port, &hp->port, error_r) < 0)
		return -1;
	if (!v6 && (strcmp(host, "*") == 0 || *host == '\0'))
		return 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, raw) != 1) {
		*error_r = v6 ? "invalid IPv6 address" :
			"address must be numeric (an IPv4 address, [IPv6] or *)";
		return -1;
	}
	if (cstr_copy(hp->host, sizeof(hp->host), host) < 0) {
		*error_r = "address too long";
		return -1;
	}
	cfg_hostport_addr(hp, v6 ? AF_INET6 : AF_INET, raw);
	return 0;
}

int cfg_hostports(const char *s, struct hostport **list_r, size_t *n_r,
		  const char **error_r)
{
	char **items;
	size_t n, i;
	struct hostport *list;

	*list_r = NULL;
	*n_r = 0;
	if (cfg_list(s, &items, &n, error_r) < 0)
		return -1;
	if (n == 0)
		return 0;
	list = xcalloc(n, sizeof(*list));
	for (i = 0; i < n; i++) {
		if (cfg_hostport_one(items[i], &list[i], error_r) < 0) {
			free(list);
			free(items);
			return -1;
		}
	}
	free(items);
	*list_r = list;
	*n_r = n;
	return 0;
}
