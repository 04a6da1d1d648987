/*
 * auth_db - postern-auth's answers: the user map, password hashes and
 * the failed-login penalties
 *
 * The user map etc_dir/passwd.cdb has the lower-case address as key and
 * the stored hash ("{CRYPT}$y$...") as value; it is refreshed before each
 * lookup, so "postern user add" is seen at once. An unknown user costs a
 * hash computation all the same (against a dummy yescrypt hash made at
 * start with the parameters of new hashes), so the time of an answer does
 * not tell which users exist. Every VERIFY is logged, one line.
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/pwhash.h"
#include "util/str.h"

#define AUTH_LOG_FIELD_MAX 100

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
}

void auth_db_close(struct auth_db *db)
{
	cdbmap_close(&db->users);
	free(db->dummy_hash);
	db->dummy_hash = NULL;
	auth_penalty_free(&db->penalty);
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

static int auth_db_lookup(struct auth_db *db, const char *address,
			  struct str *out)
{
	struct str hash = STR_INIT(0);
	int r = auth_db_find(db, address, &hash);

	if (hash.s != NULL)
		explicit_bzero(hash.s, hash.cap);
	str_free(&hash);
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

/* 1 password right, 0 wrong or unknown user, -1 map unreadable. */
static int auth_db_check(struct auth_db *db,
			 const struct authproto_request *req)
{
	struct str hash = STR_INIT(0), esc = STR_INIT(0);
	const char *error;
	int found = auth_db_find(db, req->address, &hash), r = -1;

	if (found == 0) {
		(void)pwhash_verify(req->password, db->dummy_hash, &error);
		r = 0;
	} else if (found > 0) {
		r = pwhash_verify(req->password, str_c(&hash), &error);
		if (r < 0) {
			log_warn(NULL, "user=%s: malformed password hash: %s",
				 auth_db_escape(&esc, req->address), error);
			r = 0;
		}
	}
	if (hash.s != NULL)
		explicit_bzero(hash.s, hash.cap);
	str_free(&hash);
	str_free(&esc);
	return r;
}

static void auth_db_log(const struct authproto_request *req,
			const char *result, int64_t delay_ms)
{
	struct str s = STR_INIT(0), c = STR_INIT(0), u = STR_INIT(0);

	log_info(NULL, "auth: service=%s client=%s user=%s result=%s "
		 "delay=%lldms", auth_db_escape(&s, req->service),
		 auth_db_escape(&c, req->client_ip),
		 auth_db_escape(&u, req->address), result,
		 (long long)delay_ms);
	str_free(&s);
	str_free(&c);
	str_free(&u);
}

static int auth_db_verify(struct auth_db *db,
			  const struct authproto_request *req,
			  int64_t now_ms, struct str *out, int64_t *delay_ms_r)
{
	int r = auth_db_check(db, req);

	if (r < 0) {
		auth_db_log(req, "tempfail", 0);
		return authproto_reply_format(out, AUTHPROTO_R_TEMPFAIL,
					      "user map unreadable");
	}
	if (r > 0) {
		*delay_ms_r = auth_penalty_delay(&db->penalty, req->client_ip,
						 req->address, now_ms);
		auth_db_log(req, "ok", *delay_ms_r);
		return authproto_reply_format(out, AUTHPROTO_R_OK,
					      req->address);
	}
	*delay_ms_r = auth_penalty_fail(&db->penalty, req->client_ip,
					req->address, now_ms);
	auth_db_log(req, "fail", *delay_ms_r);
	return authproto_reply_format(out, AUTHPROTO_R_FAIL, NULL);
}

int auth_db_answer(struct auth_db *db, const struct authproto_request *req,
		   int64_t now_ms, struct str *out, int64_t *delay_ms_r)
{
	*delay_ms_r = 0;
	if (req->cmd == AUTHPROTO_LOOKUP)
		return auth_db_lookup(db, req->address, out);
	return auth_db_verify(db, req, now_ms, out, delay_ms_r);
}
