/*
 * auth_penalty - recent failed logins per client address and per user,
 * and the delay they earn (postern-auth(8), "DELAYS")
 *
 * Two bounded tables count failures: one keyed by client address (an IPv6
 * address counts for its whole /64, which one attacker usually holds), one
 * by user. A failure counts for `window` after the latest failure of the
 * same key; then the entry is forgotten. When a table is full, a new key
 * takes the place of an expired entry, else of the entry with the fewest
 * failures (the oldest among those), so a flood of fresh names cannot
 * wipe out the count of a user under sustained attack.
 *
 * The delay for n failures is 0 for n = 0, else
 *     min(delay * 2^(n-1), delay_max).
 * A failed attempt first counts, then waits for delay(max(n_client,
 * n_user)). Any other answer to a client or user with recent failures
 * waits as long as a failure would (delay(n + 1)), so that the time of an
 * answer does not tell success from failure. Success resets nothing.
 *
 * Times are milliseconds from a caller-supplied clock, so tests can move
 * time by hand.
 */
#ifndef POSTERN_AUTH_PENALTY_H
#define POSTERN_AUTH_PENALTY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/authproto.h"

#define AUTH_PENALTY_KEY_MAX AUTHPROTO_ADDRESS_MAX

struct auth_penalty_entry {
	uint64_t hash;
	int64_t last_ms;	/* time of the latest failure */
	unsigned count;		/* 0: slot unused */
	char key[AUTH_PENALTY_KEY_MAX + 1];
};

struct auth_penalty_table {
	struct auth_penalty_entry *v;
	size_t n, max;
};

struct auth_penalty {
	struct auth_penalty_table client, user;
	int64_t delay_ms, delay_max_ms, window_ms;
};

void auth_penalty_init(struct auth_penalty *p, size_t max_entries,
		       int64_t delay_ms, int64_t delay_max_ms,
		       int64_t window_ms);
void auth_penalty_free(struct auth_penalty *p);

/* Recent failures counted for a client address or a user. */
unsigned auth_penalty_client_count(struct auth_penalty *p,
				   const char *client_ip, int64_t now_ms);
unsigned auth_penalty_user_count(struct auth_penalty *p, const char *user,
				 int64_t now_ms);

/* min(delay * 2^(n-1), delay_max), 0 for n = 0. */
int64_t auth_penalty_delay_for(const struct auth_penalty *p, unsigned n);
/* The delay for an answer that is not a failure. */
int64_t auth_penalty_delay(struct auth_penalty *p, const char *client_ip,
			   const char *user, int64_t now_ms);
/* Count one failure for both; returns the delay for its answer. */
int64_t auth_penalty_fail(struct auth_penalty *p, const char *client_ip,
			  const char *user, int64_t now_ms);

/* The table key of a client address: itself, or "PREFIX::/64" for IPv6
 * (an IPv4-mapped IPv6 address is keyed as its IPv4 address). size must
 * be at least AUTH_PENALTY_KEY_MAX + 1. */
void auth_penalty_client_key(const char *client_ip, char *buf, size_t size);

#endif
