/*
 * postern-remote - send queued mail to other mail servers over SMTP
 *
 * PRIVILEGE  postern-remote; network out (SMTP to port remote_port or the
 *            relay_host's, DNS to dns_servers or /etc/resolv.conf); no
 *            access to the queue, the mailboxes or the maps: it reads only
 *            the queue file descriptors it is handed. SANDBOX remote
 *            (below, postern-remote(8)): no file system at all; TCP and
 *            UDP out; no unix sockets, no fork, no exec
 * INPUT      fd 4: the listening socket queue_dir/private/remote (group
 *            postern-queue, 0660), handed over by the master. One
 *            connection (the queue manager's) at a time per process; on
 *            it, requests "SEND ID SENDER NEXTHOP FLAGS OFFSET SIZE COUNT
 *            ENVID" followed by COUNT "RCPT ADDRESS NOTIFY ORCPT" lines,
 *            each request with a read-only queue file descriptor attached
 *            (delivery_proto.h)
 * OUTPUT     SMTP to the next hop: relay_host, or the recipient domain's
 *            MX hosts (libunbound), opportunistic STARTTLS, PIPELINING,
 *            SIZE, 8BITMIME, SMTPUTF8, DSN (RET, ENVID, NOTIFY, ORCPT
 *            passed on); one reply line per recipient "OK|TEMP|PERM relay
 *            DSN|- x.y.z text" and "DONE UP|DOWN". Logs the
 *            sessions (connect failures, TLS version and cipher); the
 *            queue manager logs each recipient's outcome. fd 3: "ready",
 *            "busy" to the master
 * EXIT       0 after SIGTERM or SIGHUP (the request in hand is finished
 *            and answered first); 111 when it cannot start
 * LIMITS     100 recipients per request; REMOTE_ADDRS_MAX addresses tried
 *            per request; remote_connect_timeout, remote_timeout per step,
 *            remote_reuse_time for a kept session
 * SEE ALSO   postern-remote(8), postern-qmgr(8), postern-queue(5),
 *            postern.conf(5)
 */
#include "remote.h"

#include "daemon/service_sandbox.h"

/* SANDBOX (postern-remote(8)): entered by service_child_ready() in
 * remote_run(), once the TLS client context and the resolver (with
 * /etc/resolv.conf read) are made. No path at all. */
static const struct service_profile remote_profile = {
	"remote",
	/* INET: SMTP and DNS; THREADS: libunbound's resolver thread, which
	 * it starts at the first lookup */
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_INET | SANDBOX_SYS_THREADS,
	NULL, 0,
};

int main(int argc, char **argv)
{
	struct service_child sc;

	service_child_init(&sc, argc, argv, "postern-remote");
	sc.profile = &remote_profile;
	service_child_drop(&sc);
	return remote_run(&sc);
}
