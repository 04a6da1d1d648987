/*
 * postern-pop3-login - the POP3 server before login (RFC 1939, RFC 2449),
 *                      for the services pop3 (110) and pop3s (995)
 *
 * PRIVILEGE  postern-login; reads the TLS key as root before dropping;
 *            afterwards only the sockets queue_dir/private/auth and
 *            queue_dir/private/pop3; never a mailbox or a password hash,
 *            and no way to name a user to the mailbox side: only the
 *            login token postern-auth issues for a right password does.
 *            SANDBOX pop3-login (below, postern-pop3-login(8)): no file
 *            system at all; accepts, forks sessions; each session process
 *            then enters pop3-login-session: unix sockets only; no fork,
 *            no exec, no TCP socket of its own
 * INPUT      fd 4..: listening sockets handed over by the master; one
 *            forked process per client connection
 * OUTPUT     a logged-in client is handed to postern-pop3(8) over
 *            queue_dir/private/pop3 with its login token (the client
 *            socket itself, or for TLS one end of a socketpair this
 *            process relays); fd 3: "ready", "busy"; one log line per
 *            login, failure and end
 * POLICY     USER/PASS and AUTH PLAIN/LOGIN only under TLS (STLS or
 *            pop3s) or from a loopback client; passwords checked by
 *            postern-auth(8) with service "pop3", which delays failures
 * EXIT       0 after SIGHUP (sessions finished) or SIGTERM; 111 when it
 *            cannot start (the log says why)
 * LIMITS     pop3_login_timeout per command, pop3_max_bad_commands,
 *            pop3_process_limit, pop3_client_connection_limit per client
 *            address; command lines 255 bytes with CRLF (AUTH responses
 *            2048); the TLS proxy gives up on a side that takes nothing
 *            for pop3_timeout
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

int main(int argc, char **argv)
{
	static struct pop3_login p3;
	static struct sandbox_prepared session_sandbox;
	struct service_child sc;
	struct login_settings set;
	struct login lg;
	const struct conf *c;

	service_child_init(&sc, argc, argv, "postern-pop3-login");
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	c = &sc.conf;
	p3.bad_max = conf_limit_count(c->pop3_max_bad_commands);
	set = (struct login_settings){
		.timeout_ms = conf_limit_timeout_ms(c->pop3_login_timeout),
		.session_timeout_ms = conf_limit_timeout_ms(c->pop3_timeout),
		.process_limit = conf_limit_count(c->pop3_process_limit),
		.client_limit = c->pop3_client_connection_limit,
	};
	login_init(&lg, &sc, &pop3_login_protocol, &set, &p3);
	lg.tls = service_tls_load(&sc, "STLS is not offered, and logins only "
				  "from loopback clients");
	service_child_drop(&sc);
	service_sandbox_prepare(&sc, &login_session_profile, &session_sandbox);
	lg.session_sandbox = &session_sandbox;
	sc.sessions = &session_sandbox;
	sc.profile = &login_profile;
	service_child_ready(&sc);
	login_server_run(&lg);
	login_free(&lg);
	sandbox_prepared_free(&session_sandbox);
	conf_free(&sc.conf);
	return 0;
}
