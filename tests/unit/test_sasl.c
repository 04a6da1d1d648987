/*
 * test_sasl - SASL PLAIN and LOGIN (common/mail/sasl.h): a table of
 * exchanges, each a mechanism, an initial response (raw bytes, base64'd
 * here, or sent as given) and answers, with the result of every step and
 * the credentials at the end
 */
#include "test.h"

#include <string.h>

#include "mail/sasl.h"
#include "util/base64.h"
#include "util/str.h"

#define RAW(lit) lit, sizeof(lit) - 1	/* bytes, NULs included */

enum how { NONE, B64, ASIS };

struct step {
	enum how how;
	const char *p;
	size_t n;
	int want;
};

struct exchange {
	const char *name;
	const char *mech;
	struct step ir;		/* how == NONE: no initial response */
	struct step answers[3];	/* how == NONE ends */
	const char *user, *pass;	/* when the last result is SASL_DONE */
};

static const struct exchange table[] = {
	{ "plain ir", "PLAIN", { B64, RAW("\0alice@ex.test\0pw"), SASL_DONE },
	  { { NONE } }, "alice@ex.test", "pw" },
	{ "plain lower-case name", "plain", { B64, RAW("\0a\0b"), SASL_DONE },
	  { { NONE } }, "a", "b" },
	{ "plain authzid = authcid", "PLAIN",
	  { B64, RAW("alice@ex.test\0alice@ex.test\0pw"), SASL_DONE },
	  { { NONE } }, "alice@ex.test", "pw" },
	{ "plain authzid in other case", "PLAIN",
	  { B64, RAW("Alice@EX.test\0alice@ex.test\0pw"), SASL_DONE },
	  { { NONE } }, "alice@ex.test", "pw" },
	{ "plain authzid of someone else", "PLAIN",
	  { B64, RAW("bob@ex.test\0alice@ex.test\0pw"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain authzid a prefix", "PLAIN",
	  { B64, RAW("alice\0alice@ex.test\0pw"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain empty authcid", "PLAIN", { B64, RAW("\0\0pw"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain empty password", "PLAIN", { B64, RAW("\0a\0"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain authzid, empty authcid", "PLAIN",
	  { B64, RAW("alice\0\0pw"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain one NUL", "PLAIN", { B64, RAW("alice\0pw"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain no NUL", "PLAIN", { B64, RAW("alicepw"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain NUL in password", "PLAIN",
	  { B64, RAW("\0a\0p\0w"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain trailing NUL", "PLAIN", { B64, RAW("\0a\0pw\0"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain empty message", "PLAIN", { B64, RAW(""), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain '=' is empty", "PLAIN", { ASIS, RAW("="), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "plain '*' initial is not base64", "PLAIN",
	  { ASIS, RAW("*"), SASL_BAD_BASE64 },
	  { { NONE } }, NULL, NULL },
	{ "plain bad base64 length", "PLAIN", { ASIS, RAW("AGFAYg"), SASL_BAD_BASE64 },
	  { { NONE } }, NULL, NULL },
	{ "plain bad base64 blank", "PLAIN", { ASIS, RAW("AGFA YgA="), SASL_BAD_BASE64 },
	  { { NONE } }, NULL, NULL },
	{ "plain bad base64 byte", "PLAIN", { ASIS, RAW("AGF!YgBj"), SASL_BAD_BASE64 },
	  { { NONE } }, NULL, NULL },
	{ "plain challenge then answer", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { B64, RAW("\0u\0p"), SASL_DONE } }, "u", "p" },
	{ "plain answer with CRLF", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { ASIS, RAW("AHUAcA==\r\n"), SASL_DONE } }, "u", "p" },
	{ "plain answer with LF", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { ASIS, RAW("AHUAcA==\n"), SASL_DONE } }, "u", "p" },
	{ "plain cancel", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { ASIS, RAW("*"), SASL_CANCELLED } }, NULL, NULL },
	{ "plain cancel with CRLF", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { ASIS, RAW("*\r\n"), SASL_CANCELLED } }, NULL, NULL },
	{ "plain '**' is no cancel", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { ASIS, RAW("**"), SASL_BAD_BASE64 } }, NULL, NULL },
	{ "plain empty answer", "PLAIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { ASIS, RAW(""), SASL_MALFORMED } }, NULL, NULL },
	{ "login two steps", "LOGIN", { NONE, NULL, 0, SASL_CONTINUE },
	  { { B64, RAW("bob@ex.test"), SASL_CONTINUE },
	    { B64, RAW("secret word"), SASL_DONE } }, "bob@ex.test", "secret word" },
	{ "login initial response is the user", "LOGIN",
	  { B64, RAW("bob"), SASL_CONTINUE },
	  { { B64, RAW("pw"), SASL_DONE } }, "bob", "pw" },
	{ "login '=' is an empty user", "LOGIN", { ASIS, RAW("="), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "login NUL in user", "LOGIN", { B64, RAW("b\0b"), SASL_MALFORMED },
	  { { NONE } }, NULL, NULL },
	{ "login empty password", "LOGIN", { B64, RAW("bob"), SASL_CONTINUE },
	  { { ASIS, RAW(""), SASL_MALFORMED } }, NULL, NULL },
	{ "login cancel at password", "LOGIN", { B64, RAW("bob"), SASL_CONTINUE },
	  { { ASIS, RAW("*"), SASL_CANCELLED } }, NULL, NULL },
	{ "unknown mechanism", "CRAM-MD5", { ASIS, RAW(""), SASL_NO_MECH },
	  { { NONE } }, NULL, NULL },
};

static struct str enc;

/* The bytes to feed for st: base64 of st->p or st->p itself. */
static const char *feed(const struct step *st, size_t *n_r)
{
	if (st->how == ASIS) {
		*n_r = st->n;
		return st->p;
	}
	str_clear(&enc);
	if (base64_encode(&enc, st->p, st->n) < 0)
		return NULL;
	*n_r = enc.len;
	return str_c(&enc);
}

/* The result of the last step, or -99 when a step gave another result
 * than the table says (printed). */
static int run_exchange(const struct exchange *x, struct sasl *s)
{
	size_t n = 0;
	const char *p = x->ir.how == NONE ? NULL : feed(&x->ir, &n);
	int r = sasl_start(s, x->mech, p, n);

	if (r != x->ir.want) {
		printf("  %s: start gave %d, want %d\n", x->name, r, x->ir.want);
		return -99;
	}
	for (size_t i = 0; i < 3 && x->answers[i].how != NONE; i++) {
		p = feed(&x->answers[i], &n);
		r = sasl_step(s, p, n);
		if (r != x->answers[i].want) {
			printf("  %s: answer %zu gave %d, want %d\n", x->name,
			       i + 1, r, x->answers[i].want);
			return -99;
		}
	}
	return r;
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct exchange *x = &table[i];
		struct sasl s;
		int r = run_exchange(x, &s);

		TEST_ASSERT(r != -99);
		if (x->user != NULL) {
			TEST_ASSERT(r == SASL_DONE);
			TEST_STREQ(s.user, x->user);
			TEST_STREQ(s.pass, x->pass);
			TEST_ASSERT(s.user_len == strlen(x->user));
		} else {
			TEST_ASSERT(r != SASL_DONE);
		}
		sasl_free(&s);
		TEST_ASSERT(s.user[0] == '\0' && s.pass[0] == '\0');
	}
	str_free(&enc);
}

static void test_challenges(void)
{
	struct sasl s;

	TEST_ASSERT(sasl_start(&s, "LOGIN", NULL, 0) == SASL_CONTINUE);
	TEST_STREQ(s.challenge, "VXNlcm5hbWU6");
	TEST_ASSERT(sasl_step(&s, "Ym9i", 4) == SASL_CONTINUE);
	TEST_STREQ(s.challenge, "UGFzc3dvcmQ6");
	sasl_free(&s);
	TEST_ASSERT(sasl_start(&s, "PLAIN", NULL, 0) == SASL_CONTINUE);
	TEST_STREQ(s.challenge, "");
	sasl_free(&s);
	TEST_STREQ(sasl_mechanisms(), "PLAIN LOGIN");
	TEST_ASSERT(sasl_mech_known("login") && sasl_mech_known("PLAIN"));
	TEST_ASSERT(!sasl_mech_known("CRAM-MD5") && !sasl_mech_known(""));
}

/* Lengths at and past every limit. */
static void test_limits(void)
{
	char msg[2 * SASL_MESSAGE_MAX];
	struct str b = STR_INIT(0);
	struct sasl s;
	size_t n;

	/* user of SASL_USER_MAX bytes, password of SASL_PASSWORD_MAX */
	msg[0] = '\0';
	memset(msg + 1, 'u', SASL_USER_MAX);
	msg[1 + SASL_USER_MAX] = '\0';
	memset(msg + 2 + SASL_USER_MAX, 'p', SASL_PASSWORD_MAX);
	n = 2 + SASL_USER_MAX + SASL_PASSWORD_MAX;
	TEST_ASSERT(base64_encode(&b, msg, n) == 0);
	TEST_ASSERT(sasl_start(&s, "PLAIN", b.s, b.len) == SASL_DONE);
	TEST_ASSERT(s.user_len == SASL_USER_MAX &&
		    s.pass_len == SASL_PASSWORD_MAX);
	sasl_free(&s);
	/* one more byte of password */
	msg[n] = 'p';
	str_clear(&b);
	TEST_ASSERT(base64_encode(&b, msg, n + 1) == 0);
	TEST_ASSERT(sasl_start(&s, "PLAIN", b.s, b.len) == SASL_MALFORMED);
	sasl_free(&s);
	/* one more byte of user */
	msg[0] = '\0';
	memset(msg + 1, 'u', SASL_USER_MAX + 1);
	msg[2 + SASL_USER_MAX] = '\0';
	msg[3 + SASL_USER_MAX] = 'p';
	str_clear(&b);
	TEST_ASSERT(base64_encode(&b, msg, 4 + SASL_USER_MAX) == 0);
	TEST_ASSERT(sasl_start(&s, "PLAIN", b.s, b.len) == SASL_MALFORMED);
	sasl_free(&s);
	/* an answer longer than any message could be: refused undecoded,
	 * even when it is not base64 at all */
	memset(msg, 'A', sizeof(msg));
	TEST_ASSERT(sasl_start(&s, "LOGIN", NULL, 0) == SASL_CONTINUE);
	TEST_ASSERT(sasl_step(&s, msg, sizeof(msg)) == SASL_MALFORMED);
	sasl_free(&s);
	str_free(&b);
}

TEST_MAIN(test_table, test_challenges, test_limits)
