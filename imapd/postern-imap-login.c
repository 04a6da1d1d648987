/*
 * postern-imap-login - the IMAP server before login (RFC 9051, RFC 3501),
 *                      for the services imap (143) and imaps (993)
 *
 * PRIVILEGE  postern-login; reads the TLS key as root before dropping;
 *            afterwards only the sockets queue_dir/private/auth and
 *            queue_dir/private/imap; never a mailbox or a password hash,
 *            and no way to name a user to the mailbox side: only the
 *            login token postern-auth issues for a right password does.
 *            SANDBOX imap-login (login/login_main.c,
 *            postern-imap-login(8)): no file system at all; accepts, forks
 *            sessions; each session process then enters
 *            imap-login-session: unix sockets only; no fork, no exec, no
 *            TCP socket of its own
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

#include "mail/conf_limit.h"

/* The imap_* keys of the configuration. */
static void imap_login_configure(const struct conf *c,
				 struct login_settings *set, void *arg)
{
	struct imap_login *il = arg;

	il->bad_max = conf_limit_count(c->imap_max_bad_commands);
	set->timeout_ms = conf_limit_timeout_ms(c->imap_login_timeout);
	set->session_timeout_ms = conf_limit_timeout_ms(c->imap_timeout);
	set->process_limit = conf_limit_count(c->imap_process_limit);
	set->client_limit = c->imap_client_connection_limit;
}

int main(int argc, char **argv)
{
	static struct imap_login il;
	const struct login_program lp = {
		.name = "postern-imap-login",
		.proto = &imap_login_protocol,
		.proto_arg = &il,
		.configure = imap_login_configure,
		.profile = "imap-login",
		.session_profile = "imap-login-session",
		.without_tls = "STARTTLS is not offered, and logins "
			"only from loopback clients",
	};

	return login_main(&lp, argc, argv);
}
