/*
 * auth.h - the parts of postern-auth(8), shared between its files
 *
 *   auth.c         main: start, drop privileges, open the user map, run
 *   auth_db.c      answers: the user map, password hashes, the penalties
 *   auth_server.c  the event loop (daemon/unix_server.h): the listener's
 *                  policy, the idle sweep, stop
 *   auth_conn.c    one client connection: read lines, hold delayed
 *                  answers, write answers in order
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stdint.h>

#include "auth_penalty.h"
#include "proto/authproto.h"
#include "daemon/service_child.h"
#include "daemon/unix_server.h"
#include "util/cdbmap.h"

#define AUTH_CONN_MAX 512		/* concurrent client connections */
#define AUTH_IDLE_MS (300 * 1000)	/* an idle connection is closed */
#define AUTH_SWEEP_MS (30 * 1000)	/* how often idle ones are sought */
#define AUTH_STOP_MS 3000		/* SIGTERM: time to finish answers */
#define AUTH_PENALTY_ENTRIES 4096	/* per table (clients, users) */
#define AUTH_USER_MAP "passwd.cdb"	/* in etc_dir */

struct ev_loop;
struct ev_timer;
struct auth_conn;

struct auth_db {
	struct cdbmap users;
	char *dummy_hash;	/* verified for unknown users */
	struct auth_penalty penalty;
};

/* auth_db.c: open etc_dir/passwd.cdb and make the dummy hash; fatal on
 * failure. */
void auth_db_open(struct auth_db *db, const struct conf *conf);
void auth_db_close(struct auth_db *db);
/* Decide req: the reply line (with LF) is appended to out, and the time
 * it must be held back is stored in *delay_ms_r. 0, or -1 if out is full. */
int auth_db_answer(struct auth_db *db, const struct authproto_request *req,
		   int64_t now_ms, struct str *out, int64_t *delay_ms_r);

struct auth_server {
	struct service_child *sc;
	struct auth_db *db;
	struct unix_server us;	/* listeners, signals, the connections */
	struct ev_loop *loop;	/* us.loop */
};

/* auth_server.c: set up listeners and signals (fatal on failure), run
 * until SIGTERM has been handled, free. */
void auth_server_init(struct auth_server *srv, struct service_child *sc,
		      struct auth_db *db);
void auth_server_run(struct auth_server *srv);
void auth_server_free(struct auth_server *srv);

/* auth_conn.c */
/* A new client on fd: its unix_conn, or NULL (fd closed, logged). */
struct unix_conn *auth_conn_new(struct auth_server *srv, int fd);
/* SIGTERM: send a held answer now, close once written. */
void auth_conn_stop(struct auth_conn *c);
/* Close c at once. */
void auth_conn_close(struct auth_conn *c);
/* Close c if idle since before now_ms - AUTH_IDLE_MS. */
void auth_conn_sweep(struct auth_conn *c, int64_t now_ms);
struct auth_conn *auth_conn_of(struct unix_conn *uc);

#endif
