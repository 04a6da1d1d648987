/*
 * postern-pop3 - the POP3 server after login (RFC 1939 TRANSACTION and
 *                UPDATE states) on users' Maildirs
 *
 * PRIVILEGE  postern-mail; each session, before its first reply, opens
 *            mail_root/DOMAIN/USER (mailbox_path.h), moves new/ to cur/,
 *            and confines itself to that directory with the sandbox
 *            profile "pop3-session" (Landlock: read, write, remove, create
 *            within the Maildir, the writes being the folder index's
 *            postern-uidlog and postern-index.db, mail/imap_index.h;
 *            seccomp: no socket, exec or fork; postern-pop3(8)); no
 *            network, no queue, no password hashes.
 *            SANDBOX pop3 (below, postern-pop3(8)): mail_root only;
 *            accepts hand-overs, forks sessions (which inherit it); no
 *            socket creation (the auth-redeem connection is made before),
 *            no exec
 * INPUT      fd 4: the unix socket queue_dir/private/pop3 (group
 *            postern-login): hand-overs from postern-pop3-login(8), one
 *            line with a login token and one client descriptor each
 *            (proto/login_handover.h), read concurrently; each token is
 *            redeemed with postern-auth(8) over
 *            queue_dir/private/auth-redeem (connected at start, kept), and
 *            the user's address taken from its answer; one forked process
 *            per session
 * OUTPUT     POP3 replies on the client descriptor; deletions and flag
 *            renames in the Maildir at QUIT only, logged in the folder
 *            index (which also numbers new files at login); fd 3: "ready", "busy";
 *            one log line per session start and end
 * EXIT       0 after SIGHUP (sessions finished) or SIGTERM, or once its
 *            sessions have finished after it lost postern-auth (it then
 *            tells the master "retiring" at once, so that a new one
 *            takes over); 111 when it cannot start (the log says why)
 * LIMITS     hand-overs: 5 s each, 256 at once;
 *            pop3_timeout between commands, pop3_max_bad_commands,
 *            pop3_max_user_connections per address, pop3_process_limit;
 *            command lines 255 bytes with CRLF; per message held in
 *            memory: its name, its UID and two numbers
 * SEE ALSO   postern-pop3(8), postern-pop3-login(8), postern.conf(5)
 */
#include "pop3.h"

#include <string.h>

#include "mail/conf_limit.h"
#include "daemon/service_sandbox.h"
#include "util/log.h"

/* SANDBOX (postern-pop3(8)): entered by service_child_ready() before the
 * first hand-over is read. A session process inherits it and narrows it
 * to its user's Maildir, so it grants what sessions do there: read,
 * delete at QUIT, move new/ -> cur/ and rename for flags (a rename makes
 * a name: CREATE), write the folder index (postern-uidlog appended,
 * postern-index.db; a compaction of the log creates a file and renames
 * it over the old one). Messages are never written. */
static const struct service_path pop3_paths[] = {
	{ SERVICE_MAIL, NULL, SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE |
			      SANDBOX_REMOVE | SANDBOX_RENAME },
};
static const struct service_profile pop3_profile = {
	"pop3",
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FORK | SANDBOX_SYS_FSWRITE,
	pop3_paths, sizeof(pop3_paths) / sizeof(pop3_paths[0]),
};

static void pop3_settings(struct pop3 *p3, struct service_child *sc)
{
	const struct conf *c = &sc->conf;

	p3->sc = sc;
	p3->conf = c;
	p3->timeout_ms = conf_limit_timeout_ms(c->pop3_timeout);
	p3->bad_max = conf_limit_count(c->pop3_max_bad_commands);
	p3->user_max = conf_limit_count(c->pop3_max_user_connections);
	p3->process_limit = conf_limit_count(c->pop3_process_limit);
}

int main(int argc, char **argv)
{
	struct service_child sc;
	struct pop3 p3;

	memset(&p3, 0, sizeof(p3));
	service_child_init(&sc, argc, argv, "postern-pop3");
	sc.profile = &pop3_profile;
	if (sc.nlisten != 1)
		log_fatal("expected one listening socket (private/pop3), "
			  "got %zu", sc.nlisten);
	pop3_settings(&p3, &sc);
	service_child_drop(&sc);
	pop3_server_init(&p3);
	service_child_ready(&sc);
	pop3_server_run(&p3);
	conf_free(&sc.conf);
	return 0;
}
