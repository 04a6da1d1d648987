/*
 * fuzz_login_handover - libFuzzer target for the hand-over line
 * (common/proto/login_handover.h) and the token fields it carries to
 * postern-auth
 *
 * A line that parses must make a valid REDEEM (what the mailbox side
 * sends on), must format back to the same bytes (line and LF), and its
 * used length must lie within the input; a refused line must say why and
 * leave nothing in the parsed struct. Any difference aborts.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_login_handover -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/authproto.h"
#include "proto/login_handover.h"
#include "util/str.h"

static void fuzz_parsed(const char *p, size_t used,
			const struct login_handover *h)
{
	struct str line = STR_INIT(0), req = STR_INIT(0);
	struct authproto_request r;
	const char *error;

	if (login_handover_format(&line, h->token, h->ip, h->tls,
				  h->param) < 0 ||
	    line.len != used || memcmp(line.s, p, used) != 0)
		abort();
	if (authproto_redeem_format(&req, "pop3", h->ip, h->token,
				    &error) < 0 ||
	    authproto_request_parse(&r, req.s, req.len - 1, &error) < 0 ||
	    r.cmd != AUTHPROTO_REDEEM || strcmp(r.token, h->token) != 0 ||
	    strcmp(r.client_ip, h->ip) != 0)
		abort();
	authproto_request_clear(&r);
	str_free(&line);
	str_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct login_handover h;
	const char *error = NULL;
	size_t used = 0;
	char id[LOGIN_TOKEN_ID_LEN + 1];

	if (login_handover_parse(p, size, &h, &used, &error) == 0) {
		if (used == 0 || used > size || used > LOGIN_HANDOVER_LINE_MAX ||
		    p[used - 1] != '\n')
			abort();
		fuzz_parsed(p, used, &h);
		if (strlen(login_handover_token_id(h.token, id)) !=
		    LOGIN_TOKEN_ID_LEN)
			abort();
	} else {
		static const struct login_handover zero;

		if (error == NULL || memcmp(&h, &zero, sizeof(h)) != 0)
			abort();
	}
	login_handover_clear(&h);
	return 0;
}
