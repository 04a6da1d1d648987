/*
 * auth.h - the parts of postern-auth(8), shared between its files
 *
 *   postern-auth.c  main: start, drop privileges, open the user map, run
 *   auth_db.c       answers: the user map, password hashes, penalties,
 *                   login tokens
 *   auth_hash.c     the pool of threads that compute password hashes
 *   auth_token.c    the table of login tokens
 *   auth_server.c   the event loop (daemon/unix_server.h): the two
 *                   listeners and their policies, the idle sweep, stop
 *   auth_conn.c     one client connection: read lines, wait for a
 *                   password check, hold delayed answers, write answers
 *                   in order
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stdint.h>
#include <sys/types.h>

#include "auth_hash.h"
#include "auth_penalty.h"
#include "auth_token.h"
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
/* Login tokens outstanding at most. A token costs a password check
 * (tens of ms on auth_hash_workers threads) and lives
 * auth_token_lifetime (10 s), so even at full speed with 8 threads fewer
 * than 4096 can be alive; when full, the oldest goes (auth_token.h). */
#define AUTH_TOKENS_MAX 4096
/* The second listener (services.c): only the mailbox side's account
 * reaches it, to redeem tokens. */
#define AUTH_REDEEM_SOCKET "auth-redeem"

struct ev_loop;
struct ev_timer;
struct auth_conn;

/* Which socket a connection came through: what it may ask. */
enum auth_kind {
	AUTH_KIND_LOGIN = 1,	/* private/auth: LOOKUP, VERIFY, LOGIN */
	AUTH_KIND_REDEEM = 2,	/* private/auth-redeem: REDEEM */
};

struct auth_db {
	struct cdbmap users;
	char *dummy_hash;	/* verified for unknown users */
	struct auth_penalty penalty;
	struct auth_tokens tokens;
	unsigned client_failure_limit;	/* 0: never refuse early */
	int64_t evicted_log_ms;
};

/* What auth_db_begin() decided. */
enum auth_db_next {
	AUTH_DB_REPLY = 0,	/* the answer is in out (after *delay_ms_r) */
	AUTH_DB_HASH = 1,	/* a password check: *job_r, then finish */
};

/* auth_db.c: open etc_dir/passwd.cdb and make the dummy hash; fatal on
 * failure. */
void auth_db_open(struct auth_db *db, const struct conf *conf);
void auth_db_close(struct auth_db *db);
/* Decide req as far as the event loop can: AUTH_DB_REPLY with the reply
 * line (with LF) appended to out and the time it must be held back in
 * *delay_ms_r; or AUTH_DB_HASH with a new job in *job_r (the password
 * and the stored hash, or the dummy hash for an unknown user) whose result
 * goes to auth_db_finish(). -1 if out is full. */
int auth_db_begin(struct auth_db *db, const struct authproto_request *req,
		  int64_t now_ms, struct str *out, int64_t *delay_ms_r,
		  struct auth_hash_job **job_r,
		  void (*done)(void *arg, struct auth_hash_job *j), void *arg);
/* The answer to req once its job has its result. 0, or -1 if out is
 * full. */
int auth_db_finish(struct auth_db *db, const struct authproto_request *req,
		   const struct auth_hash_job *job, int64_t now_ms,
		   struct str *out, int64_t *delay_ms_r);
/* skip() of the pool: 1 if the job's client has since been penalised
 * past auth_client_failure_limit. */
int auth_db_skip(void *db, const struct auth_hash_job *j);

struct auth_server {
	struct service_child *sc;
	struct auth_db *db;
	struct unix_server us;	/* listeners, signals, the connections */
	struct ev_loop *loop;	/* us.loop */
	struct auth_hash hash;	/* the password-check threads */
	uid_t redeem_uid;	/* the only peer of the redeem socket */
	const char *redeem_account;	/* its name, for the log */
};

/* auth_server.c: set up listeners, signals and the pool's descriptor
 * (fatal on failure), run (the pool's threads start here: after the
 * process has confined itself) until SIGTERM has been handled, free. */
void auth_server_init(struct auth_server *srv, struct service_child *sc,
		      struct auth_db *db);
void auth_server_run(struct auth_server *srv);
void auth_server_free(struct auth_server *srv);

/* auth_conn.c */
/* A new client on fd: its unix_conn, or NULL (fd closed, logged). */
struct unix_conn *auth_conn_new(struct auth_server *srv, int fd,
				enum auth_kind kind,
				const struct unix_peer *peer);
/* SIGTERM: send a held answer now, close once written. */
void auth_conn_stop(struct auth_conn *c);
/* Close c at once. */
void auth_conn_close(struct auth_conn *c);
/* Close c if idle since before now_ms - AUTH_IDLE_MS. */
void auth_conn_sweep(struct auth_conn *c, int64_t now_ms);
struct auth_conn *auth_conn_of(struct unix_conn *uc);
/* 1 while c waits for a password check. */
int auth_conn_hashing(const struct auth_conn *c);

#endif
