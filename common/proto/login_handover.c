/*
 * login_handover - the hand-over line; the grammar is in login_handover.h
 *
 * Each field is checked by its class before it is copied: the token and
 * the client address by the auth protocol's own rules (proto/authproto.h),
 * so that what the mailbox side passes on to postern-auth is always a
 * valid REDEEM; tls is exactly "0" or "1"; param printable ASCII.
 */
#include "proto/login_handover.h"

#include <string.h>

#include "proto/authproto.h"

#define HANDOVER_FIELDS_MAX 5

static int param_ok(const char *p, size_t n)
{
	if (n == 0 || n > LOGIN_HANDOVER_PARAM_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

int login_handover_format(struct str *out, const char *token, const char *ip,
			  int tls, const char *param)
{
	int has_param = param != NULL && param[0] != '\0';

	str_clear(out);
	if (!authproto_field_ok(AUTHPROTO_F_TOKEN, token, strlen(token)) ||
	    !authproto_field_ok(AUTHPROTO_F_CLIENT, ip, strlen(ip)) ||
	    (has_param && !param_ok(param, strlen(param))))
		return -1;
	if (str_appendf(out, "HANDOVER\t%s\t%s\t%d%s%s\n", token, ip,
			tls ? 1 : 0, has_param ? "\t" : "",
			has_param ? param : "") < 0 ||
	    out->len > LOGIN_HANDOVER_LINE_MAX) {
		str_clear(out);
		return -1;
	}
	return 0;
}

/* Split line[0..len) at TABs into at most HANDOVER_FIELDS_MAX fields;
 * the count, or HANDOVER_FIELDS_MAX + 1 if there are more. */
static size_t handover_split(const char *line, size_t len, const char **f,
			     size_t *flen)
{
	size_t nf = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (nf == HANDOVER_FIELDS_MAX)
			return HANDOVER_FIELDS_MAX + 1;
		f[nf] = line + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	return nf;
}

static const char *handover_fields(struct login_handover *h, const char **f,
				   const size_t *flen, size_t nf)
{
	if (nf < 4 || nf > 5)
		return "wrong number of fields";
	if (flen[0] != 8 || memcmp(f[0], "HANDOVER", 8) != 0)
		return "not a HANDOVER line";
	if (!authproto_field_ok(AUTHPROTO_F_TOKEN, f[1], flen[1]))
		return "invalid token";
	if (!authproto_field_ok(AUTHPROTO_F_CLIENT, f[2], flen[2]))
		return "invalid client address";
	if (flen[3] != 1 || (f[3][0] != '0' && f[3][0] != '1'))
		return "invalid tls flag";
	if (nf == 5 && !param_ok(f[4], flen[4]))
		return "invalid parameter";
	memcpy(h->token, f[1], flen[1]);
	memcpy(h->ip, f[2], flen[2]);
	h->tls = f[3][0] == '1';
	if (nf == 5)
		memcpy(h->param, f[4], flen[4]);
	return NULL;
}

int login_handover_parse(const char *p, size_t n, struct login_handover *h,
			 size_t *used_r, const char **error_r)
{
	const char *f[HANDOVER_FIELDS_MAX + 1], *lf;
	size_t flen[HANDOVER_FIELDS_MAX + 1], nf;

	memset(h, 0, sizeof(*h));
	lf = memchr(p, '\n', n < LOGIN_HANDOVER_LINE_MAX ? n :
		    LOGIN_HANDOVER_LINE_MAX);
	if (lf == NULL) {
		*error_r = "no line end within the limit";
		return -1;
	}
	nf = handover_split(p, (size_t)(lf - p), f, flen);
	*error_r = handover_fields(h, f, flen, nf);
	if (*error_r != NULL) {
		login_handover_clear(h);
		return -1;
	}
	*used_r = (size_t)(lf - p) + 1;
	return 0;
}

void login_handover_clear(struct login_handover *h)
{
	explicit_bzero(h, sizeof(*h));
}

const char *login_handover_token_id(const char *token, char *buf)
{
	size_t i;

	for (i = 0; i < LOGIN_TOKEN_ID_LEN && token[i] != '\0'; i++)
		buf[i] = (unsigned char)token[i] > 0x20 &&
			 (unsigned char)token[i] < 0x7f ? token[i] : '?';
	buf[i] = '\0';
	return buf;
}
