/*
 * login_handover - the message a login process sends to the mailbox side
 *                  after a login (the pre-auth layer, login/login.h)
 *
 * After postern-auth(8) has answered a LOGIN with a token, the login
 * process (postern-pop3-login, later imap-login) connects to the unix
 * socket queue_dir/private/PROTOCOL and sends, in one sendmsg(2) carrying
 * the client's descriptor (SCM_RIGHTS):
 *
 *   HANDOVER <TAB> token <TAB> client-ip <TAB> tls [<TAB> param] <LF>
 *   [pending input]
 *
 * token is the login token (AUTH_TOKEN_LEN lower-case hex digits), the
 * only proof of who logged in: the mailbox side redeems it with
 * postern-auth over queue_dir/private/auth-redeem and takes the user's
 * address from that answer, never from the login process. client-ip is
 * the client's address as text (the token is bound to it), tls "1" when
 * the login process keeps the TLS session and the descriptor is one end
 * of a socketpair it relays, "0" when the descriptor is the client's own
 * socket (whose peer address the mailbox side then checks against
 * client-ip). param is protocol data the session needs (IMAP: the tag of
 * the LOGIN or AUTHENTICATE command, to answer it), at most
 * LOGIN_HANDOVER_PARAM_MAX printable ASCII bytes without spaces. Whatever
 * follows the LF, up to the end of the connection (the login process then
 * closes it), is client input that arrived pipelined after the login
 * command: the session reads it before anything from the descriptor. The
 * line is at most LOGIN_HANDOVER_LINE_MAX bytes with its LF; the pending
 * input at most LOGIN_HANDOVER_PENDING_MAX.
 *
 * The token is a secret until redeemed: it is never logged whole
 * (login_handover_token_id() gives the loggable part).
 */
#ifndef POSTERN_LOGIN_HANDOVER_H
#define POSTERN_LOGIN_HANDOVER_H

#include <stddef.h>

#include "proto/auth_client.h"
#include "util/str.h"

#define LOGIN_HANDOVER_LINE_MAX 512
#define LOGIN_HANDOVER_PENDING_MAX 16384
#define LOGIN_HANDOVER_IP_MAX 64	/* = the auth protocol's client field */
#define LOGIN_HANDOVER_PARAM_MAX 128
#define LOGIN_TOKEN_ID_LEN 8		/* hex digits of a token that are logged */

struct login_handover {
	char token[AUTH_TOKEN_LEN + 1];
	char ip[LOGIN_HANDOVER_IP_MAX + 1];
	int tls;
	char param[LOGIN_HANDOVER_PARAM_MAX + 1];	/* "" if none */
};

/* Set out to the line (with its LF); param may be NULL or "". 0, or -1
 * if a field is not valid (nothing is left in out then). */
int login_handover_format(struct str *out, const char *token, const char *ip,
			  int tls, const char *param);
/* Parse the line at the start of p[0..n): 0 with *used_r = its length
 * including the LF, or -1 with *error_r (malformed, or no LF within the
 * limit). */
int login_handover_parse(const char *p, size_t n, struct login_handover *h,
			 size_t *used_r, const char **error_r);
/* Wipe h (it holds a token). */
void login_handover_clear(struct login_handover *h);
/* The first LOGIN_TOKEN_ID_LEN characters of token (or of what was sent
 * as one, made printable), for logs: buf of LOGIN_TOKEN_ID_LEN + 1. */
const char *login_handover_token_id(const char *token, char *buf);

#endif
