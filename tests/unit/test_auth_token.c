/*
 * test_auth_token - postern-auth's login tokens (auth/auth_token.h):
 * single use, bound to service and client address, expiry, a bounded
 * table, and every refusal with its reason
 */
#include "test.h"

#include <string.h>

#include "auth/auth_token.h"

static struct auth_tokens t;
static char addr[AUTHPROTO_ADDRESS_MAX + 1];

static enum auth_token_verdict redeem(const char *svc, const char *ip,
				      const char *tok, int64_t now)
{
	return auth_token_redeem(&t, svc, ip, tok, now, addr);
}

static void test_once(void)
{
	char tok[AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 16, 10000);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "192.0.2.1", "a@ex.test",
				     1000, tok) == 0);
	TEST_ASSERT(strlen(tok) == AUTH_TOKEN_LEN);
	TEST_ASSERT(strspn(tok, "0123456789abcdef") == AUTH_TOKEN_LEN);
	TEST_ASSERT(auth_tokens_outstanding(&t, 1000) == 1);
	TEST_ASSERT(redeem("pop3", "192.0.2.1", tok, 2000) == AUTH_TOKEN_OK);
	TEST_STREQ(addr, "a@ex.test");
	TEST_ASSERT(auth_tokens_outstanding(&t, 2000) == 0);
	/* a replay */
	TEST_ASSERT(redeem("pop3", "192.0.2.1", tok, 2001) == AUTH_TOKEN_USED);
	TEST_STREQ(addr, "");
	/* once it would have expired, it is simply unknown or expired */
	TEST_ASSERT(redeem("pop3", "192.0.2.1", tok, 11000) !=
		    AUTH_TOKEN_OK);
	auth_tokens_free(&t);
}

static void test_bindings(void)
{
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 16, 10000);
	TEST_ASSERT(auth_token_issue(&t, "imap", "192.0.2.1", "a@ex.test", 0,
				     tok) == 0);
	TEST_ASSERT(redeem("pop3", "192.0.2.1", tok, 1) == AUTH_TOKEN_SERVICE);
	TEST_STREQ(addr, "");
	/* shown where it did not belong: it is used up */
	TEST_ASSERT(redeem("imap", "192.0.2.1", tok, 2) == AUTH_TOKEN_USED);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "192.0.2.1", "a@ex.test", 0,
				     tok2) == 0);
	TEST_ASSERT(redeem("pop3", "192.0.2.2", tok2, 1) == AUTH_TOKEN_CLIENT);
	TEST_ASSERT(redeem("pop3", "192.0.2.1", tok2, 2) == AUTH_TOKEN_USED);
	auth_tokens_free(&t);
}

static void test_expiry(void)
{
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 16, 10000);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "a@b", 5000, tok) == 0);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "a@b", 5000,
				     tok2) == 0);
	TEST_ASSERT(redeem("pop3", "::1", tok, 15000) == AUTH_TOKEN_EXPIRED);
	TEST_ASSERT(redeem("pop3", "::1", tok2, 14999) == AUTH_TOKEN_OK);
	TEST_ASSERT(auth_tokens_outstanding(&t, 14999) == 0);
	auth_tokens_free(&t);
}

static void test_unknown(void)
{
	char tok[AUTH_TOKEN_LEN + 1], other[AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 16, 10000);
	/* an empty table, a token of zeros (free slots hold zeros) */
	memset(other, '0', AUTH_TOKEN_LEN);
	other[AUTH_TOKEN_LEN] = '\0';
	TEST_ASSERT(redeem("pop3", "::1", other, 0) == AUTH_TOKEN_UNKNOWN);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "a@b", 0, tok) == 0);
	TEST_ASSERT(redeem("pop3", "::1", other, 0) == AUTH_TOKEN_UNKNOWN);
	/* one digit off */
	memcpy(other, tok, sizeof(other));
	other[AUTH_TOKEN_LEN - 1] = other[AUTH_TOKEN_LEN - 1] == '0' ? '1' : '0';
	TEST_ASSERT(redeem("pop3", "::1", other, 0) == AUTH_TOKEN_UNKNOWN);
	/* not hex, too short, too long */
	TEST_ASSERT(redeem("pop3", "::1", "xyz", 0) == AUTH_TOKEN_UNKNOWN);
	other[0] = 'G';
	TEST_ASSERT(redeem("pop3", "::1", other, 0) == AUTH_TOKEN_UNKNOWN);
	/* the real one still works after all that */
	TEST_ASSERT(redeem("pop3", "::1", tok, 0) == AUTH_TOKEN_OK);
	auth_tokens_free(&t);
}

static void test_full_table(void)
{
	char tok[5][AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 4, 10000);
	for (int i = 0; i < 4; i++)
		TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "a@b", i,
					     tok[i]) == 0);
	TEST_ASSERT(auth_tokens_evicted(&t) == 0);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "c@d", 10, tok[4]) == 0);
	TEST_ASSERT(auth_tokens_evicted(&t) == 1);
	TEST_ASSERT(auth_tokens_evicted(&t) == 0);
	TEST_ASSERT(redeem("pop3", "::1", tok[0], 11) == AUTH_TOKEN_UNKNOWN);
	for (int i = 1; i < 4; i++)
		TEST_ASSERT(redeem("pop3", "::1", tok[i], 11) == AUTH_TOKEN_OK);
	TEST_ASSERT(redeem("pop3", "::1", tok[4], 11) == AUTH_TOKEN_OK);
	TEST_STREQ(addr, "c@d");
	/* expired slots are reused before anything is evicted */
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "e@f", 20000,
				     tok[0]) == 0);
	TEST_ASSERT(auth_tokens_evicted(&t) == 0);
	auth_tokens_free(&t);
}

/* A full table gives up a redeemed token's slot before an unredeemed
 * one: a login in the middle of its hand-over is not dropped for a slot
 * that only remembers a replay. */
static void test_full_table_takes_used_first(void)
{
	char tok[6][AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 4, 10000);
	for (int i = 0; i < 4; i++)
		TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "a@b", i,
					     tok[i]) == 0);
	TEST_ASSERT(redeem("pop3", "::1", tok[2], 5) == AUTH_TOKEN_OK);
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "c@d", 10, tok[4]) == 0);
	TEST_ASSERT(auth_tokens_evicted(&t) == 0);
	for (int i = 0; i < 2; i++)
		TEST_ASSERT(redeem("pop3", "::1", tok[i], 11) == AUTH_TOKEN_OK);
	TEST_ASSERT(redeem("pop3", "::1", tok[3], 11) == AUTH_TOKEN_OK);
	TEST_ASSERT(redeem("pop3", "::1", tok[4], 11) == AUTH_TOKEN_OK);
	/* now every slot is used: the oldest used one goes, none evicted */
	TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "e@f", 12, tok[5]) == 0);
	TEST_ASSERT(auth_tokens_evicted(&t) == 0);
	TEST_ASSERT(redeem("pop3", "::1", tok[5], 13) == AUTH_TOKEN_OK);
	auth_tokens_free(&t);
}

static void test_all_different(void)
{
	static char tok[200][AUTH_TOKEN_LEN + 1];

	auth_tokens_init(&t, 200, 10000);
	for (int i = 0; i < 200; i++)
		TEST_ASSERT(auth_token_issue(&t, "pop3", "::1", "a@b", 0,
					     tok[i]) == 0);
	for (int i = 0; i < 200; i++)
		for (int j = i + 1; j < 200; j++)
			TEST_ASSERT(strcmp(tok[i], tok[j]) != 0);
	TEST_ASSERT(auth_tokens_outstanding(&t, 0) == 200);
	auth_tokens_free(&t);
	TEST_ASSERT(t.secret == NULL && t.slot == NULL);
}

static void test_names(void)
{
	TEST_STREQ(auth_token_verdict_name(AUTH_TOKEN_OK), "ok");
	TEST_STREQ(auth_token_verdict_name(AUTH_TOKEN_USED), "used");
	TEST_STREQ(auth_token_verdict_name(AUTH_TOKEN_EXPIRED), "expired");
	TEST_STREQ(auth_token_verdict_name(AUTH_TOKEN_SERVICE), "service");
	TEST_STREQ(auth_token_verdict_name(AUTH_TOKEN_CLIENT), "client");
	TEST_STREQ(auth_token_verdict_name(AUTH_TOKEN_UNKNOWN), "unknown");
}

TEST_MAIN(test_once, test_bindings, test_expiry, test_unknown,
	  test_full_table, test_full_table_takes_used_first, test_all_different, test_names)
