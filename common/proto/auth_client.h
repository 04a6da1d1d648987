/*
 * auth_client - talk to the auth service (postern-auth(8))
 *
 * The protocol, on the unix socket queue_dir/private/auth: one request per
 * line, fields separated by TAB, no field containing TAB, CR, LF or NUL,
 * lines at most 1024 bytes, answers in order:
 *
 *   LOOKUP <TAB> address
 *       -> OK <TAB> address      the user exists (address canonical)
 *       -> NOUSER
 *   VERIFY <TAB> service <TAB> client-ip <TAB> address <TAB> base64(password)
 *       -> OK <TAB> address      the password is right
 *       -> FAIL                  wrong user or password (after a delay)
 *   LOGIN <TAB> service <TAB> client-ip <TAB> address <TAB> base64(password)
 *       -> OK <TAB> address <TAB> token
 *                                as VERIFY, and a single-use login token
 *                                for the hand-over to the mailbox side
 *                                (login/login.h), bound to the address,
 *                                the service and the client address
 *       -> FAIL
 *   REDEEM <TAB> service <TAB> client-ip <TAB> token
 *       -> OK <TAB> address      the token was issued for this service
 *                                and client address, is unused and has not
 *                                expired: it is used up now
 *       -> FAIL                  anything else (logged by postern-auth)
 *   any request
 *       -> TEMPFAIL <TAB> reason the service could not decide (retry later)
 *       -> ERROR <TAB> reason    malformed request; the connection closes
 *
 * LOOKUP, VERIFY and LOGIN are taken on queue_dir/private/auth (group
 * postern-authc: smtpd and the login processes); REDEEM only on
 * queue_dir/private/auth-redeem (group postern-mail: the processes after
 * login), from a peer running as that account. A request on the wrong
 * socket is answered ERROR and logged. A token is AUTH_TOKEN_LEN hex
 * digits (160 random bits), never logged whole.
 *
 * Addresses are compared in lower case. A failed VERIFY is answered only
 * after a delay that grows with the recent failures from the client
 * address and for the user; while those counts are high every answer to
 * them is delayed, so a brute-force attacker learns nothing sooner.
 */
#ifndef POSTERN_AUTH_CLIENT_H
#define POSTERN_AUTH_CLIENT_H

#include "util/io.h"

#define AUTH_LINE_MAX 1024
#define AUTH_TOKEN_LEN 40	/* hex digits: 160 bits */

enum auth_result {
	AUTH_OK = 1,
	AUTH_NO = 0,		/* NOUSER or FAIL */
	AUTH_TEMPFAIL = -1,	/* service unreachable or TEMPFAIL */
};

struct auth_client {
	char *socket_path;
	int fd;			/* -1 until connected */
	struct io io;
	int timeout_ms;		/* per read and write; a VERIFY may take up
				 * to auth_failure_delay_max: pass 30000 */
	struct str reason;	/* the last TEMPFAIL reason */
};

void auth_client_init(struct auth_client *ac, const char *socket_path,
		      int timeout_ms);
void auth_client_free(struct auth_client *ac);
/* The connection is made on first use and kept; if the service closed it,
 * the request is sent once more on a new connection. Invalid addresses or
 * passwords (empty, too long, holding TAB, CR, LF) are AUTH_NO without
 * asking. canonical_r (may be NULL) receives the canonical address on
 * AUTH_OK; reason_r (may be NULL) a short text on AUTH_TEMPFAIL, valid
 * until the next call. */
int auth_lookup(struct auth_client *ac, const char *address,
		struct str *canonical_r, const char **reason_r);
int auth_verify(struct auth_client *ac, const char *service,
		const char *client_ip, const char *address,
		const char *password, struct str *canonical_r,
		const char **reason_r);
/* LOGIN: auth_verify, and on AUTH_OK the token in token_r (a NUL-ended
 * AUTH_TOKEN_LEN hex digits). A secret: wipe it once handed over. */
int auth_login(struct auth_client *ac, const char *service,
	       const char *client_ip, const char *address,
	       const char *password, struct str *canonical_r,
	       char token_r[AUTH_TOKEN_LEN + 1], const char **reason_r);

#endif
