/*
 * login - postern-pop3-login's shared definitions
 */
#ifndef POSTERN_POP3_LOGIN_H
#define POSTERN_POP3_LOGIN_H

#include <signal.h>
#include <openssl/ssl.h>

#include "proto/auth_client.h"
#include "proto/pop3_handover.h"
#include "daemon/service_child.h"
#include "util/io.h"
#include "util/str.h"

#define LOGIN_AUTH_TIMEOUT_MS 30000
#define LOGIN_HANDOVER_TIMEOUT_MS 10000

struct login {
	struct service_child *sc;
	const struct conf *conf;
	SSL_CTX *tls;			/* NULL: no STLS (and no pop3s) */
	int implicit_tls;		/* pop3s */
	int timeout_ms;			/* pop3_login_timeout */
	unsigned bad_max;		/* pop3_max_bad_commands */
	unsigned process_limit;		/* pop3_process_limit */
	struct str auth_socket;		/* queue_dir/private/auth */
	struct str pop3_socket;		/* queue_dir/private/pop3 */
	struct sandbox_prepared *session_sandbox; /* entered by each session
						   * process; NULL: none */
};

struct login_session {
	struct login *lg;
	struct io io;
	int fd;
	char ip[POP3_IP_MAX];
	char id[32];
	int tls, loopback;
	unsigned bad;
	struct str user;		/* from USER */
	struct auth_client ac;
	int ac_init;
	int quit;
};

extern volatile sig_atomic_t login_stopping;

void login_server_run(struct login *lg);
_Noreturn void login_session_run(struct login *lg, int fd, const char *ip);
/* Give the logged-in client to postern-pop3 (pop3_handover.h); never
 * returns: the process exits, or becomes the session's TLS proxy. */
_Noreturn void login_handover(struct login_session *s, const char *address);

#endif
