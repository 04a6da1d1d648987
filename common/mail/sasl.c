/*
 * sasl - SASL PLAIN and LOGIN, the server side; the rules are in sasl.h
 *
 * An answer is checked in this order: cancel ("*"), length (an answer
 * that cannot decode to SASL_MESSAGE_MAX bytes is refused before it is
 * decoded), base64, then the mechanism's own grammar. Decoding goes into
 * a buffer reserved once at its final size and wiped afterwards.
 */
#include "mail/sasl.h"

#include <string.h>

#include "util/base64.h"
#include "util/str.h"

/* base64 length of SASL_MESSAGE_MAX bytes */
#define SASL_B64_MAX ((SASL_MESSAGE_MAX + 2) / 3 * 4)

static const char sasl_login_user[] = "VXNlcm5hbWU6";	/* "Username:" */
static const char sasl_login_pass[] = "UGFzc3dvcmQ6";	/* "Password:" */

const char *sasl_mechanisms(void)
{
	return "PLAIN LOGIN";
}

static int sasl_mech_of(const char *name)
{
	if (cstr_case_eq(name, "PLAIN"))
		return SASL_PLAIN;
	if (cstr_case_eq(name, "LOGIN"))
		return SASL_LOGIN;
	return 0;
}

int sasl_mech_known(const char *name)
{
	return sasl_mech_of(name) != 0;
}

/* Decode s[0..n) into dec (reserved, capped). 0 or a failure result. */
static int sasl_decode(struct str *dec, const char *s, size_t n)
{
	if (n > SASL_B64_MAX)
		return SASL_MALFORMED;
	if (str_reserve(dec, SASL_MESSAGE_MAX + 3) < 0)
		return SASL_MALFORMED;
	if (base64_decode(dec, s, n) < 0)
		return SASL_BAD_BASE64;
	return dec->len > SASL_MESSAGE_MAX ? SASL_MALFORMED : 0;
}

static void sasl_wipe_str(struct str *dec)
{
	if (dec->s != NULL)
		explicit_bzero(dec->s, dec->cap);
	str_free(dec);
}

/* Copy p[0..n) into dst[max + 1]: not empty, no NUL, at most max. */
static int sasl_field(char *dst, size_t max, size_t *len_r, const char *p,
		      size_t n)
{
	if (n == 0 || n > max || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	*len_r = n;
	return 0;
}

static int sasl_same_id(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

/* authzid NUL authcid NUL password */
static int sasl_plain(struct sasl *s, const char *m, size_t n)
{
	const char *z1 = memchr(m, '\0', n), *z2, *authcid, *pw;
	size_t zlen, clen;

	if (z1 == NULL)
		return SASL_MALFORMED;
	authcid = z1 + 1;
	z2 = memchr(authcid, '\0', n - (size_t)(authcid - m));
	if (z2 == NULL)
		return SASL_MALFORMED;
	pw = z2 + 1;
	zlen = (size_t)(z1 - m);
	clen = (size_t)(z2 - authcid);
	if (zlen != 0 && !sasl_same_id(m, zlen, authcid, clen))
		return SASL_MALFORMED;
	if (sasl_field(s->user, SASL_USER_MAX, &s->user_len, authcid,
		       clen) < 0 ||
	    sasl_field(s->pass, SASL_PASSWORD_MAX, &s->pass_len, pw,
		       n - (size_t)(pw - m)) < 0)
		return SASL_MALFORMED;
	return SASL_DONE;
}

/* One decoded message for the mechanism at its step. */
static int sasl_take(struct sasl *s, const char *m, size_t n)
{
	if (s->mech == SASL_PLAIN)
		return sasl_plain(s, m, n);
	if (s->step == 0) {
		if (sasl_field(s->user, SASL_USER_MAX, &s->user_len, m, n) < 0)
			return SASL_MALFORMED;
		s->step = 1;
		s->challenge = sasl_login_pass;
		return SASL_CONTINUE;
	}
	if (sasl_field(s->pass, SASL_PASSWORD_MAX, &s->pass_len, m, n) < 0)
		return SASL_MALFORMED;
	return SASL_DONE;
}

/* Decode b64[0..n) and take it. */
static int sasl_answer(struct sasl *s, const char *b64, size_t n)
{
	struct str dec = STR_INIT(SASL_MESSAGE_MAX + 3);
	int r = sasl_decode(&dec, b64, n);

	if (r == 0)
		r = sasl_take(s, dec.s != NULL ? dec.s : "", dec.len);
	sasl_wipe_str(&dec);
	return r;
}

int sasl_start(struct sasl *s, const char *mech, const char *ir,
	       size_t ir_len)
{
	memset(s, 0, sizeof(*s));
	s->mech = (enum sasl_mech)sasl_mech_of(mech);
	if (s->mech == 0)
		return SASL_NO_MECH;
	s->challenge = s->mech == SASL_PLAIN ? "" : sasl_login_user;
	if (ir == NULL)
		return SASL_CONTINUE;
	if (ir_len == 1 && ir[0] == '=')
		ir_len = 0;
	return sasl_answer(s, ir, ir_len);
}

int sasl_step(struct sasl *s, const char *answer, size_t len)
{
	while (len > 0 && (answer[len - 1] == '\n' || answer[len - 1] == '\r'))
		len--;
	if (len == 1 && answer[0] == '*')
		return SASL_CANCELLED;
	return sasl_answer(s, answer, len);
}

void sasl_free(struct sasl *s)
{
	explicit_bzero(s, sizeof(*s));
}
