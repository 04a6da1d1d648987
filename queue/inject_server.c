/*
 * inject_server - postern-inject's event loop: listeners, signals, sweep
 *
 * The loop is daemon/unix_server.h's; this file gives it postern-inject's
 * rules. One process, one epoll loop, plus the commit thread
 * (inject_commit.c).
 * Two listeners (services.c): private/inject for smtpd, root and the
 * queue manager, at most INJECT_CONN_MAX clients; private/inject-local
 * for sendmail (any local user), at most INJECT_LOCAL_CONN_MAX clients
 * and inject_local_connection_limit from one uid. A client beyond a limit
 * is answered "TEMP too many connections ..." and closed (logged at most
 * once a second, with a count), so a local user can never take the
 * places smtpd needs. When accept
 * runs out of descriptors or memory the listeners rest for a second
 * (any other accept failure is logged; the next round tries again).
 *
 * Signals arrive through a signalfd (they are blocked before the commit
 * thread starts, so it never sees one):
 *   SIGHUP   retire: the listeners close; clients in progress finish; the
 *            loop ends when the last connection has been answered.
 *   SIGTERM, SIGINT  stop: the listeners close; a client still sending
 *            gets "TEMP queue service stopping" and its nameless file
 *            vanishes; messages already complete are committed and
 *            answered; the loop ends when nothing is left, or after
 *            INJECT_STOP_MS whatever is left.
 */
#include "inject_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/event.h"
#include "util/log.h"
#include "util/str.h"

#define INJECT_RESUME_MS 1000

/* The one answer a refused client gets: TEMP, so sendmail exits 75 and
 * smtpd answers 451. */
static void server_refuse(int fd, const struct unix_peer *peer,
			  enum unix_refusal why, unsigned limit)
{
	char line[128];

	if (why == UNIX_REFUSE_UID)
		snprintf(line, sizeof(line), "TEMP\ttoo many connections from "
			 "uid %lu (limit %u)\n", (unsigned long)peer->uid,
			 limit);
	else if (why == UNIX_REFUSE_LISTENER)
		snprintf(line, sizeof(line), "TEMP\ttoo many local "
			 "connections (limit %u)\n", limit);
	else
		snprintf(line, sizeof(line), "TEMP\ttoo many connections\n");
	unix_server_send_line(fd, line);
}

static struct unix_conn *server_accept(void *arg, int fd,
				       const struct unix_peer *peer)
{
	return inject_conn_new(arg, fd, peer);
}

static void server_stop_conn(void *arg, struct unix_conn *uc)
{
	(void)arg;
	inject_conn_stop(inject_conn_of(uc));
}

static void server_sweep(void *arg, struct unix_conn *uc, int64_t now)
{
	(void)arg;
	inject_conn_sweep(inject_conn_of(uc), now);
}

static int server_busy(void *arg)
{
	struct inject_server *srv = arg;

	return srv->commit.inflight > 0;
}

static void server_describe(void *arg, struct str *out)
{
	struct inject_server *srv = arg;

	str_appendf(out, ", %u message(s) being committed",
		    srv->commit.inflight);
}

void inject_server_check_done(struct inject_server *srv)
{
	unix_server_check_done(&srv->us);
}

/* fd 4: private/inject (smtpd, root, DSNs); fd 5: private/inject-local
 * (anyone: sendmail), services.c. Each with its own limits. */
static void server_listeners(struct inject_server *srv)
{
	struct service_child *sc = srv->sc;

	srv->trusted = (struct unix_policy){
		.name = "inject", .conn_max = INJECT_CONN_MAX,
		.refuse = server_refuse,
	};
	srv->public = (struct unix_policy){
		.name = "inject-local", .conn_max = INJECT_LOCAL_CONN_MAX,
		.uid_conn_max = sc->conf.inject_local_connection_limit,
		.refuse = server_refuse,
	};
	for (size_t i = 0; i < sc->nlisten; i++)
		unix_server_listen(&srv->us, sc->listen_fds[i],
				   i == 0 ? &srv->trusted : &srv->public);
	sc->nlisten = 0;	/* the server's now */
}

void inject_server_init(struct inject_server *srv, struct service_child *sc)
{
	const struct unix_server_ops ops = {
		.arg = srv,
		.accept_errors = UNIX_ACCEPT_PAUSE_RESOURCES,
		.resume_ms = INJECT_RESUME_MS,
		.stop_ms = INJECT_STOP_MS,
		.sweep_ms = INJECT_SWEEP_MS,
		.accept = server_accept,
		.stop = server_stop_conn,
		.sweep = server_sweep,
		.busy = server_busy,
		.describe = server_describe,
	};
	const char *error;

	srv->sc = sc;
	srv->size_limit = sc->conf.message_size_limit;
	srv->local_rcpt_limit = sc->conf.inject_local_recipient_limit;
	srv->hop_limit = sc->conf.hopcount_limit;
	srv->idle_ms = (int64_t)sc->conf.smtpd_timeout * 1000 +
		       INJECT_IDLE_MARGIN_MS;
	/* before the commit thread: it must inherit the blocked signals */
	unix_server_init(&srv->us, &ops);
	srv->loop = srv->us.loop;
	if (inject_store_open(&srv->store, &sc->conf, &error) < 0)
		log_fatal("queue: %s", error);
	if (!srv->store.use_tmpfile)
		log_info(NULL, "O_TMPFILE unavailable in %s/tmp: using named "
			 "tmp/ files and rename", sc->conf.queue_dir);
	inject_wake_init(&srv->wake, &sc->conf);
	inject_wake_open(srv);
	server_listeners(srv);
}

void inject_server_run(struct inject_server *srv)
{
	/* here, not in init: started by the confined process, the thread
	 * is confined too (sandbox.h) */
	inject_commit_start(srv);
	unix_server_run(&srv->us);
	log_info(NULL, "exiting: %llu message(s) in %llu commit round(s)",
		 (unsigned long long)srv->commit.messages,
		 (unsigned long long)srv->commit.rounds);
}

void inject_server_free(struct inject_server *srv)
{
	inject_commit_stop(srv);
	if (srv->commit.inflight > 0)
		return;	/* the thread still uses the store: exit() ends it */
	while (srv->us.conns != NULL)
		inject_conn_close(inject_conn_of(srv->us.conns));
	inject_wake_free(srv);
	inject_store_close(&srv->store);
	unix_server_free(&srv->us);
	srv->loop = NULL;
}
