/*
 * auth_db - postern-auth's answers: the user map, password hashes, the
 * failed-login penalties and the login tokens
 *
 * The user map etc_dir/passwd.cdb has the lower-case address as key and
 * the stored hash ("{CRYPT}$y$...") as value; it is refreshed before each
 * lookup, so "postern user add" is seen at once. An unknown user costs a
 * hash computation all the same (against a dummy yescrypt hash made at
 * start with the parameters of new hashes), so the time of an answer does
 * not tell which users exist.
 *
 * VERIFY and LOGIN go in two steps. auth_db_begin() runs on the event
 * loop: a client address already past auth_client_failure_limit recent
 * failures is refused there, without a password check (TEMPFAIL, held as
 * long as a failure would be); otherwise the stored hash is looked up and
 * a job is made for the pool of hash threads (auth_hash.h), which checks
 * the limit once more just before it computes (auth_db_skip). When the
 * job is back, auth_db_finish() counts a failure or issues the LOGIN's
 * token, and makes the answer. Every VERIFY and LOGIN is logged, one
 * line; so is every token issued, redeemed or refused (by its first
 * LOGIN_TOKEN_ID_LEN hex digits, never whole).
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/login_handover.h"
#include "util/event.h"
#include "util/log.h"
#include "util/pwhash.h"
#include "util/str.h"

#define AUTH_LOG_FIELD_MAX 100
#define AUTH_EVICTED_LOG_MS 10000

void auth_db_open(struct auth_db *db, const struct conf *conf)
{
	struct str path = STR_INIT(0), hash = STR_INIT(0);
	const char *error;

	memset(db, 0, sizeof(*db));
	if (conf_etc_path(conf, AUTH_USER_MAP, &path) < 0)
		log_fatal("user map path too long");
	if (cdbmap_open(&db->users, str_c(&path), &error) < 0)
		log_fatal("user map %s: %s", str_c(&path), error);
	str_free(&path);
	if (pwhash_init() < 0)
		log_fatal("cannot initialise OpenSSL");
	if (pwhash_create("postern-auth dummy password", &hash, &error) < 0)
		log_fatal("cannot make the dummy password hash: %s", error);
	db->dummy_hash = str_steal(&hash);
	auth_penalty_init(&db->penalty, AUTH_PENALTY_ENTRIES,
			  (int64_t)conf->auth_failure_delay * 1000,
			  (int64_t)conf->auth_failure_delay_max * 1000,
			  (int64_t)conf->auth_failure_window * 1000);
	auth_tokens_init(&db->tokens, AUTH_TOKENS_MAX,
			 (int64_t)conf->auth_token_lifetime * 1000);
	db->client_failure_limit = conf->auth_client_failure_limit;
}

void auth_db_close(struct auth_db *db)
{
	cdbmap_close(&db->users);
	free(db->dummy_hash);
	db->dummy_hash = NULL;
	auth_penalty_free(&db->penalty);
	auth_tokens_free(&db->tokens);
}

/* 1 found (stored hash in hash_r), 0 unknown user, -1 map unreadable. */
static int auth_db_find(struct auth_db *db, const char *address,
			struct str *hash_r)
{
	const char *error;
	int r;

	if (cdbmap_refresh(&db->users, &error) < 0) {
		log_warn(NULL, "user map %s: %s", db->users.path, error);
		return -1;
	}
	r = cdbmap_lookup(&db->users, address, strlen(address), hash_r);
	if (r < 0)
		log_warn(NULL, "user map %s: read error: %s", db->users.path,
			 strerror(errno));
	return r;
}

static void auth_db_wipe(struct str *s)
{
	if (s->s != NULL)
		explicit_bzero(s->s, s->cap);
	str_free(s);
}

static int auth_db_lookup(struct auth_db *db, const char *address,
			  struct str *out)
{
	struct str hash = STR_INIT(0);
	int r = auth_db_find(db, address, &hash);

	auth_db_wipe(&hash);
	if (r < 0)
		return authproto_reply_format(out, AUTHPROTO_R_TEMPFAIL,
					      "user map unreadable");
	if (r == 0)
		return authproto_reply_format(out, AUTHPROTO_R_NOUSER, NULL);
	return authproto_reply_format(out, AUTHPROTO_R_OK, address);
}

static const char *auth_db_escape(struct str *buf, const char *s)
{
	str_clear(buf);
	log_escape(buf, s, strlen(s), AUTH_LOG_FIELD_MAX);
	return str_c(buf);
}

static const char *auth_db_verb(const struct authproto_request *req)
{
	return req->cmd == AUTHPROTO_LOGIN ? "login" : "verify";
}

static void auth_db_log(const struct authproto_request *req,
			const char *result, int64_t delay_ms,
			const char *token)
{
	struct str s = STR_INIT(0), c = STR_INIT(0), u = STR_INIT(0);
	char id[LOGIN_TOKEN_ID_LEN + 1];

	log_info(NULL, "auth: %s service=%s client=%s user=%s result=%s "
		 "delay=%lldms%s%s", auth_db_verb(req),
		 auth_db_escape(&s, req->service),
		 auth_db_escape(&c, req->client_ip),
		 auth_db_escape(&u, req->address), result,
		 (long long)delay_ms, token != NULL ? " token=" : "",
		 token != NULL ? login_handover_token_id(token, id) : "");
	str_free(&s);
	str_free(&c);
	str_free(&u);
}

/* The recent failures from this client address when they are at the
 * limit or past it, else 0 (so it reads as "over the limit?" too). */
static unsigned auth_db_over_limit(struct auth_db *db, const char *client_ip,
				   int64_t now_ms)
{
	unsigned n;

	if (db->client_failure_limit == 0)
		return 0;
	n = auth_penalty_client_count(&db->penalty, client_ip, now_ms);
	return n >= db->client_failure_limit ? n : 0;
}

/* The early refusal of a client with n recent failures: no password
 * check, the longest delay. */
static int auth_db_refuse(struct auth_db *db,
			  const struct authproto_request *req, unsigned n,
			  struct str *out, int64_t *delay_ms_r)
{
	*delay_ms_r = auth_penalty_delay_for(&db->penalty, n + 1);
	auth_db_log(req, "refused", *delay_ms_r, NULL);
	return authproto_reply_format(out, AUTHPROTO_R_TEMPFAIL,
				      "too many failed logins from this "
				      "address; try again later");
}

int auth_db_skip(void *arg, const struct auth_hash_job *j)
{
	struct auth_db *db = arg;

	return auth_db_over_limit(db, j->client_ip, clock_ms());
}

static void auth_db_evicted(struct auth_db *db, int64_t now_ms)
{
	unsigned n;

	if (now_ms - db->evicted_log_ms < AUTH_EVICTED_LOG_MS)
		return;
	n = auth_tokens_evicted(&db->tokens);
	if (n == 0)
		return;
	db->evicted_log_ms = now_ms;
	log_warn(NULL, "token table full (%d): %u unredeemed token(s) "
		 "dropped to make room", AUTH_TOKENS_MAX, n);
}

/* The answer to a REDEEM (only ever asked on the redeem socket). */
static int auth_db_redeem(struct auth_db *db,
			  const struct authproto_request *req, int64_t now_ms,
			  struct str *out)
{
	char address[AUTHPROTO_ADDRESS_MAX + 1], id[LOGIN_TOKEN_ID_LEN + 1];
	struct str s = STR_INIT(0), c = STR_INIT(0), u = STR_INIT(0);
	enum auth_token_verdict v;
	int r;

	v = auth_token_redeem(&db->tokens, req->service, req->client_ip,
			      req->token, now_ms, address);
	login_handover_token_id(req->token, id);
	if (v == AUTH_TOKEN_OK)
		log_info(NULL, "token: redeemed id=%s service=%s client=%s "
			 "user=%s", id, auth_db_escape(&s, req->service),
			 auth_db_escape(&c, req->client_ip),
			 auth_db_escape(&u, address));
	else
		log_warn(NULL, "token: refused id=%s service=%s client=%s "
			 "reason=%s", id, auth_db_escape(&s, req->service),
			 auth_db_escape(&c, req->client_ip),
			 auth_token_verdict_name(v));
	str_free(&s);
	str_free(&c);
	str_free(&u);
	r = v == AUTH_TOKEN_OK
	    ? authproto_reply_format(out, AUTHPROTO_R_OK, address)
	    : authproto_reply_format(out, AUTHPROTO_R_FAIL, NULL);
	explicit_bzero(address, sizeof(address));
	return r;
}

int auth_db_begin(struct auth_db *db, const struct authproto_request *req,
		  int64_t now_ms, struct str *out, int64_t *delay_ms_r,
		  struct auth_hash_job **job_r,
		  void (*done)(void *arg, struct auth_hash_job *j), void *arg)
{
	struct str hash = STR_INIT(0);
	unsigned over;
	int found;

	*delay_ms_r = 0;
	*job_r = NULL;
	if (req->cmd == AUTHPROTO_LOOKUP)
		return auth_db_lookup(db, req->address, out);
	if (req->cmd == AUTHPROTO_REDEEM)
		return auth_db_redeem(db, req, now_ms, out);
	over = auth_db_over_limit(db, req->client_ip, now_ms);
	if (over > 0)
		return auth_db_refuse(db, req, over, out, delay_ms_r);
	found = auth_db_find(db, req->address, &hash);
	if (found < 0) {
		auth_db_wipe(&hash);
		auth_db_log(req, "tempfail", 0, NULL);
		return authproto_reply_format(out, AUTHPROTO_R_TEMPFAIL,
					      "user map unreadable");
	}
	*job_r = auth_hash_job_new(req->client_ip, req->password,
				   found > 0 ? str_c(&hash) : db->dummy_hash,
				   done, arg);
	(*job_r)->tag = found;		/* 0: an unknown user, the dummy */
	auth_db_wipe(&hash);
	return AUTH_DB_HASH;
}

/* The password was right: OK (with a token for LOGIN). */
static int auth_db_ok(struct auth_db *db, const struct authproto_request *req,
		      int64_t now_ms, struct str *out, int64_t *delay_ms_r)
{
	char token[AUTH_TOKEN_LEN + 1];
	int r;

	*delay_ms_r = auth_penalty_delay(&db->penalty, req->client_ip,
					 req->address, now_ms);
	if (req->cmd != AUTHPROTO_LOGIN) {
		auth_db_log(req, "ok", *delay_ms_r, NULL);
		return authproto_reply_format(out, AUTHPROTO_R_OK,
					      req->address);
	}
	if (auth_token_issue(&db->tokens, req->service, req->client_ip,
			     req->address, now_ms, token) < 0) {
		log_warn(NULL, "token: cannot make one: %s", strerror(errno));
		auth_db_log(req, "tempfail", 0, NULL);
		*delay_ms_r = 0;
		return authproto_reply_format(out, AUTHPROTO_R_TEMPFAIL,
					      "no login token");
	}
	auth_db_evicted(db, now_ms);
	auth_db_log(req, "ok", *delay_ms_r, token);
	r = authproto_reply_format_login(out, req->address, token);
	explicit_bzero(token, sizeof(token));
	return r;
}

int auth_db_finish(struct auth_db *db, const struct authproto_request *req,
		   const struct auth_hash_job *job, int64_t now_ms,
		   struct str *out, int64_t *delay_ms_r)
{
	struct str esc = STR_INIT(0);
	int r = job->result;

	*delay_ms_r = 0;
	if (r == AUTH_HASH_SKIPPED)
		return auth_db_refuse(db, req, auth_penalty_client_count(
				&db->penalty, req->client_ip, now_ms),
				out, delay_ms_r);
	if (r < 0) {
		log_warn(NULL, "user=%s: malformed password hash: %s",
			 auth_db_escape(&esc, req->address),
			 job->error != NULL ? job->error : "unknown");
		r = 0;
	}
	str_free(&esc);
	if (r > 0 && job->tag > 0)
		return auth_db_ok(db, req, now_ms, out, delay_ms_r);
	*delay_ms_r = auth_penalty_fail(&db->penalty, req->client_ip,
					req->address, now_ms);
	auth_db_log(req, "fail", *delay_ms_r, NULL);
	return authproto_reply_format(out, AUTHPROTO_R_FAIL, NULL);
}
