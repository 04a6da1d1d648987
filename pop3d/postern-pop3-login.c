/*
 * postern-pop3-login - the POP3 server before login (RFC 1939, RFC 2449),
 *                      for the services pop3 (110) and pop3s (995)
 *
 * PRIVILEGE  postern-login; reads the TLS key as root before dropping;
 *            afterwards only the sockets queue_dir/private/auth and
 *            queue_dir/private/pop3; never a mailbox or a password hash.
 *            SANDBOX pop3-login (below, postern-pop3-login(8)): no file
 *            system at all; accepts, forks sessions; each session process
 *            then enters pop3-login-session: unix sockets only; no fork,
 *            no exec, no TCP socket of its own
 * INPUT      fd 4..: listening sockets handed over by the master; one
 *            forked process per client connection
 * OUTPUT     a logged-in client is handed to postern-pop3(8) over
 *            queue_dir/private/pop3 (the client socket itself, or for TLS
 *            one end of a socketpair this process relays); fd 3:
 *            "ready", "busy"; one log line per login, failure and end
 * POLICY     USER/PASS and AUTH PLAIN only under TLS (STLS or pop3s) or
 *            from a loopback client; passwords checked by postern-auth(8)
 *            with service "pop3", which delays failures
 * EXIT       0 after SIGHUP (sessions finished) or SIGTERM; 111 when it
 *            cannot start (the log says why)
 * LIMITS     pop3_login_timeout per command, pop3_max_bad_commands,
 *            pop3_process_limit; command lines 255 bytes with CRLF (AUTH
 *            responses 2048)
 * SEE ALSO   postern-pop3-login(8), postern-pop3(8), postern-auth(8),
 *            postern.conf(5)
 */
#include "login.h"

#include <string.h>

#include "mail/conf_limit.h"
#include "daemon/service_sandbox.h"
#include "daemon/service_tls.h"
#include "util/log.h"

/* SANDBOX (postern-pop3-login(8)): the parent's, entered by
 * service_child_ready() once the TLS pair is loaded; each session process
 * narrows it to the session's as soon as it is forked. A session process
 * inherits its parent's profile, so the parent's must allow what the
 * sessions do (UNIX). No path in either. */
static const struct service_profile login_profile = {
	"pop3-login",
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FORK | SANDBOX_SYS_UNIX,
	NULL, 0,
};
static const struct service_profile login_session_profile = {
	"pop3-login-session",
	/* UNIX: connections to postern-auth and postern-pop3, and for TLS
	 * the socket pair this process then relays */
	SANDBOX_SYS_UNIX,
	NULL, 0,
};

static void login_settings(struct login *lg, struct service_child *sc)
{
	const struct conf *c = &sc->conf;

	lg->sc = sc;
	lg->conf = c;
	lg->implicit_tls = (sc->def->flags & SERVICE_TLS_IMPLICIT) != 0;
	lg->timeout_ms = conf_limit_timeout_ms(c->pop3_login_timeout);
	lg->bad_max = conf_limit_count(c->pop3_max_bad_commands);
	lg->process_limit = conf_limit_count(c->pop3_process_limit);
	str_init(&lg->auth_socket, 0);
	str_init(&lg->pop3_socket, 0);
	if (conf_queue_path(c, "private/auth", &lg->auth_socket) < 0 ||
	    conf_queue_path(c, "private/pop3", &lg->pop3_socket) < 0)
		log_fatal("queue_dir %s: path too long", c->queue_dir);
}

int main(int argc, char **argv)
{
	static struct sandbox_prepared session_sandbox;
	struct service_child sc;
	struct login lg;

	memset(&lg, 0, sizeof(lg));
	service_child_init(&sc, argc, argv, "postern-pop3-login");
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	login_settings(&lg, &sc);
	lg.tls = service_tls_load(&sc, "STLS is not offered, and logins only "
				  "from loopback clients");
	service_child_drop(&sc);
	service_sandbox_prepare(&sc, &login_session_profile, &session_sandbox);
	lg.session_sandbox = &session_sandbox;
	sc.sessions = &session_sandbox;
	sc.profile = &login_profile;
	service_child_ready(&sc);
	login_server_run(&lg);
	if (lg.tls != NULL)
		SSL_CTX_free(lg.tls);
	str_free(&lg.auth_socket);
	str_free(&lg.pop3_socket);
	sandbox_prepared_free(&session_sandbox);
	conf_free(&sc.conf);
	return 0;
}
