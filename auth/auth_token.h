/*
 * auth_token - the login tokens of postern-auth: issued on a successful
 *              LOGIN, redeemed once by the mailbox side (postern-auth(8),
 *              "LOGIN TOKENS")
 *
 * A token is AUTH_TOKEN_BYTES from getrandom(2) (160 bits), written as
 * AUTH_TOKEN_LEN lower-case hex digits. It is bound to the user's address,
 * the service it was issued for ("pop3") and the client's address, and
 * lives `lifetime` (auth_token_lifetime, 10 s by default: a hand-over
 * takes milliseconds; the lifetime only has to cover a busy moment of
 * the mailbox side). A redemption succeeds once: the token must be known,
 * unused, unexpired, and presented for the same service and client
 * address; anything else is refused with the reason, for the log.
 * A token that was presented at all is used up, even when the service or
 * client address did not match (it has been seen where it should not
 * be). A used token is remembered until it would have expired, so that a
 * replay is told apart from a token never issued.
 *
 * The table is bounded (max tokens outstanding, AUTH_TOKENS_MAX in
 * postern-auth): when it is full, the oldest token (the nearest to its
 * end) makes room and the count of such evictions is reported. A
 * redemption compares the presented token with every slot in use in
 * constant time per slot and without stopping at a match, so the time
 * it takes says nothing about how much of a token was right. Secrets are
 * wiped when a slot is freed or reused, and at the end.
 *
 * Times are milliseconds from a caller-supplied clock (tests move time
 * by hand).
 */
#ifndef POSTERN_AUTH_TOKEN_H
#define POSTERN_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/authproto.h"

#define AUTH_TOKEN_BYTES (AUTH_TOKEN_LEN / 2)

enum auth_token_verdict {
	AUTH_TOKEN_OK = 0,
	AUTH_TOKEN_UNKNOWN,	/* never issued, or long gone */
	AUTH_TOKEN_USED,	/* redeemed (or presented) before: a replay */
	AUTH_TOKEN_EXPIRED,
	AUTH_TOKEN_SERVICE,	/* issued for another service */
	AUTH_TOKEN_CLIENT,	/* issued for another client address */
};

struct auth_token_slot {
	int64_t expires_ms;	/* 0: free */
	int used;
	char service[AUTHPROTO_SERVICE_MAX + 1];
	char client[AUTHPROTO_CLIENT_MAX + 1];
	char address[AUTHPROTO_ADDRESS_MAX + 1];
};

struct auth_tokens {
	uint8_t (*secret)[AUTH_TOKEN_BYTES];	/* dense: one scan line */
	struct auth_token_slot *slot;
	size_t max;
	size_t hw;		/* no slot has ever been used at or past hw */
	int64_t lifetime_ms;
	unsigned evicted;	/* since auth_tokens_evicted() was asked */
};

void auth_tokens_init(struct auth_tokens *t, size_t max, int64_t lifetime_ms);
void auth_tokens_free(struct auth_tokens *t);

/* A new token for (service, client, address), its text into
 * token_r[AUTH_TOKEN_LEN + 1]. 0, or -1 if no randomness could be had
 * (errno). */
int auth_token_issue(struct auth_tokens *t, const char *service,
		     const char *client, const char *address, int64_t now_ms,
		     char *token_r);
/* Redeem token (AUTH_TOKEN_LEN hex digits) for service and client:
 * AUTH_TOKEN_OK with the address in address_r[AUTHPROTO_ADDRESS_MAX + 1],
 * else why not. */
enum auth_token_verdict auth_token_redeem(struct auth_tokens *t,
					  const char *service,
					  const char *client,
					  const char *token, int64_t now_ms,
					  char *address_r);
/* "ok", "unknown", "used", "expired", "service", "client" */
const char *auth_token_verdict_name(enum auth_token_verdict v);
/* Tokens outstanding (issued, not used, not expired). */
size_t auth_tokens_outstanding(const struct auth_tokens *t, int64_t now_ms);
/* Evictions since the last call (and reset). */
unsigned auth_tokens_evicted(struct auth_tokens *t);

#endif
