/*
 * login_server - postern-pop3-login's accept loop
 *
 * The fork-per-connection acceptor is common/daemon/session_server.c; each
 * connection lives in its own process (login_session.c), which after a
 * login either exits (plaintext: the socket itself went to postern-pop3)
 * or stays as the TLS proxy. The parent counts those processes against
 * pop3_process_limit; a client over the limit gets "-ERR [SYS/TEMP] Too
 * busy" (nothing on pop3s, where it would not be TLS) and is closed.
 * Signals: see session_server.h.
 */
#include "login.h"

#include "daemon/session_server.h"

_Static_assert(POP3_IP_MAX >= SESSION_IP_MAX,
	       "a session's client address fits the login's buffers");

#define LOGIN_BUSY "-ERR [SYS/TEMP] Too busy, try again later.\r\n"

static void server_session(void *arg, int fd, const char *ip)
{
	login_session_run(arg, fd, ip);
}

void login_server_run(struct login *lg)
{
	const struct session_clients cl = {
		.total_max = lg->process_limit,
		.silent = lg->implicit_tls,
		.busy_reply = LOGIN_BUSY,
		.busy_why = "pop3_process_limit reached",
		.fork_reply = LOGIN_BUSY,
		.session = server_session,
		.arg = lg,
		.session_sandbox = lg->session_sandbox,
	};

	session_server_run_clients(lg->sc, &cl);
}
