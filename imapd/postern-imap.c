/*
 * postern-imap - the IMAP server after login (RFC 9051 and RFC 3501, the
 *                authenticated and selected states) on users' Maildirs
 *
 * PRIVILEGE  postern-mail; each session, before its first reply, opens
 *            mail_root/DOMAIN/USER (mailbox_path.h) and confines itself
 *            to that Maildir (and its index under imap_index_root, if
 *            set) with the sandbox profile "imap-session"
 *            (postern-imap(8)); no network, no queue, no password hashes.
 *            SANDBOX imap (below, postern-imap(8)): mail_root, and
 *            imap_index_root when set; accepts hand-overs, forks sessions
 *            (which inherit it); no socket creation (the auth-redeem
 *            connection is made before), no exec
 * INPUT      fd 4: the unix socket queue_dir/private/imap (group
 *            postern-login): hand-overs from postern-imap-login(8), one
 *            line with a login token, the tag of the login command
 *            (imap_handover.h) and one client descriptor each
 *            (proto/login_handover.h), read concurrently; each token is
 *            redeemed with postern-auth(8) over
 *            queue_dir/private/auth-redeem (connected at start, kept), and
 *            the user's address taken from its answer; one forked process
 *            per session
 * OUTPUT     IMAP replies on the client descriptor, starting with the
 *            tagged OK of the login command; changes in the user's
 *            Maildir and its index; fd 3: "ready", "busy"; one log line
 *            per session start and end
 * EXIT       0 after SIGHUP (sessions finished) or SIGTERM, or once its
 *            sessions have finished after it lost postern-auth (it then
 *            tells the master "retiring" at once, so that a new one
 *            takes over); 111 when it cannot start (the log says why)
 * LIMITS     hand-overs: 5 s each, 256 at once; imap_timeout between
 *            commands (IDLE included), imap_max_bad_commands,
 *            imap_max_user_connections per address, imap_process_limit;
 *            APPEND up to message_size_limit
 * SEE ALSO   postern-imap(8), postern-imap-login(8), postern.conf(5)
 */
#include "imap.h"

#include <malloc.h>
#include <string.h>

#include "mail/conf_limit.h"
#include "daemon/service_sandbox.h"
#include "mail/rfc2047.h"
#include "util/log.h"

/* SANDBOX (postern-imap(8)): entered by service_child_ready() before the
 * first hand-over is read. A session process inherits it and narrows it
 * to its user's Maildir, so it grants what sessions do there: read; write
 * files in place (the index); create (APPEND, new folders' files, the
 * index); remove (EXPUNGE); rename (flags in file names, new/ -> cur/,
 * MOVE, atomic replacement of the index files); make and remove
 * directories (CREATE, DELETE, RENAME of folders). The same under
 * imap_index_root when the index lives apart. */
#define IMAP_MAIL_RIGHTS (SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE | \
			  SANDBOX_REMOVE | SANDBOX_RENAME | SANDBOX_MKDIR)
#define IMAP_SANDBOX_SYS (SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FORK | \
			  SANDBOX_SYS_FSWRITE | SANDBOX_SYS_WATCH)

static void imap_settings(struct imap *im, struct service_child *sc)
{
	const struct conf *c = &sc->conf;

	im->sc = sc;
	im->conf = c;
	im->timeout_ms = conf_limit_timeout_ms(c->imap_timeout);
	im->bad_max = conf_limit_count(c->imap_max_bad_commands);
	im->user_max = conf_limit_count(c->imap_max_user_connections);
	im->process_limit = conf_limit_count(c->imap_process_limit);
	im->append_max = c->message_size_limit;
}

int main(int argc, char **argv)
{
	struct service_child sc;
	struct service_path paths[2];
	struct service_profile profile = { "imap", IMAP_SANDBOX_SYS, paths,
					   1 };
	struct imap im;

	memset(&im, 0, sizeof(im));
	/* a folder's lists are large and short-lived (a session in IDLE
	 * gives them back, imap_hibernate.c): allocations this big are
	 * always their own mappings, returned to the system when freed,
	 * instead of glibc raising the threshold and keeping them in a heap
	 * that cannot shrink past what is still in use above them */
	(void)mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	service_child_init(&sc, argc, argv, "postern-imap");
	paths[0] = (struct service_path){ SERVICE_MAIL, NULL,
					  IMAP_MAIL_RIGHTS };
	if (sc.conf.imap_index_root != NULL &&
	    sc.conf.imap_index_root[0] != '\0') {
		paths[1] = (struct service_path){ SERVICE_ABSOLUTE,
						  sc.conf.imap_index_root,
						  IMAP_MAIL_RIGHTS };
		profile.npaths = 2;
	}
	sc.profile = &profile;
	if (sc.nlisten != 1)
		log_fatal("expected one listening socket (private/imap), "
			  "got %zu", sc.nlisten);
	imap_settings(&im, &sc);
	service_child_drop(&sc);
	imap_server_init(&im);
	/* before the sandbox: a gconv module cannot load under it, and the
	 * sessions inherit what is loaded (rfc2047.h) */
	charset_preload();
	service_child_ready(&sc);
	imap_server_run(&im);
	conf_free(&sc.conf);
	return 0;
}
