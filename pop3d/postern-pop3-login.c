/*
 * postern-pop3-login - the POP3 server before login (RFC 1939, RFC 2449),
 *                      for the services pop3 (110) and pop3s (995)
 *
 * PRIVILEGE  postern-login; reads the TLS key as root before dropping;
 *            afterwards only the sockets queue_dir/private/auth and
 *            queue_dir/private/pop3; never a mailbox or a password hash,
 *            and no way to name a user to the mailbox side: only the
 *            login token postern-auth issues for a right password does.
 *            SANDBOX pop3-login (login/login_main.c,
 *            postern-pop3-login(8)): no file system at all; accepts, forks
 *            sessions; each session process then enters
 *            pop3-login-session: unix sockets only; no fork, no exec, no
 *            TCP socket of its own
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

#include "mail/conf_limit.h"

/* The pop3_* keys of the configuration. */
static void pop3_login_configure(const struct conf *c,
				 struct login_settings *set, void *arg)
{
	struct pop3_login *p3 = arg;

	p3->bad_max = conf_limit_count(c->pop3_max_bad_commands);
	set->timeout_ms = conf_limit_timeout_ms(c->pop3_login_timeout);
	set->session_timeout_ms = conf_limit_timeout_ms(c->pop3_timeout);
	set->process_limit = conf_limit_count(c->pop3_process_limit);
	set->client_limit = c->pop3_client_connection_limit;
}

int main(int argc, char **argv)
{
	static struct pop3_login p3;
	const struct login_program lp = {
		.name = "postern-pop3-login",
		.proto = &pop3_login_protocol,
		.proto_arg = &p3,
		.configure = pop3_login_configure,
		.profile = "pop3-login",
		.session_profile = "pop3-login-session",
		.without_tls = "STLS is not offered, and logins only "
			"from loopback clients",
	};

	return login_main(&lp, argc, argv);
}
