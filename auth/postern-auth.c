/*
 * postern-auth - the auth service: the only process that reads password
 *                hashes, and the issuer of login tokens
 *
 * PRIVILEGE  postern-auth; no network; reads etc_dir/passwd.cdb only;
 *            password hashes computed by auth_hash_workers threads,
 *            started after the process has confined itself. SANDBOX auth
 *            (below, postern-auth(8)): reads etc_dir; no socket
 *            creation, no file writes, no fork, no exec
 * INPUT      fd 4: the listening unix socket queue_dir/private/auth
 *            (mode 0660, group postern-authc): LOOKUP, VERIFY, LOGIN;
 *            fd 5: queue_dir/private/auth-redeem (mode 0660, group
 *            postern-mail, and only a peer running as postern-mail):
 *            REDEEM; both handed over by the master; one request per
 *            line (postern-auth(8))
 * OUTPUT     one answer per request, in order: OK (with a login token
 *            for LOGIN), NOUSER, FAIL, TEMPFAIL, ERROR; fd 3: "ready",
 *            "busy" to the master; one log line per VERIFY and LOGIN and
 *            per token issued, redeemed or refused (tokens by their
 *            first 8 hex digits only) on standard error
 * EXIT       0 after SIGTERM (stop) or SIGHUP (retire: serves its
 *            established connections, then exits); 111 when it cannot
 *            start (log says why)
 * LIMITS     request line 1024 bytes; 512 connections (16 of them kept
 *            for the redeem socket); 300 s idle (not
 *            the redeem socket's); failed logins delayed
 *            auth_failure_delay doubling up to auth_failure_delay_max,
 *            counted for auth_failure_window per client address and per
 *            user (4096 of each); past auth_client_failure_limit a client
 *            address is refused without a password check;
 *            auth_hash_workers checks at once, auth_client_hash_limit of
 *            them per client address; 4096 login tokens outstanding,
 *            each valid auth_token_lifetime, once
 * SEE ALSO   postern-auth(8), postern-master(8), postern.conf(5)
 */
#include "auth.h"

#include "daemon/service_sandbox.h"
#include "util/log.h"

/* SANDBOX (postern-auth(8)): entered by service_child_ready(), once the
 * user map is open, the dummy hash made and the listener and signals set. */
static const struct service_path auth_paths[] = {
	/* passwd.cdb, reopened when "postern user" renames a new one in */
	{ SERVICE_ETC, NULL, SANDBOX_READ },
};
static const struct service_profile auth_profile = {
	"auth",
	/* THREADS: for the password-hash workers, started after confining */
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_THREADS,
	auth_paths, sizeof(auth_paths) / sizeof(auth_paths[0]),
};

int main(int argc, char **argv)
{
	struct service_child sc;
	struct auth_db db;
	struct auth_server srv;

	service_child_init(&sc, argc, argv, "postern-auth");
	sc.profile = &auth_profile;
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	service_child_drop(&sc);
	auth_db_open(&db, &sc.conf);
	auth_server_init(&srv, &sc, &db);
	service_child_ready(&sc);
	auth_server_run(&srv);
	auth_server_free(&srv);
	auth_db_close(&db);
	conf_free(&sc.conf);
	return 0;
}
