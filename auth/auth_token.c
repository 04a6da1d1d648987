/*
 * auth_token - login tokens: issue, redeem once; see auth_token.h
 *
 * The secrets sit in one dense array, apart from what they are bound to,
 * so that a redemption scans 20 bytes per slot. The comparison
 * accumulates the XOR of every byte and turns "all zero" into a 0/1 mask
 * without a branch; the index of the match is selected with that mask,
 * so no slot is treated differently whether it matches or not. Which
 * slots are in use, and how many, is not secret.
 */
#include "auth_token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/alloc.h"
#include "util/str.h"

void auth_tokens_init(struct auth_tokens *t, size_t max, int64_t lifetime_ms)
{
	if (max == 0)
		max = 1;
	t->secret = xcalloc(max, sizeof(*t->secret));
	t->slot = xcalloc(max, sizeof(*t->slot));
	t->max = max;
	t->hw = 0;
	t->lifetime_ms = lifetime_ms;
	t->evicted = 0;
}

static void token_free_slot(struct auth_tokens *t, size_t i)
{
	explicit_bzero(t->secret[i], AUTH_TOKEN_BYTES);
	explicit_bzero(&t->slot[i], sizeof(t->slot[i]));
}

void auth_tokens_free(struct auth_tokens *t)
{
	if (t->secret != NULL) {
		explicit_bzero(t->secret, t->max * sizeof(*t->secret));
		explicit_bzero(t->slot, t->max * sizeof(*t->slot));
	}
	free(t->secret);
	free(t->slot);
	t->secret = NULL;
	t->slot = NULL;
	t->max = t->hw = 0;
}

static int token_live(const struct auth_token_slot *s, int64_t now_ms)
{
	return s->expires_ms != 0 && now_ms < s->expires_ms;
}

/* A slot for a new token: a free or expired one; else the oldest used
 * one (it is kept only to name a replay, and refused either way); else
 * the oldest unredeemed one, a login in the middle of its hand-over,
 * which is counted as evicted. */
static size_t token_slot(struct auth_tokens *t, int64_t now_ms)
{
	size_t oldest = t->max, oldest_used = t->max;

	for (size_t i = 0; i < t->hw; i++) {
		const struct auth_token_slot *s = &t->slot[i];
		size_t *o = s->used ? &oldest_used : &oldest;

		if (!token_live(s, now_ms))
			return i;
		if (*o == t->max || s->expires_ms < t->slot[*o].expires_ms)
			*o = i;
	}
	if (t->hw < t->max)
		return t->hw++;
	if (oldest_used < t->max)
		return oldest_used;
	t->evicted++;
	return oldest;
}

static void token_hex(const uint8_t *b, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < AUTH_TOKEN_BYTES; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[AUTH_TOKEN_LEN] = '\0';
}

static int token_unhex(const char *s, uint8_t *b)
{
	for (size_t i = 0; i < AUTH_TOKEN_LEN; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			b[i / 2] = (uint8_t)(v << 4);
		else
			b[i / 2] |= (uint8_t)v;
	}
	return s[AUTH_TOKEN_LEN] == '\0' ? 0 : -1;
}

static int token_random(uint8_t *b)
{
	size_t got = 0;

	while (got < AUTH_TOKEN_BYTES) {
		ssize_t n = getrandom(b + got, AUTH_TOKEN_BYTES - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int auth_token_issue(struct auth_tokens *t, const char *service,
		     const char *client, const char *address, int64_t now_ms,
		     char *token_r)
{
	uint8_t b[AUTH_TOKEN_BYTES];
	size_t i;

	if (token_random(b) < 0)
		return -1;
	i = token_slot(t, now_ms);
	token_free_slot(t, i);
	memcpy(t->secret[i], b, sizeof(b));
	t->slot[i].expires_ms = now_ms + t->lifetime_ms;
	if (t->slot[i].expires_ms == 0)
		t->slot[i].expires_ms = 1;
	if (cstr_copy(t->slot[i].service, sizeof(t->slot[i].service),
		      service) < 0 ||
	    cstr_copy(t->slot[i].client, sizeof(t->slot[i].client),
		      client) < 0 ||
	    cstr_copy(t->slot[i].address, sizeof(t->slot[i].address),
		      address) < 0) {
		token_free_slot(t, i);
		explicit_bzero(b, sizeof(b));
		errno = ENAMETOOLONG;
		return -1;
	}
	token_hex(b, token_r);
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* 1 if a == b, 0 if not, in time independent of the bytes. */
static size_t token_equal_mask(const uint8_t *a, const uint8_t *b)
{
	unsigned diff = 0;

	for (size_t i = 0; i < AUTH_TOKEN_BYTES; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return (size_t)(((diff - 1u) >> 8) & 1u);
}

/* The slot holding b, or t->max. Every slot in use is compared. */
static size_t token_find(const struct auth_tokens *t, const uint8_t *b)
{
	size_t found = t->max;

	for (size_t i = 0; i < t->hw; i++) {
		size_t eq = token_equal_mask(t->secret[i], b) &
			    (size_t)(t->slot[i].expires_ms != 0);

		/* found = eq ? i : found, without a branch on eq */
		found = (found & (eq - 1)) | (i & (0 - eq));
	}
	return found;
}

enum auth_token_verdict auth_token_redeem(struct auth_tokens *t,
					  const char *service,
					  const char *client,
					  const char *token, int64_t now_ms,
					  char *address_r)
{
	uint8_t b[AUTH_TOKEN_BYTES];
	struct auth_token_slot *s;
	enum auth_token_verdict v = AUTH_TOKEN_OK;
	size_t i;

	address_r[0] = '\0';
	if (token_unhex(token, b) < 0)
		return AUTH_TOKEN_UNKNOWN;
	i = token_find(t, b);
	explicit_bzero(b, sizeof(b));
	if (i == t->max)
		return AUTH_TOKEN_UNKNOWN;
	s = &t->slot[i];
	if (!token_live(s, now_ms)) {
		token_free_slot(t, i);
		return AUTH_TOKEN_EXPIRED;
	}
	if (s->used)
		return AUTH_TOKEN_USED;
	if (strcmp(s->service, service) != 0)
		v = AUTH_TOKEN_SERVICE;
	else if (strcmp(s->client, client) != 0)
		v = AUTH_TOKEN_CLIENT;
	else
		memcpy(address_r, s->address, sizeof(s->address));
	s->used = 1;
	explicit_bzero(s->address, sizeof(s->address));
	return v;
}

const char *auth_token_verdict_name(enum auth_token_verdict v)
{
	switch (v) {
	case AUTH_TOKEN_OK:
		return "ok";
	case AUTH_TOKEN_UNKNOWN:
		return "unknown";
	case AUTH_TOKEN_USED:
		return "used";
	case AUTH_TOKEN_EXPIRED:
		return "expired";
	case AUTH_TOKEN_SERVICE:
		return "service";
	case AUTH_TOKEN_CLIENT:
		return "client";
	}
	return "unknown";
}

size_t auth_tokens_outstanding(const struct auth_tokens *t, int64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < t->hw; i++)
		n += token_live(&t->slot[i], now_ms) && !t->slot[i].used;
	return n;
}

unsigned auth_tokens_evicted(struct auth_tokens *t)
{
	unsigned n = t->evicted;

	t->evicted = 0;
	return n;
}
