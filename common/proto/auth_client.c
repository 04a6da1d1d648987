/*
 * auth_client - talk to the auth service (postern-auth(8))
 *
 * Blocking, for one-client-per-process programs (smtpd, pop3d, imapd
 * before login). Every request is checked field by field before it is
 * sent, and every reply is parsed by authproto before it is believed; a
 * reply that does not parse closes the connection. The password is wiped
 * from our buffers once it has been written.
 */
#include "proto/auth_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/authproto.h"
#include "util/alloc.h"
#include "util/sock.h"

#define AUTH_CLIENT_REASON_MAX 256

void auth_client_init(struct auth_client *ac, const char *socket_path,
		      int timeout_ms)
{
	memset(ac, 0, sizeof(*ac));
	ac->socket_path = xstrdup(socket_path);
	ac->fd = -1;
	ac->timeout_ms = timeout_ms;
	str_init(&ac->reason, AUTH_CLIENT_REASON_MAX);
}

static void auth_client_wipe_output(struct auth_client *ac)
{
	if (ac->io.wbuf.s != NULL)
		explicit_bzero(ac->io.wbuf.s, ac->io.wbuf.cap);
}

static void auth_client_close(struct auth_client *ac)
{
	if (ac->fd < 0)
		return;
	auth_client_wipe_output(ac);
	io_free(&ac->io);
	close(ac->fd);
	ac->fd = -1;
}

void auth_client_free(struct auth_client *ac)
{
	auth_client_close(ac);
	free(ac->socket_path);
	ac->socket_path = NULL;
	str_free(&ac->reason);
}

static int auth_client_open(struct auth_client *ac)
{
	int fd = sock_connect_unix(ac->socket_path);

	if (fd < 0)
		return -1;
	ac->fd = fd;
	io_init(&ac->io, fd, ac->timeout_ms);
	return 0;
}

static int auth_client_send(struct auth_client *ac, const struct str *req)
{
	int r = io_write(&ac->io, req->s, req->len);

	if (r == IO_OK)
		r = io_flush(&ac->io);
	auth_client_wipe_output(ac);
	return r;
}

/* Did the service close the connection under us (idle timeout, restart)? */
static int auth_client_closed(int r)
{
	return r == IO_EOF ||
	       (r == IO_ERR && (errno == EPIPE || errno == ECONNRESET));
}

/* Send req, read one reply line into line (without its LF). 1 done, 0 the
 * service had closed the connection, -1 failure with *reason_r. */
static int auth_client_once(struct auth_client *ac, const struct str *req,
			    struct str *line, const char **reason_r)
{
	int r;

	if (ac->fd < 0 && auth_client_open(ac) < 0) {
		*reason_r = "auth service unreachable";
		return -1;
	}
	r = auth_client_send(ac, req);
	if (r == IO_OK)
		r = io_read_line(&ac->io, line, AUTH_LINE_MAX + 1);
	if (r == IO_OK && line->len > 0 && line->s[line->len - 1] == '\n') {
		str_truncate(line, line->len - 1);
		return 1;
	}
	auth_client_close(ac);
	if (auth_client_closed(r))
		return 0;
	*reason_r = r == IO_TIMEOUT ? "auth service timed out"
				    : "bad reply from the auth service";
	return -1;
}

static int auth_client_tempfail(struct auth_client *ac, const char *prefix,
				const struct authproto_reply *rep,
				const char **reason_r)
{
	str_clear(&ac->reason);
	if (str_appends(&ac->reason, prefix) < 0 ||
	    str_append(&ac->reason, rep->arg, rep->arg_len) < 0)
		str_sets(&ac->reason, "auth service failure");
	*reason_r = str_c(&ac->reason);
	return AUTH_TEMPFAIL;
}

/* What the caller asked for besides the answer. */
struct auth_client_want {
	struct str *canonical_r;	/* may be NULL */
	char *token_r;			/* LOGIN: AUTH_TOKEN_LEN + 1 bytes */
};

static int auth_client_ok(const struct authproto_reply *rep,
			  const struct auth_client_want *w,
			  const char **reason_r)
{
	if (w->canonical_r != NULL &&
	    str_set(w->canonical_r, rep->arg, rep->arg_len) < 0) {
		*reason_r = "canonical address too long";
		return AUTH_TEMPFAIL;
	}
	if (w->token_r == NULL)
		return AUTH_OK;
	if (rep->token_len != AUTH_TOKEN_LEN) {
		*reason_r = "no login token from the auth service";
		return AUTH_TEMPFAIL;
	}
	memcpy(w->token_r, rep->token, AUTH_TOKEN_LEN);
	w->token_r[AUTH_TOKEN_LEN] = '\0';
	return AUTH_OK;
}

static int auth_client_result(struct auth_client *ac,
			      const struct authproto_reply *rep,
			      const struct auth_client_want *w,
			      const char **reason_r)
{
	switch (rep->status) {
	case AUTHPROTO_R_OK:
		return auth_client_ok(rep, w, reason_r);
	case AUTHPROTO_R_NOUSER:
	case AUTHPROTO_R_FAIL:
		return AUTH_NO;
	case AUTHPROTO_R_TEMPFAIL:
		return auth_client_tempfail(ac, "", rep, reason_r);
	case AUTHPROTO_R_ERROR:
		break;
	}
	auth_client_close(ac);
	return auth_client_tempfail(ac, "auth service refused request: ", rep,
				    reason_r);
}

/* Send req (wiped afterwards), retrying once on a closed connection. */
static int auth_client_request(struct auth_client *ac, struct str *req,
			       const struct auth_client_want *w,
			       const char **reason_r)
{
	struct str line = STR_INIT(AUTH_LINE_MAX + 1);
	struct authproto_reply rep;
	int r = 0, ret = AUTH_TEMPFAIL;

	for (int attempt = 0; attempt < 2 && r == 0; attempt++)
		r = auth_client_once(ac, req, &line, reason_r);
	if (req->s != NULL)
		explicit_bzero(req->s, req->cap);
	if (r == 0)
		*reason_r = "auth service closed the connection";
	if (r == 1 && authproto_reply_parse(&rep, line.s, line.len) < 0) {
		auth_client_close(ac);
		*reason_r = "bad reply from the auth service";
	} else if (r == 1) {
		ret = auth_client_result(ac, &rep, w, reason_r);
	}
	/* the reply names the user (and may hold a login token): nothing of
	 * it stays in a reused process */
	if (line.s != NULL)
		explicit_bzero(line.s, line.cap);
	str_free(&line);
	return ret;
}

int auth_lookup(struct auth_client *ac, const char *address,
		struct str *canonical_r, const char **reason_r)
{
	struct str req = STR_INIT(AUTH_LINE_MAX + 1);
	const struct auth_client_want w = { canonical_r, NULL };
	const char *reason = NULL, *error;
	int ret;

	if (authproto_lookup_format(&req, address, &error) < 0) {
		str_free(&req);
		return AUTH_NO;
	}
	ret = auth_client_request(ac, &req, &w, &reason);
	str_free(&req);
	if (reason_r != NULL)
		*reason_r = reason;
	return ret;
}

/* Which fields may the caller have got wrong, and which the user? */
static int auth_verify_user_input_ok(const char *address,
				     const char *password)
{
	return authproto_field_ok(AUTHPROTO_F_ADDRESS, address,
				  strlen(address)) &&
	       authproto_field_ok(AUTHPROTO_F_PASSWORD, password,
				  strlen(password));
}

/* VERIFY or LOGIN (w->token_r set). */
static int auth_password(struct auth_client *ac, const char *service,
			 const char *client_ip, const char *address,
			 const char *password,
			 const struct auth_client_want *w,
			 const char **reason_r)
{
	struct str req = STR_INIT(AUTH_LINE_MAX + 1);
	const char *reason = NULL;
	int ret, r;

	/* sized once, so that no realloc leaves a copy of the password in
	 * freed memory */
	if (str_reserve(&req, AUTH_LINE_MAX) < 0) {
		ret = AUTH_TEMPFAIL;
	} else if (!auth_verify_user_input_ok(address, password)) {
		ret = AUTH_NO;
	} else {
		r = w->token_r != NULL
		    ? authproto_login_format(&req, service, client_ip,
					     address, password, &reason)
		    : authproto_verify_format(&req, service, client_ip,
					      address, password, &reason);
		ret = r < 0 ? AUTH_TEMPFAIL
			    : auth_client_request(ac, &req, w, &reason);
	}
	if (req.s != NULL)
		explicit_bzero(req.s, req.cap);
	str_free(&req);
	if (reason_r != NULL)
		*reason_r = reason;
	return ret;
}

int auth_verify(struct auth_client *ac, const char *service,
		const char *client_ip, const char *address,
		const char *password, struct str *canonical_r,
		const char **reason_r)
{
	const struct auth_client_want w = { canonical_r, NULL };

	return auth_password(ac, service, client_ip, address, password, &w,
			     reason_r);
}

int auth_login(struct auth_client *ac, const char *service,
	       const char *client_ip, const char *address,
	       const char *password, struct str *canonical_r,
	       char token_r[AUTH_TOKEN_LEN + 1], const char **reason_r)
{
	const struct auth_client_want w = { canonical_r, token_r };

	token_r[0] = '\0';
	return auth_password(ac, service, client_ip, address, password, &w,
			     reason_r);
}
