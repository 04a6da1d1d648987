/*
 * login_main - the main of every login program (login.h): the settings
 *              from the configuration, the TLS pair, the privilege drop,
 *              the two sandboxes, then the accept loop
 *
 * SANDBOX  the same for every login program, since the layer does all its
 *          system calls: the parent's profile (lp->profile), entered by
 *          service_child_ready() once the TLS pair is loaded, accepts and
 *          forks sessions; each session process narrows it to the
 *          session's (lp->session_profile) as soon as it is forked: unix
 *          sockets only, to postern-auth and the mailbox side, and for TLS
 *          the socket pair it then relays. A session process inherits its
 *          parent's profile, so the parent's must allow what the sessions
 *          do (UNIX). No path in either: no file system at all.
 */
#include "login/login.h"

#include "daemon/service_sandbox.h"
#include "daemon/service_tls.h"
#include "util/log.h"

int login_main(const struct login_program *lp, int argc, char **argv)
{
	const struct service_profile profile = {
		lp->profile,
		SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FORK | SANDBOX_SYS_UNIX,
		NULL, 0,
	};
	const struct service_profile session_profile = {
		lp->session_profile, SANDBOX_SYS_UNIX, NULL, 0,
	};
	struct sandbox_prepared session_sandbox;
	struct service_child sc;
	struct login_settings set;
	struct login lg;

	service_child_init(&sc, argc, argv, lp->name);
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	lp->configure(&sc.conf, &set, lp->proto_arg);
	login_init(&lg, &sc, lp->proto, &set, lp->proto_arg);
	lg.tls = service_tls_load(&sc, lp->without_tls);
	service_child_drop(&sc);
	service_sandbox_prepare(&sc, &session_profile, &session_sandbox);
	lg.session_sandbox = &session_sandbox;
	sc.sessions = &session_sandbox;
	sc.profile = &profile;
	service_child_ready(&sc);
	login_server_run(&lg);
	login_free(&lg);
	sandbox_prepared_free(&session_sandbox);
	conf_free(&sc.conf);
	return 0;
}
