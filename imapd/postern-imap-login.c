/*
 * postern-imap-login - the IMAP server before login (RFC 9051, RFC 3501),
 *                      for the services imap (143) and imaps (993)
 *
 * PRIVILEGE  postern-login; reads the TLS key as root before dropping;
 *            afterwards only the sockets queue_dir/private/auth and
 *            queue_dir/private/imap; never a mailbox or a password hash,
 *            and no way to name a user to the mailbox side: only the
 *            login token postern-auth issues for a right password does.
 *            SANDBOX imap-login (below, postern-imap-login(8)): no file
 *            system at all; accepts, forks sessions; each session process
 *            then enters imap-login-session: unix sockets only; no fork,
 *            no exec, no TCP socket of its own
 * INPUT      fd 4..: listening sockets handed over by the master; one
 *            forked process per client connection
 * OUTPUT     a logged-in client is handed to postern-imap(8) over
 *            queue_dir/private/imap with its login token and the tag of
 *            its login command (imap_handover.h), the client socket
 *            itself, or for TLS one end of a socketpair this process
 *            relays; fd 3: "ready", "busy"; one log line per login,
 *            failure, ID and end
 * POLICY     LOGIN and AUTHENTICATE PLAIN/LOGIN only under TLS (STARTTLS
 *            or imaps) or from a loopback client (elsewhere LOGINDISABLED);
 *            passwords checked by postern-auth(8) with service "imap",
 *            which delays failures
 * EXIT       0 after SIGHUP (sessions finished) or SIGTERM; 111 when it
 *            cannot start (the log says why)
 * LIMITS     imap_login_timeout per command, imap_max_bad_commands,
 *            imap_process_limit, imap_client_connection_limit per client
 *            address; a command 8 KiB with its literals and line ends
 *            (imap_login_cmd.h); the TLS proxy gives up on a side that
 *            takes nothing for imap_timeout
 * SEE ALSO   postern-imap-login(8), postern-imap(8), postern-auth(8),
 *            postern.conf(5)
 */
#include "login.h"

#include <string.h>

#include "mail/conf_limit.h"
#include "daemon/service_sandbox.h"
#include "daemon/service_tls.h"
#include "util/log.h"

/* SANDBOX (postern-imap-login(8)): the parent's, entered by
 * service_child_ready() once the TLS pair is loaded; each session process
 * narrows it to the session's as soon as it is forked. A session process
 * inherits its parent's profile, so the parent's must allow what the
 * sessions do (UNIX). No path in either. */
static const struct service_profile login_profile = {
	"imap-login",
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FORK | SANDBOX_SYS_UNIX,
	NULL, 0,
};
static const struct service_profile login_session_profile = {
	"imap-login-session",
	/* UNIX: connections to postern-auth and postern-imap, and for TLS
	 * the socket pair this process then relays */
	SANDBOX_SYS_UNIX,
	NULL, 0,
};

int main(int argc, char **argv)
{
	static struct imap_login il;
	static struct sandbox_prepared session_sandbox;
	struct service_child sc;
	struct login_settings set;
	struct login lg;
	const struct conf *c;

	service_child_init(&sc, argc, argv, "postern-imap-login");
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	c = &sc.conf;
	il.bad_max = conf_limit_count(c->imap_max_bad_commands);
	set = (struct login_settings){
		.timeout_ms = conf_limit_timeout_ms(c->imap_login_timeout),
		.session_timeout_ms = conf_limit_timeout_ms(c->imap_timeout),
		.process_limit = conf_limit_count(c->imap_process_limit),
		.client_limit = c->imap_client_connection_limit,
	};
	login_init(&lg, &sc, &imap_login_protocol, &set, &il);
	lg.tls = service_tls_load(&sc, "STARTTLS is not offered, and logins "
				  "only from loopback clients");
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
