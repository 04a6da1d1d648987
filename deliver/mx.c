/*
 * mx - next hops, MX RDATA and their order (see mx.h)
 */
#include "mx.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int port_parse(const char *s, unsigned *port)
{
	unsigned v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* Copy host[0..len) lower-cased, without a trailing dot. */
static int host_set(struct mx_nexthop *nh, const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > MX_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '[' || c == ']' ||
		    c == '/' || c == '@')
			return -1;
		nh->host[i] = (char)tolower(c);
	}
	nh->host[len] = '\0';
	return 0;
}

int mx_nexthop_parse(const char *s, unsigned default_port,
		     struct mx_nexthop *nh, const char **error_r)
{
	const char *end, *colon;

	memset(nh, 0, sizeof(*nh));
	nh->port = default_port;
	if (s[0] == '[') {
		end = strchr(s, ']');
		nh->literal = 1;
		if (end == NULL || host_set(nh, s + 1, (size_t)(end - s - 1))
		    < 0 || (end[1] != '\0' && (end[1] != ':' ||
		    port_parse(end + 2, &nh->port) < 0))) {
			*error_r = "bad [host]:port";
			return -1;
		}
		return 0;
	}
	colon = strchr(s, ':');
	if (colon != NULL && (strchr(colon + 1, ':') != NULL ||
			      port_parse(colon + 1, &nh->port) < 0)) {
		*error_r = "bad host:port";
		return -1;
	}
	if (host_set(nh, s, colon ? (size_t)(colon - s) : strlen(s)) < 0) {
		*error_r = "bad host name";
		return -1;
	}
	return 0;
}

int mx_rdata_parse(const uint8_t *p, size_t len, struct mx_host *mx)
{
	size_t pos = 2, out = 0;

	if (len < 3)
		return -1;
	mx->pref = (unsigned)p[0] << 8 | p[1];
	for (;;) {
		size_t lab;

		if (pos >= len)
			return -1;
		lab = p[pos++];
		if (lab == 0)
			break;
		if (lab > 63 || pos + lab > len || out + lab + 1 > MX_NAME_MAX)
			return -1;
		if (out > 0)
			mx->name[out++] = '.';
		for (size_t i = 0; i < lab; i++) {
			unsigned char c = p[pos + i];

			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			mx->name[out++] = (char)tolower(c);
		}
		pos += lab;
	}
	mx->name[out] = '\0';
	return pos == len ? 0 : -1;
}

int mx_is_null(const struct mx_host *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name[0] == '\0')
			return 1;
	return 0;
}

void mx_sort(struct mx_host *v, size_t n, unsigned (*rnd)(void *),
	     void *arg)
{
	/* shuffle (Fisher-Yates), then a stable insertion sort by
	 * preference: equal preferences keep their random order */
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd(arg) % i;
		struct mx_host t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
	for (size_t i = 1; i < n; i++) {
		struct mx_host t = v[i];
		size_t j = i;

		while (j > 0 && v[j - 1].pref > t.pref) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
}

size_t mx_prune_self(struct mx_host *v, size_t n, const char *myname)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i].name, myname) == 0) {
			unsigned pref = v[i].pref;
			size_t k = 0;

			while (k < n && v[k].pref < pref)
				k++;
			return k;
		}
	return n;
}
