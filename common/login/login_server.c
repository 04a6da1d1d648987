/*
 * login_server - the accept loop of a login program, and the start and
 *                end of each connection process (login.h)
 *
 * The fork-per-connection acceptor is daemon/session_server.c; each
 * connection lives in its own process, which after a login either exits
 * (plaintext: the socket itself went to the mailbox side) or stays as the
 * TLS proxy. The parent counts those processes against process_limit and
 * per client address against client_limit; a client over either gets the
 * protocol's line (nothing on implicit TLS, where a clear-text line would
 * not be understood) and is closed. Signals: see session_server.h.
 */
#include "login/login.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/session_server.h"
#include "util/log.h"
#include "util/sock.h"
#include "util/tls.h"

_Static_assert(LOGIN_IP_MAX + 1 >= SESSION_IP_MAX,
	       "a session's client address fits the login's buffers");

volatile sig_atomic_t login_stopping;

void login_init(struct login *lg, struct service_child *sc,
		const struct login_protocol *proto,
		const struct login_settings *set, void *proto_arg)
{
	const struct conf *c = &sc->conf;
	struct str name = STR_INIT(0);

	memset(lg, 0, sizeof(*lg));
	lg->sc = sc;
	lg->proto = proto;
	lg->set = *set;
	lg->proto_arg = proto_arg;
	lg->implicit_tls = (sc->def->flags & SERVICE_TLS_IMPLICIT) != 0;
	str_init(&lg->auth_socket, 0);
	str_init(&lg->handover_socket, 0);
	if (str_appendf(&name, "private/%s", proto->name) < 0 ||
	    conf_queue_path(c, "private/auth", &lg->auth_socket) < 0 ||
	    conf_queue_path(c, str_c(&name), &lg->handover_socket) < 0)
		log_fatal("queue_dir %s: path too long", c->queue_dir);
	str_free(&name);
}

void login_free(struct login *lg)
{
	if (lg->tls != NULL)
		SSL_CTX_free(lg->tls);
	lg->tls = NULL;
	str_free(&lg->auth_socket);
	str_free(&lg->handover_socket);
}

static int login_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

static void login_conn_init(struct login_conn *c, struct login *lg, int fd,
			    const char *ip)
{
	struct timespec ts;

	memset(c, 0, sizeof(*c));
	c->lg = lg;
	c->fd = fd;
	if (cstr_copy(c->ip, sizeof(c->ip), ip) < 0)
		log_panic("client address too long");
	c->loopback = login_is_loopback(ip);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(c->id, sizeof(c->id), "%lx%05lx", (unsigned long)ts.tv_sec,
		 (unsigned long)getpid() & 0xfffff);
	io_init(&c->io, fd, lg->set.timeout_ms);
	session_stop_on(SIGTERM, &login_stopping, fd);
	session_stop_on(SIGINT, &login_stopping, fd);
}

/* One connection, in its own process: never returns. */
static _Noreturn void login_conn_main(struct login *lg, int fd,
				      const char *ip)
{
	static struct login_conn c;
	const char *error;

	login_conn_init(&c, lg, fd, ip);
	if (sock_nodelay(fd) < 0)	/* kept by the socket after hand-over */
		log_warn(c.id, "TCP_NODELAY: %s", strerror(errno));
	log_info(c.id, "connect from %s", ip);
	if (lg->implicit_tls) {
		if (io_tls_server(&c.io, lg->tls, &error) < 0) {
			log_info(c.id, "TLS handshake with %s failed: %s", ip,
				 error);
			_exit(0);
		}
		c.tls = 1;
	}
	lg->proto->run(&c);
	if (c.token[0] != '\0')
		login_conn_handover(&c);
	io_flush(&c.io);
	log_info(c.id, "disconnect from %s: no login, bad=%u", ip, c.bad);
	if (c.ac_init)
		auth_client_free(&c.ac);
	io_free(&c.io);
	_exit(0);
}

static void login_server_session(void *arg, int fd, const char *ip)
{
	login_conn_main(arg, fd, ip);
}

void login_server_run(struct login *lg)
{
	const struct session_clients cl = {
		.total_max = lg->set.process_limit,
		.per_client_max = lg->set.client_limit,
		.silent = lg->implicit_tls,
		.busy_reply = lg->proto->busy_reply,
		.busy_why = lg->proto->busy_why,
		.client_reply = lg->proto->client_reply,
		.client_why = lg->proto->client_why,
		.fork_reply = lg->proto->busy_reply,
		.session = login_server_session,
		.arg = lg,
		.session_sandbox = lg->session_sandbox,
	};

	session_server_run_clients(lg->sc, &cl);
}
