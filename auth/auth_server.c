/*
 * auth_server - postern-auth's event loop: listeners, signals, idle sweep
 *
 * The loop is daemon/unix_server.h's; this file gives it postern-auth's
 * rules. One process, one epoll loop, and a pool of threads that only
 * compute password hashes (auth_hash.h), started once the process has
 * confined itself; their results come back through an eventfd watched
 * by the loop.
 *
 * Two listeners, in the order the master hands them over (services.c):
 *   private/auth         group postern-authc (smtpd, the login
 *                        processes): LOOKUP, VERIFY, LOGIN
 *   private/auth-redeem  group postern-mail (the mailbox side): REDEEM.
 *                        The master gives the socket to that group
 *                        (mode 0660); on top of that a connection whose
 *                        peer (SO_PEERCRED) is not that account (the
 *                        instance's own user when privilege separation is
 *                        off) is closed at once and logged, so that not
 *                        even a process that happens to hold the group can
 *                        redeem tokens.
 * New connections beyond AUTH_CONN_MAX are closed at once without a word
 * (logged at most once a second, with a count). When accept fails in a
 * way that would repeat at once (out of descriptors or memory, or
 * anything unexpected) the listeners rest for a second instead of
 * spinning; a descriptor that is not a listening socket is fatal. SIGTERM
 * and SIGINT arrive through a signalfd: the listeners close, held answers
 * are sent at once (a password check in progress is answered when it is
 * done), every connection closes once its answer is written, and the loop
 * ends when none is left or after AUTH_STOP_MS, whichever comes first
 * (what is left is closed then). SIGHUP retires the process (the
 * master's reload): the listeners close, established connections are
 * served as before (so smtpd and pop3d clients see no drop) until they
 * close or the idle sweep closes them, and the loop ends with the last.
 */
#include "auth.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"

#define AUTH_RESUME_MS 1000

/* The redeem socket has room of its own, so that a flood on the login
 * socket cannot keep a new mailbox-side process from connecting (one
 * connection per process, a few processes across a reload). */
#define AUTH_REDEEM_CONN_MAX 16

static const struct unix_policy auth_login_policy = {
	.name = "auth",
	.id = AUTH_KIND_LOGIN,
	.conn_max = AUTH_CONN_MAX - AUTH_REDEEM_CONN_MAX,
};

static const struct unix_policy auth_redeem_policy = {
	.name = AUTH_REDEEM_SOCKET,
	.id = AUTH_KIND_REDEEM,
	.conn_max = AUTH_REDEEM_CONN_MAX,
};

static struct unix_conn *auth_server_accept(void *arg, int fd,
					    const struct unix_peer *peer)
{
	struct auth_server *srv = arg;

	if (peer->policy->id == AUTH_KIND_REDEEM &&
	    peer->uid != srv->redeem_uid) {
		log_warn(NULL, "%s: refused a connection from pid %ld uid %lu: "
			 "only %s (uid %lu) may redeem login tokens",
			 AUTH_REDEEM_SOCKET, (long)peer->pid,
			 (unsigned long)peer->uid, srv->redeem_account,
			 (unsigned long)srv->redeem_uid);
		close(fd);
		return NULL;
	}
	return auth_conn_new(srv, fd, (enum auth_kind)peer->policy->id, peer);
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

static void auth_server_describe(void *arg, struct str *out)
{
	struct auth_server *srv = arg;

	str_appendf(out, ", %u password check(s) in progress",
		    auth_hash_pending(&srv->hash));
}

static void auth_server_on_hash(void *arg, int fd, unsigned revents)
{
	struct auth_server *srv = arg;

	(void)fd;
	(void)revents;
	auth_hash_collect(&srv->hash);
}

/* The account of the redeem socket's group (services.c): when separated,
 * only it may connect there; otherwise everything runs as one user. */
static void auth_server_redeem_peer(struct auth_server *srv)
{
	const char *account = NULL;
	struct passwd *pw;

	for (const struct service_socket *x = service_sockets;
	     x->service != NULL; x++)
		if (strcmp(x->service, srv->sc->def->name) == 0 &&
		    strcmp(x->name, AUTH_REDEEM_SOCKET) == 0)
			account = x->group;
	if (account == NULL)
		log_fatal("services table: no %s socket for service %s",
			  AUTH_REDEEM_SOCKET, srv->sc->def->name);
	srv->redeem_account = account;
	if (!srv->sc->separated) {
		srv->redeem_uid = getuid();
		return;
	}
	pw = getpwnam(account);
	if (pw == NULL)
		log_fatal("account %s does not exist (run postern init as "
			  "root to create the accounts)", account);
	srv->redeem_uid = pw->pw_uid;
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
		.describe = auth_server_describe,
	};

	if (sc->nlisten != 2)
		log_fatal("expected two listening sockets (private/auth, "
			  "private/%s), got %zu", AUTH_REDEEM_SOCKET,
			  sc->nlisten);
	srv->sc = sc;
	srv->db = db;
	auth_server_redeem_peer(srv);
	unix_server_init(&srv->us, &ops);
	srv->loop = srv->us.loop;
	auth_hash_init(&srv->hash, sc->conf.auth_hash_workers,
		       sc->conf.auth_client_hash_limit, auth_db_skip, db);
	if (ev_fd_add(srv->loop, auth_hash_fd(&srv->hash), EV_READ,
		      auth_server_on_hash, srv) < 0)
		log_fatal("event loop: %s", strerror(errno));
	unix_server_listen(&srv->us, sc->listen_fds[0], &auth_login_policy);
	unix_server_listen(&srv->us, sc->listen_fds[1], &auth_redeem_policy);
	sc->nlisten = 0;	/* the server's now */
}

void auth_server_run(struct auth_server *srv)
{
	auth_hash_start(&srv->hash);
	log_info(NULL, "%u password check thread(s), at most %u per client "
		 "address; login tokens live %llds", srv->hash.workers,
		 srv->hash.client_max,
		 (long long)srv->db->tokens.lifetime_ms / 1000);
	unix_server_run(&srv->us);
}

void auth_server_free(struct auth_server *srv)
{
	while (srv->us.conns != NULL)
		auth_conn_close(auth_conn_of(srv->us.conns));
	ev_fd_del(srv->loop, auth_hash_fd(&srv->hash));
	auth_hash_free(&srv->hash);
	unix_server_free(&srv->us);
	srv->loop = NULL;
}
