/*
 * authproto - the auth service's line protocol: parse and format
 *
 * Shared by postern-auth(8) (parses requests, formats replies) and
 * auth_client (formats requests, parses replies), so both sides agree on
 * one grammar, tested once (tests/unit/test_authproto.c) and fuzzed
 * (tests/fuzz/fuzz_authproto.c). The grammar is in auth_client.h and
 * postern-auth(8). A line handed to these functions excludes its LF; it is
 * at most AUTH_LINE_MAX bytes.
 *
 * Field rules: never empty, never longer than the limits below; no byte
 * below 0x20 and no DEL anywhere (so no TAB, CR, LF or NUL). Service names
 * and client addresses are also free of spaces and 8-bit bytes; addresses
 * may hold spaces (quoted local parts) and UTF-8. A login token is
 * exactly AUTHPROTO_TOKEN_LEN lower-case hex digits.
 */
#ifndef POSTERN_AUTHPROTO_H
#define POSTERN_AUTHPROTO_H

#include <stddef.h>

#include "proto/auth_client.h"

#define AUTHPROTO_SERVICE_MAX 32
#define AUTHPROTO_CLIENT_MAX 64
#define AUTHPROTO_ADDRESS_MAX 320	/* 64 + "@" + 255 */
#define AUTHPROTO_PASSWORD_MAX 256	/* bytes, before base64 */
#define AUTHPROTO_TOKEN_LEN AUTH_TOKEN_LEN

enum authproto_cmd {
	AUTHPROTO_LOOKUP = 1,
	AUTHPROTO_VERIFY = 2,
	AUTHPROTO_LOGIN = 3,	/* VERIFY, and a token on success */
	AUTHPROTO_REDEEM = 4,	/* a token for its address */
};

struct authproto_request {
	enum authproto_cmd cmd;
	char service[AUTHPROTO_SERVICE_MAX + 1];	/* not LOOKUP */
	char client_ip[AUTHPROTO_CLIENT_MAX + 1];	/* not LOOKUP */
	char address[AUTHPROTO_ADDRESS_MAX + 1];	/* ASCII lower-cased;
							 * not REDEEM */
	char password[AUTHPROTO_PASSWORD_MAX + 1];	/* decoded, no NUL;
							 * VERIFY, LOGIN */
	size_t password_len;
	char token[AUTHPROTO_TOKEN_LEN + 1];		/* REDEEM */
};

enum authproto_status {
	AUTHPROTO_R_OK = 1,	/* argument: the canonical address */
	AUTHPROTO_R_NOUSER,
	AUTHPROTO_R_FAIL,
	AUTHPROTO_R_TEMPFAIL,	/* argument: a reason */
	AUTHPROTO_R_ERROR,	/* argument: a reason */
};

struct authproto_reply {
	enum authproto_status status;
	const char *arg;	/* points into the parsed line; "" if none */
	size_t arg_len;
	const char *token;	/* OK to LOGIN: the token; "" if none */
	size_t token_len;
};

/* Which field class a string belongs to. */
enum authproto_field {
	AUTHPROTO_F_SERVICE,
	AUTHPROTO_F_CLIENT,
	AUTHPROTO_F_ADDRESS,
	AUTHPROTO_F_PASSWORD,
	AUTHPROTO_F_REASON,
	AUTHPROTO_F_TOKEN,
};

/* 1 if s[0..n) is a valid field of that class, else 0. */
int authproto_field_ok(enum authproto_field f, const char *s, size_t n);

/* Parse one request line (without its LF). 0, or -1 with *error_r the
 * reason to send back as "ERROR <TAB> reason". */
int authproto_request_parse(struct authproto_request *req, const char *line,
			    size_t len, const char **error_r);
/* Wipe the request (it holds a password). */
void authproto_request_clear(struct authproto_request *req);

/* Append a request line with its LF to out. -1 with *error_r if a field is
 * invalid (nothing appended then). */
int authproto_lookup_format(struct str *out, const char *address,
			    const char **error_r);
int authproto_verify_format(struct str *out, const char *service,
			    const char *client_ip, const char *address,
			    const char *password, const char **error_r);
/* LOGIN: the fields of VERIFY. */
int authproto_login_format(struct str *out, const char *service,
			   const char *client_ip, const char *address,
			   const char *password, const char **error_r);
int authproto_redeem_format(struct str *out, const char *service,
			    const char *client_ip, const char *token,
			    const char **error_r);

/* Parse one reply line (without its LF); 0 or -1 if malformed. */
int authproto_reply_parse(struct authproto_reply *rep, const char *line,
			  size_t len);
/* Append a reply line with its LF to out; arg is ignored for NOUSER and
 * FAIL. Bytes of arg that are not allowed in a field become '?', an empty
 * arg becomes "unknown", a long one is cut. 0, or -1 if out is full. */
int authproto_reply_format(struct str *out, enum authproto_status status,
			   const char *arg);
/* Append "OK <TAB> address <TAB> token" (the answer to a LOGIN); address
 * as in authproto_reply_format, token a valid token. 0, or -1 if out is
 * full or the token is not valid. */
int authproto_reply_format_login(struct str *out, const char *address,
				 const char *token);

#endif
