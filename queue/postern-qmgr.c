/*
 * postern-qmgr - the queue manager: moves messages through the queue and
 * hands each local recipient to postern-local
 *
 * PRIVILEGE  postern-queue; no network, no mailboxes. Started as root just
 *            long enough to create the queue layout (queue_layout.h).
 *            Reads users.cdb and aliases.cdb beside the configuration.
 *            SANDBOX qmgr (below, postern-qmgr(8)): the queue's message
 *            directories and etc_dir; unix sockets to the agents and the
 *            injector; no fork, no exec
 * INPUT      fd 4: the listening socket queue_dir/private/qmgr (group
 *            postern-queue, 0660), handed over by the master; command
 *            lines WAKE, FLUSH, HOLD<TAB>ID, RELEASE<TAB>ID, DELETE<TAB>ID,
 *            each answered "OK" or "ERR<TAB>reason". queue_dir/new/ (from
 *            the injector), deferred/ when due, active/ at start.
 * OUTPUT     renames between new/, active/, deferred/, hold/, corrupt/;
 *            one-byte recipient states in queue files (queue_file.h); read-
 *            only queue file descriptors and DELIVER requests to
 *            queue_dir/private/local (delivery_proto.h), at most
 *            local_delivery_limit at once and never two for one message;
 *            one log line per recipient outcome:
 *            "ID: to=<..> orig_to=<..> relay=local delay=S status=sent|
 *            deferred|bounced|expired (reason)". fd 3: "ready", "busy".
 *            Bounces and delay warnings (RFC 3464 DSNs, from <>) to
 *            queue_dir/private/inject, each queued before the states it
 *            reports are written (qmgr_bounce.h).
 * EXIT       0 after SIGTERM or SIGHUP (the deliveries in flight are
 *            answered and recorded first; messages not finished stay in
 *            active/ for the next start); 111 when it cannot start
 * LIMITS     1000 messages open at once; 10 min per delivery; command
 *            lines of 128 bytes; retry_min, retry_max, queue_lifetime,
 *            queue_scan_interval, local_delivery_limit,
 *            delay_warning_time, bounce_size_limit
 * SEE ALSO   postern-qmgr(8), postern-queue(5), postern-local(8),
 *            postern-inject(8), postern.conf(5)
 */
#include "qmgr.h"

#include "daemon/service_sandbox.h"
#include "mail/queue_layout.h"
#include "util/log.h"

/* SANDBOX (postern-qmgr(8)): entered by service_child_ready() in
 * qmgr_run(), once the directories, the maps and the listener are open;
 * the closer thread starts afterwards. Messages move between these five
 * directories by rename, so each grants the same. */
#define QMGR_DIR_RIGHTS (SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE | \
			 SANDBOX_REMOVE | SANDBOX_RENAME)
static const struct service_path qmgr_paths[] = {
	{ SERVICE_QUEUE, "new", QMGR_DIR_RIGHTS },
	{ SERVICE_QUEUE, "active", QMGR_DIR_RIGHTS },
	{ SERVICE_QUEUE, "deferred", QMGR_DIR_RIGHTS },
	{ SERVICE_QUEUE, "hold", QMGR_DIR_RIGHTS },
	{ SERVICE_QUEUE, "corrupt", QMGR_DIR_RIGHTS },
	/* users.cdb and aliases.cdb, reopened when replaced */
	{ SERVICE_ETC, NULL, SANDBOX_READ },
};
static const struct service_profile qmgr_profile = {
	"qmgr",
	/* UNIX: connections to postern-local, postern-remote (made and
	 * remade as the agents restart) and postern-inject (bounces) */
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FSWRITE | SANDBOX_SYS_UNIX |
	SANDBOX_SYS_THREADS,
	qmgr_paths, sizeof(qmgr_paths) / sizeof(qmgr_paths[0]),
};

int main(int argc, char **argv)
{
	struct service_child sc;
	const char *error;

	service_child_init(&sc, argc, argv, "postern-qmgr");
	sc.profile = &qmgr_profile;
	if (queue_layout_ensure(&sc.conf, &error) < 0)
		log_fatal("queue directory %s: %s", sc.conf.queue_dir, error);
	service_child_drop(&sc);
	return qmgr_run(&sc);
}
