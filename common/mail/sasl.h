/*
 * sasl - the server side of SASL PLAIN (RFC 4616) and LOGIN, once, for
 *        postern-smtpd and every login (POP3 now, IMAP and ManageSieve
 *        next)
 *
 * The protocol reads and writes lines; this module decodes them and says
 * what comes next. An exchange:
 *
 *   r = sasl_start(&s, mech, ir, ir_len);     ir NULL: none was sent
 *   while (r == SASL_CONTINUE) {
 *           send the challenge s.challenge (already base64): SMTP
 *           "334 <challenge>", POP3 and IMAP "+ <challenge>"
 *           r = sasl_step(&s, answer_line, answer_len);
 *   }
 *   SASL_DONE: s.user and s.pass hold the credentials (C strings)
 *   sasl_free(&s);                            wipes them
 *
 *   PLAIN  one message, base64(authzid NUL authcid NUL password), as the
 *          initial response or as the answer to an empty challenge
 *   LOGIN  the challenges "Username:" and "Password:" (base64), each
 *          answered with base64 of the value; an initial response is the
 *          user name (RFC 4954 clients send one)
 *
 * Rules, the same for every protocol (tests/unit/test_sasl.c):
 *   - base64 is strict (util/base64.h): padding required, no blanks; an
 *     answer may end in CRLF or LF, which is ignored.
 *   - An initial response "=" is an empty one (RFC 4954 section 4, RFC
 *     5034 section 4, RFC 9051 section 6.2.2); an empty initial response
 *     (no characters) is the same.
 *   - "*" as an answer cancels (SASL_CANCELLED); "*" as an initial
 *     response is not base64 (SASL_BAD_BASE64).
 *   - PLAIN: exactly two NULs; authcid and password not empty; authzid
 *     empty or the same as authcid, compared in ASCII lower case as
 *     postern-auth compares addresses (logging in as someone else is not
 *     offered): anything else is SASL_MALFORMED.
 *   - LOGIN: user and password not empty and without NUL.
 *   - A user over SASL_USER_MAX bytes, a password over SASL_PASSWORD_MAX,
 *     or an answer that would decode to more than SASL_MESSAGE_MAX is
 *     SASL_MALFORMED (no such credentials can exist).
 * A failed exchange is over: the protocol replies and starts afresh on the
 * next AUTH command. Every buffer that held a secret is wiped; none is
 * ever reallocated, so no copy is left behind.
 */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stddef.h>

#define SASL_USER_MAX 320	/* an address: 64 + "@" + 255 */
#define SASL_PASSWORD_MAX 256
#define SASL_MESSAGE_MAX (SASL_USER_MAX * 2 + SASL_PASSWORD_MAX + 2)
#define SASL_MECH_MAX 20

enum sasl_result {
	SASL_DONE = 0,		/* user and pass are set */
	SASL_CONTINUE = 1,	/* send challenge, then sasl_step() */
	SASL_CANCELLED = -1,	/* the client answered "*" */
	SASL_BAD_BASE64 = -2,	/* not base64 */
	SASL_MALFORMED = -3,	/* decoded, but not valid for the mechanism */
	SASL_NO_MECH = -4,	/* sasl_start: mechanism not offered */
};

enum sasl_mech {
	SASL_PLAIN = 1,
	SASL_LOGIN = 2,
};

struct sasl {
	enum sasl_mech mech;
	int step;			/* LOGIN: 0 user, 1 password */
	const char *challenge;		/* after SASL_CONTINUE: base64 text */
	char user[SASL_USER_MAX + 1];
	char pass[SASL_PASSWORD_MAX + 1];
	size_t user_len, pass_len;
};

/* The mechanisms offered, for CAPA, EHLO and CAPABILITY: "PLAIN LOGIN". */
const char *sasl_mechanisms(void);
/* 1 if name (ASCII, any case) is a mechanism offered, else 0. */
int sasl_mech_known(const char *name);

/* Begin an exchange with mechanism mech; ir is the initial response as
 * sent (NULL if none; "=" empty). Returns SASL_DONE, SASL_CONTINUE or a
 * failure. s needs no preparation; call sasl_free() in every case. */
int sasl_start(struct sasl *s, const char *mech, const char *ir,
	       size_t ir_len);
/* The client's answer to the challenge. Same results. */
int sasl_step(struct sasl *s, const char *answer, size_t len);
/* Wipe the credentials and every buffer. */
void sasl_free(struct sasl *s);

#endif
