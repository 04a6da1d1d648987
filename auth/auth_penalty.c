/*
 * auth_penalty - recent failed logins and the delays they earn
 *
 * The tables are plain arrays scanned linearly; each entry carries a hash
 * of its key so that a scan compares strings only on a likely match. At
 * the default of 4096 entries a scan costs microseconds, far below the
 * password hash that every VERIFY computes anyway. Policy: auth_penalty.h.
 */
#include "auth_penalty.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/str.h"

/* Counting stops here: the delay has long reached its maximum. */
#define AUTH_PENALTY_COUNT_MAX 1000u

static void penalty_table_init(struct auth_penalty_table *t, size_t max)
{
	t->v = xcalloc(max, sizeof(*t->v));
	t->n = 0;
	t->max = max;
}

void auth_penalty_init(struct auth_penalty *p, size_t max_entries,
		       int64_t delay_ms, int64_t delay_max_ms,
		       int64_t window_ms)
{
	if (max_entries == 0)
		max_entries = 1;
	penalty_table_init(&p->client, max_entries);
	penalty_table_init(&p->user, max_entries);
	p->delay_ms = delay_ms;
	p->delay_max_ms = delay_max_ms;
	p->window_ms = window_ms;
}

void auth_penalty_free(struct auth_penalty *p)
{
	free(p->client.v);
	free(p->user.v);
	p->client.v = p->user.v = NULL;
	p->client.n = p->user.n = 0;
}

/* FNV-1a, 64 bit */
static uint64_t penalty_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static int penalty_live(const struct auth_penalty *p,
			const struct auth_penalty_entry *e, int64_t now_ms)
{
	return e->count > 0 && now_ms - e->last_ms < p->window_ms;
}

static struct auth_penalty_entry *
penalty_find(struct auth_penalty_table *t, const char *key, uint64_t h)
{
	for (size_t i = 0; i < t->n; i++) {
		struct auth_penalty_entry *e = &t->v[i];

		if (e->count > 0 && e->hash == h && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/* Keys longer than the table allows are cut (the same way every time). */
static void penalty_key(char *buf, const char *key)
{
	size_t n = strnlen(key, AUTH_PENALTY_KEY_MAX);

	memcpy(buf, key, n);
	buf[n] = '\0';
}

static unsigned penalty_count(struct auth_penalty *p,
			      struct auth_penalty_table *t, const char *key,
			      int64_t now_ms)
{
	char k[AUTH_PENALTY_KEY_MAX + 1];
	struct auth_penalty_entry *e;

	penalty_key(k, key);
	e = penalty_find(t, k, penalty_hash(k));
	return e != NULL && penalty_live(p, e, now_ms) ? e->count : 0;
}

/* A slot for a new key: a fresh one, an expired one, or the entry with
 * the fewest failures (the oldest among equals). */
static struct auth_penalty_entry *
penalty_slot(struct auth_penalty *p, struct auth_penalty_table *t,
	     int64_t now_ms)
{
	struct auth_penalty_entry *victim = NULL;

	if (t->n < t->max)
		return &t->v[t->n++];
	for (size_t i = 0; i < t->n; i++) {
		struct auth_penalty_entry *e = &t->v[i];

		if (!penalty_live(p, e, now_ms))
			return e;
		if (victim == NULL || e->count < victim->count ||
		    (e->count == victim->count && e->last_ms < victim->last_ms))
			victim = e;
	}
	return victim;
}

static unsigned penalty_add(struct auth_penalty *p,
			    struct auth_penalty_table *t, const char *key,
			    int64_t now_ms)
{
	char k[AUTH_PENALTY_KEY_MAX + 1];
	uint64_t h;
	struct auth_penalty_entry *e;

	penalty_key(k, key);
	h = penalty_hash(k);
	e = penalty_find(t, k, h);
	if (e == NULL) {
		e = penalty_slot(p, t, now_ms);
		memcpy(e->key, k, sizeof(k));
		e->hash = h;
		e->count = 0;
	} else if (!penalty_live(p, e, now_ms)) {
		e->count = 0;
	}
	if (e->count < AUTH_PENALTY_COUNT_MAX)
		e->count++;
	e->last_ms = now_ms;
	return e->count;
}

unsigned auth_penalty_client_count(struct auth_penalty *p,
				   const char *client_ip, int64_t now_ms)
{
	char k[AUTH_PENALTY_KEY_MAX + 1];

	auth_penalty_client_key(client_ip, k, sizeof(k));
	return penalty_count(p, &p->client, k, now_ms);
}

unsigned auth_penalty_user_count(struct auth_penalty *p, const char *user,
				 int64_t now_ms)
{
	return penalty_count(p, &p->user, user, now_ms);
}

int64_t auth_penalty_delay_for(const struct auth_penalty *p, unsigned n)
{
	int64_t d = p->delay_ms;

	if (n == 0 || d <= 0)
		return 0;
	for (unsigned i = 1; i < n && d < p->delay_max_ms; i++)
		d *= 2;
	return d > p->delay_max_ms ? p->delay_max_ms : d;
}

static unsigned penalty_max(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

int64_t auth_penalty_delay(struct auth_penalty *p, const char *client_ip,
			   const char *user, int64_t now_ms)
{
	unsigned n = penalty_max(auth_penalty_client_count(p, client_ip, now_ms),
				 auth_penalty_user_count(p, user, now_ms));

	return n == 0 ? 0 : auth_penalty_delay_for(p, n + 1);
}

int64_t auth_penalty_fail(struct auth_penalty *p, const char *client_ip,
			  const char *user, int64_t now_ms)
{
	char k[AUTH_PENALTY_KEY_MAX + 1];
	unsigned nc, nu;

	auth_penalty_client_key(client_ip, k, sizeof(k));
	nc = penalty_add(p, &p->client, k, now_ms);
	nu = penalty_add(p, &p->user, user, now_ms);
	return auth_penalty_delay_for(p, penalty_max(nc, nu));
}

/* IPv6: the /64 prefix; IPv4-mapped: the IPv4 address. 0 if not IPv6. */
static int penalty_v6_key(const char *ip, char *buf, size_t size)
{
	struct in6_addr a;
	char text[INET6_ADDRSTRLEN];
	size_t n;

	if (inet_pton(AF_INET6, ip, &a) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&a)) {
		if (inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text)) == NULL)
			return 0;
		return cstr_copy(buf, size, text) == 0;
	}
	memset(&a.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a, text, sizeof(text)) == NULL)
		return 0;
	n = strlen(text);
	if (n + sizeof("/64") > size)
		return 0;
	memcpy(buf, text, n);
	memcpy(buf + n, "/64", sizeof("/64"));
	return 1;
}

void auth_penalty_client_key(const char *client_ip, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return;
	if (penalty_v6_key(client_ip, buf, size))
		return;
	n = strnlen(client_ip, size - 1);
	memcpy(buf, client_ip, n);
	buf[n] = '\0';
}
