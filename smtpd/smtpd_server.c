/*
 * smtpd_server - postern-smtpd's accept loop
 *
 * The acceptor is common/daemon/session_server.c; this file gives it
 * smtpd's limits and replies. A process serves up to smtpd_max_use
 * sessions, one after another (common/daemon/session_pool.h), so that fork
 * and exit are not paid for every connection. A client over
 * smtpd_process_limit gets "421 4.3.2", one over
 * smtpd_client_connection_limit (per IPv4 address or IPv6 /64; clients in
 * trusted_networks are exempt) "421 4.7.0" (nothing on smtps, where it
 * would not be TLS), and is closed. Before each session users.cdb and
 * aliases.cdb are reopened if they changed, so every session starts with
 * the current maps. Signals: see session_server.h.
 */
#include "smtpd.h"

#include "daemon/session_server.h"
#include "util/log.h"

_Static_assert(SMTPD_IP_MAX >= SESSION_IP_MAX,
	       "a session's client address fits smtpd's buffers");

static void server_maps_refresh(void *arg)
{
	struct smtpd *srv = arg;
	const char *error;

	if (cdbmap_refresh(&srv->users, &error) < 0 ||
	    cdbmap_refresh(&srv->aliases, &error) < 0)
		log_warn(NULL, "maps: %s", error);
}

static void server_session(void *arg, int fd, const char *ip)
{
	smtpd_session_run(arg, fd, ip);
}

void smtpd_server_run(struct smtpd *srv)
{
	const struct session_clients cl = {
		.total_max = srv->process_limit,
		.per_client_max = srv->client_limit,
		.silent = srv->mode == SMTPD_SMTPS,
		.busy_reply = "421 4.3.2 too busy\r\n",
		.busy_why = "smtpd_process_limit reached",
		.client_reply = "421 4.7.0 too many connections from your "
				"address\r\n",
		.client_why = "smtpd_client_connection_limit reached",
		.fork_reply = "421 4.3.2 try again later\r\n",
		.max_use = srv->max_use,
		.before_session = server_maps_refresh,
		.session = server_session,
		.arg = srv,
		.session_sandbox = srv->session_sandbox,
	};

	session_server_run_clients(srv->sc, &cl);
}
