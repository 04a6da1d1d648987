/*
 * auth_server - postern-auth's event loop: listeners, signals, idle sweep
 *
 * The loop is daemon/unix_server.h's; this file gives it postern-auth's
 * rules. One process, one epoll loop. New connections beyond
 * AUTH_CONN_MAX are closed at once without a word (logged at most once a
 * second, with a count). When accept fails in a way that would repeat at
 * once (out of descriptors or memory, or anything unexpected) the
 * listeners rest for a second instead of spinning; a descriptor that is
 * not a listening socket is fatal. SIGTERM and SIGINT arrive through a
 * signalfd: the listeners close, held answers are sent at once, every
 * connection closes once its answer is written, and the loop ends when
 * none is left or after AUTH_STOP_MS, whichever comes first (what is left
 * is closed then). SIGHUP retires the process (the master's reload): the
 * listeners close, established connections are served as before (so
 * smtpd and pop3d clients see no drop) until they close or the idle sweep
 * closes them, and the loop ends with the last.
 */
#include "auth.h"

#include "util/log.h"

#define AUTH_RESUME_MS 1000

static const struct unix_policy auth_policy = {
	.name = "auth",
};

static struct unix_conn *auth_server_accept(void *arg, int fd,
					    const struct unix_peer *peer)
{
	(void)peer;
	return auth_conn_new(arg, fd);
}

static void auth_server_stop_conn(void *arg, struct unix_conn *uc)
{
	(void)arg;
	auth_conn_stop(auth_conn_of(uc));
}

static void auth_server_sweep(void *arg, struct unix_conn *uc, int64_t now)
{
	(void)arg;
	auth_conn_sweep(auth_conn_of(uc), now);
}

void auth_server_init(struct auth_server *srv, struct service_child *sc,
		      struct auth_db *db)
{
	const struct unix_server_ops ops = {
		.arg = srv,
		.conn_max = AUTH_CONN_MAX,
		.accept_errors = UNIX_ACCEPT_PAUSE_ANY,
		.resume_ms = AUTH_RESUME_MS,
		.stop_ms = AUTH_STOP_MS,
		.sweep_ms = AUTH_SWEEP_MS,
		.accept = auth_server_accept,
		.stop = auth_server_stop_conn,
		.sweep = auth_server_sweep,
	};

	srv->sc = sc;
	srv->db = db;
	unix_server_init(&srv->us, &ops);
	srv->loop = srv->us.loop;
	for (size_t i = 0; i < sc->nlisten; i++)
		unix_server_listen(&srv->us, sc->listen_fds[i], &auth_policy);
	sc->nlisten = 0;	/* the server's now */
}

void auth_server_run(struct auth_server *srv)
{
	unix_server_run(&srv->us);
}

void auth_server_free(struct auth_server *srv)
{
	while (srv->us.conns != NULL)
		auth_conn_close(auth_conn_of(srv->us.conns));
	unix_server_free(&srv->us);
	srv->loop = NULL;
}
