/*
 * postern-local - write messages into Maildirs for the queue manager
 *
 * PRIVILEGE  postern-mail; no network; writes under mail_root only, and
 *            never creates a Maildir ("postern user add" does); reads only
 *            the queue file descriptors it is handed, never the queue.
 *            SANDBOX local (below, postern-local(8)): mail_root only; no
 *            socket creation, no fork, no exec
 * INPUT      fd 4: the listening socket queue_dir/private/local (group
 *            postern-queue, 0660), handed over by the master. One
 *            connection (the queue manager's) at a time per process; on
 *            it, requests "DELIVER ID SENDER RCPT DOMAIN/USER OFFSET SIZE"
 *            each with a read-only queue file descriptor attached
 *            (delivery_proto.h), served in order
 * OUTPUT     mail_root/DOMAIN/USER/new/<unique>,S=<size>,W=<vsize>, with
 *            "Return-Path: <SENDER>" and "Delivered-To: RCPT" before the
 *            queued bytes, read once, via an unnamed file in tmp/'s file
 *            system, fsync, link, fsync of new/ (maildir_write.h) into the
 *            Maildir of mailbox_path.h; a reply per request: "OK", "TEMP x.y.z text",
 *            "PERM x.y.z text". fd 3: "ready", "busy" to the master
 * EXIT       0 after SIGTERM (the request in hand is finished first) or
 *            SIGHUP (the same, then the connection is closed so the queue
 *            manager reconnects to the new generation); 111 when it cannot
 *            start
 * LIMITS     one request at a time per process; request lines of
 *            DELIVERY_LINE_MAX bytes, complete within 60 s of their first
 *            byte; header section scanned for loops: 256 KiB
 * SEE ALSO   postern-local(8), postern-qmgr(8), postern-queue(5),
 *            maildir(5)
 */
#include "local.h"

#include "daemon/service_sandbox.h"
#include "util/log.h"

/* SANDBOX (postern-local(8)): entered by service_child_ready() in
 * local_run(), before the first connection is accepted. */
static const struct service_path local_paths[] = {
	/* a Maildir's tmp/ -> new/: a file made (nameless, or named) in
	 * tmp/, linked or renamed into new/, a leftover removed */
	{ SERVICE_MAIL, NULL, SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE |
			      SANDBOX_REMOVE | SANDBOX_RENAME },
};
static const struct service_profile local_profile = {
	"local", SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FSWRITE,
	local_paths, sizeof(local_paths) / sizeof(local_paths[0]),
};

int main(int argc, char **argv)
{
	struct service_child sc;

	service_child_init(&sc, argc, argv, "postern-local");
	sc.profile = &local_profile;
	service_child_drop(&sc);
	return local_run(&sc);
}
