/*
 * postern-smtpd - the SMTP receiver (RFC 5321) for the services smtp
 *                 (25, MX), submission (587) and smtps (465)
 *
 * PRIVILEGE  postern-smtpd (group postern-authc); reads the TLS key as
 *            root before dropping; then only etc_dir/users.cdb and
 *            aliases.cdb, the sockets queue_dir/private/auth and
 *            queue_dir/private/inject; never the queue or mailboxes.
 *            SANDBOX smtpd (below, postern-smtpd(8)): reads etc_dir;
 *            accepts, forks sessions; each session process then enters
 *            smtpd-session: reads etc_dir, unix sockets; no fork, no exec,
 *            no TCP socket of its own
 * INPUT      fd 4..: listening sockets handed over by the master; each
 *            client connection is served by a forked process, which
 *            serves up to smtpd_max_use connections one after another
 * OUTPUT     messages to postern-inject(8); fd 3: "ready", "busy";
 *            log lines on standard error, one per session start and end,
 *            accepted message and refused recipient
 * POLICY     smtp: mail for local_domains to known users and aliases;
 *            other domains only after AUTH (or from trusted_networks with
 *            trusted_networks_relay). submission, smtps: AUTH before
 *            MAIL. AUTH is offered only under TLS or to loopback clients.
 * EXIT       0 after SIGHUP (sessions finished) or SIGTERM; 111 when it
 *            cannot start (the log says why)
 * LIMITS     message_size_limit (also bounds each BDAT chunk);
 *            smtpd_timeout per command and per piece of data;
 *            smtpd_min_data_rate during DATA and BDAT;
 *            smtpd_session_time_limit per session; smtpd_recipient_limit
 *            (a repeated recipient counts once), smtpd_error_limit,
 *            smtpd_junk_command_limit, smtpd_process_limit,
 *            smtpd_client_connection_limit per address or IPv6 /64
 *            (not for trusted_networks); command lines 1000 bytes with
 *            CRLF; held header section 64 KiB
 * SEE ALSO   postern-smtpd(8), postern-inject(8), postern-auth(8),
 *            postern.conf(5)
 */
#include "smtpd.h"

#include <string.h>

#include "mail/conf_limit.h"
#include "daemon/service_sandbox.h"
#include "daemon/service_tls.h"
#include "util/log.h"

/* SANDBOX (postern-smtpd(8)): the parent's, entered by
 * service_child_ready() once the TLS pair and the maps are loaded; each
 * session process narrows it to the session's as soon as it is forked.
 * A session process inherits its parent's profile, so the parent's must
 * allow what the sessions do (UNIX). */
static const struct service_path smtpd_paths[] = {
	/* users.cdb and aliases.cdb, reopened when replaced */
	{ SERVICE_ETC, NULL, SANDBOX_READ },
};
static const struct service_profile smtpd_profile = {
	"smtpd",
	SANDBOX_SYS_ACCEPT | SANDBOX_SYS_FORK | SANDBOX_SYS_UNIX,
	smtpd_paths, sizeof(smtpd_paths) / sizeof(smtpd_paths[0]),
};
static const struct service_profile smtpd_session_profile = {
	"smtpd-session",
	/* UNIX: the connections to postern-auth and postern-inject */
	SANDBOX_SYS_UNIX,
	smtpd_paths, sizeof(smtpd_paths) / sizeof(smtpd_paths[0]),
};

static enum smtpd_mode smtpd_mode_of(const struct service_def *def)
{
	if (def->flags & SERVICE_TLS_IMPLICIT)
		return SMTPD_SMTPS;
	if (strcmp(def->name, "submission") == 0)
		return SMTPD_SUBMISSION;
	return SMTPD_MX;
}

static void smtpd_settings(struct smtpd *srv, struct service_child *sc)
{
	const struct conf *c = &sc->conf;
	const char *error;
	size_t bad;

	srv->sc = sc;
	srv->conf = c;
	srv->mode = smtpd_mode_of(sc->def);
	srv->timeout_ms = conf_limit_timeout_ms(c->smtpd_timeout);
	srv->session_limit_ms =
		conf_limit_timeout_ms(c->smtpd_session_time_limit);
	srv->min_data_rate = c->smtpd_min_data_rate;
	srv->junk_limit = conf_limit_count(c->smtpd_junk_command_limit);
	srv->trusted_relay = c->trusted_networks_relay;
	if (cidr_list_parse(&srv->trusted, c->trusted_networks.v,
			    c->trusted_networks.n, &error, &bad) < 0)
		log_fatal("trusted_networks: '%s': %s",
			  c->trusted_networks.v[bad], error);
	srv->rcpt_limit = conf_limit_count(c->smtpd_recipient_limit);
	srv->error_limit = conf_limit_count(c->smtpd_error_limit);
	srv->client_limit = conf_limit_count(c->smtpd_client_connection_limit);
	srv->process_limit = conf_limit_count(c->smtpd_process_limit);
	srv->max_use = conf_limit_count(c->smtpd_max_use);
	str_init(&srv->auth_socket, 0);
	str_init(&srv->inject_socket, 0);
	if (conf_queue_path(c, "private/auth", &srv->auth_socket) < 0 ||
	    conf_queue_path(c, "private/inject", &srv->inject_socket) < 0)
		log_fatal("queue_dir %s: path too long", c->queue_dir);
}

static void smtpd_maps_open(struct smtpd *srv)
{
	struct str path = STR_INIT(0);
	const char *error = "path too long";

	if (conf_etc_path(srv->conf, "users.cdb", &path) < 0 ||
	    cdbmap_open(&srv->users, str_c(&path), &error) < 0)
		log_fatal("users.cdb: %s", error);
	if (conf_etc_path(srv->conf, "aliases.cdb", &path) < 0 ||
	    cdbmap_open(&srv->aliases, str_c(&path), &error) < 0)
		log_fatal("aliases.cdb: %s", error);
	str_free(&path);
}

int main(int argc, char **argv)
{
	static struct sandbox_prepared session_sandbox;
	struct service_child sc;
	struct smtpd srv;

	memset(&srv, 0, sizeof(srv));
	service_child_init(&sc, argc, argv, "postern-smtpd");
	if (sc.nlisten == 0)
		log_fatal("no listening socket handed over (POSTERN_LISTEN_FDS)");
	smtpd_settings(&srv, &sc);
	srv.tls = service_tls_load(&sc, "running without STARTTLS, AUTH only "
				   "for loopback clients");
	service_child_drop(&sc);
	smtpd_maps_open(&srv);
	service_sandbox_prepare(&sc, &smtpd_session_profile, &session_sandbox);
	srv.session_sandbox = &session_sandbox;
	sc.sessions = &session_sandbox;
	sc.profile = &smtpd_profile;
	service_child_ready(&sc);
	smtpd_server_run(&srv);
	cdbmap_close(&srv.users);
	cdbmap_close(&srv.aliases);
	if (srv.tls != NULL)
		SSL_CTX_free(srv.tls);
	str_free(&srv.auth_socket);
	str_free(&srv.inject_socket);
	cidr_list_free(&srv.trusted);
	sandbox_prepared_free(&session_sandbox);
	conf_free(&sc.conf);
	return 0;
}
