/*
 * fuzz_authproto - libFuzzer target for the auth protocol parsers
 * (common/proto/authproto.h)
 *
 * The input is parsed as a request and as a reply. A request that parses
 * (LOOKUP, VERIFY, LOGIN, REDEEM) must survive a round trip: formatted
 * again and parsed again it gives the same fields; a reply (an OK with a
 * login token too) is formatted back and must parse to the same status,
 * argument and token. Any difference aborts.
 *
 *   make fuzz && build/fuzz/fuzz_authproto -max_total_time=30
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/authproto.h"
#include "util/str.h"

static void fuzz_request_roundtrip(const struct authproto_request *req)
{
	struct authproto_request again;
	struct str line = STR_INIT(0);
	const char *error;
	int r;

	switch (req->cmd) {
	case AUTHPROTO_LOOKUP:
		r = authproto_lookup_format(&line, req->address, &error);
		break;
	case AUTHPROTO_VERIFY:
		r = authproto_verify_format(&line, req->service, req->client_ip,
					    req->address, req->password,
					    &error);
		break;
	case AUTHPROTO_LOGIN:
		r = authproto_login_format(&line, req->service, req->client_ip,
					   req->address, req->password, &error);
		break;
	case AUTHPROTO_REDEEM:
		r = authproto_redeem_format(&line, req->service,
					    req->client_ip, req->token, &error);
		break;
	default:
		abort();
	}
	if (r < 0 || line.len == 0 || line.s[line.len - 1] != '\n')
		abort();
	if (authproto_request_parse(&again, line.s, line.len - 1, &error) < 0)
		abort();
	if (memcmp(&again, req, sizeof(again)) != 0)
		abort();
	authproto_request_clear(&again);
	str_free(&line);
}

static void fuzz_reply_roundtrip(const struct authproto_reply *rep)
{
	struct authproto_reply again;
	struct str arg = STR_INIT(0), tok = STR_INIT(0), line = STR_INIT(0);
	int r;

	if (str_set(&arg, rep->arg, rep->arg_len) < 0 ||
	    str_set(&tok, rep->token, rep->token_len) < 0)
		abort();
	if (rep->token_len > 0)
		r = authproto_reply_format_login(&line, str_c(&arg),
						 str_c(&tok));
	else
		r = authproto_reply_format(&line, rep->status, str_c(&arg));
	if (r < 0)
		abort();
	if (authproto_reply_parse(&again, line.s, line.len - 1) < 0 ||
	    again.status != rep->status || again.arg_len != rep->arg_len ||
	    memcmp(again.arg, rep->arg, rep->arg_len) != 0 ||
	    again.token_len != rep->token_len ||
	    memcmp(again.token, rep->token, rep->token_len) != 0)
		abort();
	str_free(&arg);
	str_free(&tok);
	str_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authproto_request req;
	struct authproto_reply rep;
	const char *error;

	if (authproto_request_parse(&req, (const char *)data, size,
				    &error) == 0)
		fuzz_request_roundtrip(&req);
	else if (error == NULL || *error == '\0')
		abort();
	authproto_request_clear(&req);
	if (authproto_reply_parse(&rep, (const char *)data, size) == 0)
		fuzz_reply_roundtrip(&rep);
	return 0;
}
