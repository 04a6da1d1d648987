/*
 * authproto - the auth service's line protocol: parse and format
 *
 * A line is split at TABs into at most AUTHPROTO_FIELDS_MAX fields; the
 * first is the verb, matched exactly (upper case). Every field is checked
 * against its class before anything else looks at it, so the server never
 * sees a control byte, an empty field or an over-long value. See
 * authproto.h for the rules and postern-auth(8) for the protocol.
 */
#include "proto/authproto.h"

#include <string.h>

#include "util/base64.h"
#include "util/str.h"

#define AUTHPROTO_FIELDS_MAX 6
#define AUTHPROTO_REASON_MAX 200

struct authproto_span {
	const char *p;
	size_t n;
};

static size_t authproto_field_max(enum authproto_field f)
{
	switch (f) {
	case AUTHPROTO_F_SERVICE:
		return AUTHPROTO_SERVICE_MAX;
	case AUTHPROTO_F_CLIENT:
		return AUTHPROTO_CLIENT_MAX;
	case AUTHPROTO_F_ADDRESS:
		return AUTHPROTO_ADDRESS_MAX;
	case AUTHPROTO_F_PASSWORD:
		return AUTHPROTO_PASSWORD_MAX;
	case AUTHPROTO_F_REASON:
		return AUTHPROTO_REASON_MAX;
	case AUTHPROTO_F_TOKEN:
		return AUTHPROTO_TOKEN_LEN;
	}
	return 0;
}

/* May byte c appear in a field of class f? */
static int authproto_byte_ok(enum authproto_field f, unsigned char c)
{
	switch (f) {
	case AUTHPROTO_F_SERVICE:
	case AUTHPROTO_F_CLIENT:
		return c > 0x20 && c < 0x7f;
	case AUTHPROTO_F_ADDRESS:
	case AUTHPROTO_F_REASON:
		return c >= 0x20 && c != 0x7f;
	case AUTHPROTO_F_PASSWORD:
		return c != '\0';
	case AUTHPROTO_F_TOKEN:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	}
	return 0;
}

int authproto_field_ok(enum authproto_field f, const char *s, size_t n)
{
	if (n == 0 || n > authproto_field_max(f))
		return 0;
	if (f == AUTHPROTO_F_TOKEN && n != AUTHPROTO_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!authproto_byte_ok(f, (unsigned char)s[i]))
			return 0;
	return 1;
}

/* Split at TABs; returns the number of fields, AUTHPROTO_FIELDS_MAX + 1
 * when there are more. */
static size_t authproto_split(const char *line, size_t len,
			      struct authproto_span *v)
{
	size_t nf = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (nf == AUTHPROTO_FIELDS_MAX)
			return AUTHPROTO_FIELDS_MAX + 1;
		v[nf].p = line + start;
		v[nf].n = i - start;
		nf++;
		start = i + 1;
	}
	return nf;
}

static int authproto_span_is(const struct authproto_span *sp, const char *s)
{
	size_t n = strlen(s);

	return sp->n == n && memcmp(sp->p, s, n) == 0;
}

/* Any byte below 0x20 other than TAB, or DEL, anywhere in the line? */
static int authproto_has_control(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

static void authproto_copy(char *dst, const struct authproto_span *sp)
{
	memcpy(dst, sp->p, sp->n);
	dst[sp->n] = '\0';
}

static void authproto_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int authproto_address(struct authproto_request *req,
			     const struct authproto_span *sp,
			     const char **error_r)
{
	if (!authproto_field_ok(AUTHPROTO_F_ADDRESS, sp->p, sp->n)) {
		*error_r = "invalid address";
		return -1;
	}
	authproto_copy(req->address, sp);
	authproto_lower(req->address);
	return 0;
}

static int authproto_password(struct authproto_request *req,
			      const struct authproto_span *sp,
			      const char **error_r)
{
	/* 4 base64 characters per 3 bytes, padded */
	const size_t b64max = (AUTHPROTO_PASSWORD_MAX + 2) / 3 * 4;
	struct str dec = STR_INIT(AUTHPROTO_PASSWORD_MAX + 2);
	int ret = -1;

	if (sp->n == 0 || sp->n > b64max)
		*error_r = "invalid password encoding";
	else if (base64_decode(&dec, sp->p, sp->n) < 0)
		*error_r = "invalid password encoding";
	else if (!authproto_field_ok(AUTHPROTO_F_PASSWORD, dec.s, dec.len))
		*error_r = "invalid password";
	else {
		memcpy(req->password, dec.s, dec.len);
		req->password[dec.len] = '\0';
		req->password_len = dec.len;
		ret = 0;
	}
	if (dec.s != NULL)
		explicit_bzero(dec.s, dec.cap);
	str_free(&dec);
	return ret;
}

/* service and client address, fields 1 and 2 of VERIFY, LOGIN, REDEEM */
static int authproto_service_client(struct authproto_request *req,
				    const struct authproto_span *v,
				    const char **error_r)
{
	if (!authproto_field_ok(AUTHPROTO_F_SERVICE, v[1].p, v[1].n)) {
		*error_r = "invalid service";
		return -1;
	}
	if (!authproto_field_ok(AUTHPROTO_F_CLIENT, v[2].p, v[2].n)) {
		*error_r = "invalid client address";
		return -1;
	}
	authproto_copy(req->service, &v[1]);
	authproto_copy(req->client_ip, &v[2]);
	return 0;
}

static int authproto_verify_fields(struct authproto_request *req,
				   const struct authproto_span *v,
				   const char **error_r)
{
	if (authproto_service_client(req, v, error_r) < 0 ||
	    authproto_address(req, &v[3], error_r) < 0)
		return -1;
	return authproto_password(req, &v[4], error_r);
}

static int authproto_redeem_fields(struct authproto_request *req,
				   const struct authproto_span *v,
				   const char **error_r)
{
	if (authproto_service_client(req, v, error_r) < 0)
		return -1;
	if (!authproto_field_ok(AUTHPROTO_F_TOKEN, v[3].p, v[3].n)) {
		*error_r = "invalid token";
		return -1;
	}
	authproto_copy(req->token, &v[3]);
	return 0;
}

/* Each verb and the number of fields its line has, verb included. */
static const struct {
	const char *verb;
	enum authproto_cmd cmd;
	size_t nf;
} authproto_verbs[] = {
	{ "LOOKUP", AUTHPROTO_LOOKUP, 2 },
	{ "VERIFY", AUTHPROTO_VERIFY, 5 },
	{ "LOGIN", AUTHPROTO_LOGIN, 5 },
	{ "REDEEM", AUTHPROTO_REDEEM, 4 },
};

int authproto_request_parse(struct authproto_request *req, const char *line,
			    size_t len, const char **error_r)
{
	struct authproto_span v[AUTHPROTO_FIELDS_MAX];
	size_t nf;

	memset(req, 0, sizeof(*req));
	if (len > AUTH_LINE_MAX) {
		*error_r = "line too long";
		return -1;
	}
	if (authproto_has_control(line, len)) {
		*error_r = "control character in request";
		return -1;
	}
	nf = authproto_split(line, len, v);
	for (size_t i = 0; i < sizeof(authproto_verbs) /
	     sizeof(authproto_verbs[0]); i++) {
		if (!authproto_span_is(&v[0], authproto_verbs[i].verb))
			continue;
		req->cmd = authproto_verbs[i].cmd;
		if (nf != authproto_verbs[i].nf) {
			*error_r = "wrong number of fields";
			return -1;
		}
		if (req->cmd == AUTHPROTO_LOOKUP)
			return authproto_address(req, &v[1], error_r);
		if (req->cmd == AUTHPROTO_REDEEM)
			return authproto_redeem_fields(req, v, error_r);
		return authproto_verify_fields(req, v, error_r);
	}
	*error_r = "unknown command";
	return -1;
}

void authproto_request_clear(struct authproto_request *req)
{
	explicit_bzero(req, sizeof(*req));
}

int authproto_lookup_format(struct str *out, const char *address,
			    const char **error_r)
{
	if (!authproto_field_ok(AUTHPROTO_F_ADDRESS, address,
				strlen(address))) {
		*error_r = "invalid address";
		return -1;
	}
	if (str_appendf(out, "LOOKUP\t%s\n", address) < 0) {
		*error_r = "request too long";
		return -1;
	}
	return 0;
}

static const char *authproto_verify_check(const char *service,
					  const char *client_ip,
					  const char *address,
					  const char *password)
{
	if (!authproto_field_ok(AUTHPROTO_F_SERVICE, service, strlen(service)))
		return "invalid service";
	if (!authproto_field_ok(AUTHPROTO_F_CLIENT, client_ip,
				strlen(client_ip)))
		return "invalid client address";
	if (!authproto_field_ok(AUTHPROTO_F_ADDRESS, address, strlen(address)))
		return "invalid address";
	if (!authproto_field_ok(AUTHPROTO_F_PASSWORD, password,
				strlen(password)))
		return "invalid password";
	return NULL;
}

static int authproto_password_format(struct str *out, const char *verb,
				    const char *service, const char *client_ip,
				    const char *address, const char *password,
				    const char **error_r)
{
	size_t start = out->len;

	*error_r = authproto_verify_check(service, client_ip, address,
					  password);
	if (*error_r != NULL)
		return -1;
	if (str_appendf(out, "%s\t%s\t%s\t%s\t", verb, service, client_ip,
			address) < 0 ||
	    base64_encode(out, password, strlen(password)) < 0 ||
	    str_appendc(out, '\n') < 0) {
		if (out->s != NULL)
			explicit_bzero(out->s + start, out->len - start);
		str_truncate(out, start);
		*error_r = "request too long";
		return -1;
	}
	return 0;
}

int authproto_verify_format(struct str *out, const char *service,
			    const char *client_ip, const char *address,
			    const char *password, const char **error_r)
{
	return authproto_password_format(out, "VERIFY", service, client_ip,
					 address, password, error_r);
}

int authproto_login_format(struct str *out, const char *service,
			   const char *client_ip, const char *address,
			   const char *password, const char **error_r)
{
	return authproto_password_format(out, "LOGIN", service, client_ip,
					 address, password, error_r);
}

int authproto_redeem_format(struct str *out, const char *service,
			    const char *client_ip, const char *token,
			    const char **error_r)
{
	if (!authproto_field_ok(AUTHPROTO_F_SERVICE, service, strlen(service)))
		*error_r = "invalid service";
	else if (!authproto_field_ok(AUTHPROTO_F_CLIENT, client_ip,
				     strlen(client_ip)))
		*error_r = "invalid client address";
	else if (!authproto_field_ok(AUTHPROTO_F_TOKEN, token, strlen(token)))
		*error_r = "invalid token";
	else if (str_appendf(out, "REDEEM\t%s\t%s\t%s\n", service,
			     client_ip, token) < 0)
		*error_r = "request too long";
	else
		return 0;
	return -1;
}

static int authproto_reply_status(const struct authproto_span *sp,
				  enum authproto_status *status_r)
{
	static const struct {
		const char *word;
		enum authproto_status status;
	} words[] = {
		{ "OK", AUTHPROTO_R_OK },
		{ "NOUSER", AUTHPROTO_R_NOUSER },
		{ "FAIL", AUTHPROTO_R_FAIL },
		{ "TEMPFAIL", AUTHPROTO_R_TEMPFAIL },
		{ "ERROR", AUTHPROTO_R_ERROR },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (authproto_span_is(sp, words[i].word)) {
			*status_r = words[i].status;
			return 0;
		}
	}
	return -1;
}

int authproto_reply_parse(struct authproto_reply *rep, const char *line,
			  size_t len)
{
	struct authproto_span v[AUTHPROTO_FIELDS_MAX];
	size_t nf;

	memset(rep, 0, sizeof(*rep));
	rep->arg = "";
	rep->token = "";
	if (len > AUTH_LINE_MAX || authproto_has_control(line, len))
		return -1;
	nf = authproto_split(line, len, v);
	if (authproto_reply_status(&v[0], &rep->status) < 0)
		return -1;
	switch (rep->status) {
	case AUTHPROTO_R_NOUSER:
	case AUTHPROTO_R_FAIL:
		return nf == 1 ? 0 : -1;
	case AUTHPROTO_R_OK:
		if ((nf != 2 && nf != 3) ||
		    !authproto_field_ok(AUTHPROTO_F_ADDRESS, v[1].p, v[1].n))
			return -1;
		if (nf == 3 &&
		    !authproto_field_ok(AUTHPROTO_F_TOKEN, v[2].p, v[2].n))
			return -1;
		if (nf == 3) {
			rep->token = v[2].p;
			rep->token_len = v[2].n;
		}
		break;
	case AUTHPROTO_R_TEMPFAIL:
	case AUTHPROTO_R_ERROR:
		if (nf != 2 ||
		    !authproto_field_ok(AUTHPROTO_F_REASON, v[1].p, v[1].n))
			return -1;
		break;
	}
	rep->arg = v[1].p;
	rep->arg_len = v[1].n;
	return 0;
}

static const char *authproto_status_word(enum authproto_status status)
{
	switch (status) {
	case AUTHPROTO_R_OK:
		return "OK";
	case AUTHPROTO_R_NOUSER:
		return "NOUSER";
	case AUTHPROTO_R_FAIL:
		return "FAIL";
	case AUTHPROTO_R_TEMPFAIL:
		return "TEMPFAIL";
	case AUTHPROTO_R_ERROR:
		break;
	}
	return "ERROR";
}

/* Append arg as a field of at most max bytes: bad bytes become '?'. */
static int authproto_arg_append(struct str *out, const char *arg, size_t max)
{
	size_t n = strlen(arg);

	if (n == 0)
		return str_appends(out, "unknown");
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)arg[i];

		if (str_appendc(out, c < 0x20 || c == 0x7f ? '?' : (char)c) < 0)
			return -1;
	}
	return 0;
}

int authproto_reply_format(struct str *out, enum authproto_status status,
			   const char *arg)
{
	size_t max = status == AUTHPROTO_R_OK ? AUTHPROTO_ADDRESS_MAX
					      : AUTHPROTO_REASON_MAX;

	if (str_appends(out, authproto_status_word(status)) < 0)
		return -1;
	if (status != AUTHPROTO_R_NOUSER && status != AUTHPROTO_R_FAIL) {
		if (str_appendc(out, '\t') < 0 ||
		    authproto_arg_append(out, arg, max) < 0)
			return -1;
	}
	return str_appendc(out, '\n');
}

int authproto_reply_format_login(struct str *out, const char *address,
				 const char *token)
{
	size_t start = out->len;

	if (!authproto_field_ok(AUTHPROTO_F_TOKEN, token, strlen(token)))
		return -1;
	if (str_appends(out, "OK\t") < 0 ||
	    authproto_arg_append(out, address, AUTHPROTO_ADDRESS_MAX) < 0 ||
	    str_appendf(out, "\t%s\n", token) < 0) {
		str_truncate(out, start);
		return -1;
	}
	return 0;
}
