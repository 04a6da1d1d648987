/*
 * postern-inject - the queue injector: the only writer of new queue files
 *
 * PRIVILEGE  postern-queue (group postern-queue); no network; writes
 *            queue_dir/tmp (nameless O_TMPFILE files) and queue_dir/new
 *            only. Started as root just long enough to create the queue
 *            layout (queue_layout.h) and raise its descriptor limit.
 *            SANDBOX inject (below, postern-inject(8)): tmp/ and new/ of
 *            the queue only; no socket creation (the one connection to
 *            the queue manager is made before), no fork, no exec
 * INPUT      fd 4: the listening unix socket queue_dir/private/inject
 *            (mode 0660, group postern-injectc: smtpd, the queue
 *            manager's DSNs; root), fd 5: queue_dir/private/inject-local
 *            (mode 0666: any local user, for sendmail), handed over by the
 *            master; one message per connection in the protocol of
 *            inject.h (SENDER, head fields, RCPT..., DATA, length-prefixed
 *            chunks). The client's uid (SO_PEERCRED) decides whether it
 *            may set CLIENT, HELO, AUTH and PROTO (root, postern-smtpd) or
 *            is a local submission.
 * OUTPUT     queue_dir/new/ID, on stable storage before the answer
 *            "OK ID"; otherwise "TEMP reason" or "PERM reason" and nothing
 *            in new/. Group commit: one sync round for every message
 *            completed meanwhile. "WAKE" to queue_dir/private/qmgr after
 *            each round. fd 3: "ready", "busy" to the master. One log
 *            line per queued message: "ID: from=<..> size=N nrcpt=K
 *            proto=P client=IP uid=U".
 * EXIT       0 after SIGHUP (retire: finish the clients in progress) or
 *            SIGTERM (stop: drop unfinished messages, commit complete
 *            ones, within 5 s); 111 when it cannot start (log says why)
 * LIMITS     1000 clients on inject, 256 on inject-local and
 *            inject_local_connection_limit (10) from one uid there;
 *            request lines 1100 bytes; fields 1024 bytes; 100000
 *            recipients, inject_local_recipient_limit (1000) for a local
 *            submission (recipients go to the file as they come: memory
 *            does not grow with them); chunks 64 KiB; message_size_limit;
 *            smtpd_timeout + 60 s without a byte from a client
 * SEE ALSO   postern-inject(8), postern-queue(5), postern-master(8),
 *            inject.h
 */
#include "inject_daemon.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/service_sandbox.h"
#include "mail/queue_layout.h"
#include "util/log.h"
#include "util/privs.h"

/* SANDBOX (postern-inject(8)): entered by service_child_ready(), once the
 * queue directories, the listener and the queue manager's wake-up
 * connection are open; the commit thread starts afterwards. */
static const struct service_path inject_paths[] = {
	/* nameless files (or named ones, without O_TMPFILE) written here,
	 * then linked (renamed) into new/ */
	{ SERVICE_QUEUE, "tmp", SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE |
				SANDBOX_REMOVE | SANDBOX_RENAME },
	{ SERVICE_QUEUE, "new", SANDBOX_CREATE | SANDBOX_REMOVE |
				SANDBOX_RENAME },
};
static const struct service_profile inject_profile = {
	"inject",
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FSWRITE | SANDBOX_SYS_THREADS,
	inject_paths, sizeof(inject_paths) / sizeof(inject_paths[0]),
};

/* Each client may hold a socket and a queue file: raise the soft limit on
 * descriptors to the hard limit (as root, to at least what we need). */
static void inject_fd_limit(void)
{
	const rlim_t need = 2 * (INJECT_CONN_MAX + INJECT_LOCAL_CONN_MAX) + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn(NULL, "getrlimit: %s", strerror(errno));
		return;
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need &&
	    geteuid() == 0)
		rl.rlim_max = need;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn(NULL, "setrlimit: %s", strerror(errno));
	else if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warn(NULL, "only %llu descriptors: fewer than %d clients "
			 "may be served", (unsigned long long)rl.rlim_cur,
			 INJECT_CONN_MAX + INJECT_LOCAL_CONN_MAX);
}

/* Who may speak for others: root, smtpd and, unseparated, ourselves. */
static void inject_peers(struct inject_server *srv)
{
	gid_t gid;

	srv->root = geteuid() == 0;
	srv->own_uid = getuid();
	srv->smtpd_known = priv_account(INJECT_SMTPD_ACCOUNT,
					&srv->smtpd_uid, &gid) == 0;
}

int main(int argc, char **argv)
{
	static struct inject_server srv;
	struct service_child sc;
	const char *error;

	service_child_init(&sc, argc, argv, "postern-inject");
	sc.profile = &inject_profile;
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	umask(077);
	if (queue_layout_ensure(&sc.conf, &error) < 0)
		log_fatal("queue layout: %s", error);
	inject_fd_limit();
	inject_peers(&srv);
	service_child_drop(&sc);
	inject_server_init(&srv, &sc);
	service_child_ready(&sc);
	inject_server_run(&srv);
	inject_server_free(&srv);
	conf_free(&sc.conf);
	return 0;
}
