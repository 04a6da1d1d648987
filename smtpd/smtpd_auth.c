/*
 * smtpd_auth - SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN
 *
 * Offered and accepted only under TLS or from a loopback client (538
 * 5.7.11 otherwise), after EHLO, once per session, outside a transaction.
 * The password is checked by postern-auth(8) over queue_dir/private/auth
 * with this service's name and the client address, so its failure delays
 * apply per client and per user; smtpd never sees a hash. Replies:
 *   235 2.7.0  authenticated
 *   535 5.7.8  wrong user or password (counts against smtpd_error_limit)
 *   454 4.7.0  the auth service could not decide (try again later)
 *   501 5.0.0  the client cancelled with "*"; 501 5.5.2 not base64
 * Passwords are wiped from memory once used and never logged.
 */
#include "smtpd.h"

#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/log.h"

int smtpd_auth_offered(const struct smtpd_session *s)
{
	return s->tls || s->loopback;
}

static void auth_wipe(struct str *sb)
{
	if (sb->s != NULL)
		explicit_bzero(sb->s, sb->cap);
	str_free(sb);
}

/* Ask with "334 challenge" and read the answer, base64-decoded, into out.
 * 0; -1 with the reply sent (cancel, bad base64); -2 session lost. */
static int auth_ask(struct smtpd_session *s, const char *challenge,
		    struct str *out)
{
	struct str line = STR_INIT(0);
	size_t len;
	int r;

	smtp_reply(s, 334, NULL, "%s", challenge);
	/* sized once: a realloc would leave a copy behind, unwiped */
	if (str_reserve(&line, SMTPD_AUTH_LINE_MAX) < 0)
		log_panic("AUTH line buffer: out of memory");
	r = smtpd_read_line(s, &line, SMTPD_AUTH_LINE_MAX);
	if (r == IO_TOOLONG) {
		smtp_reply(s, 500, "5.5.6", "authentication exchange line is "
			   "too long");
		auth_wipe(&line);
		return -1;
	}
	if (r != IO_OK || smtpd_session_stopping) {
		auth_wipe(&line);
		smtpd_session_lost(s, r);
		return -2;
	}
	len = line.len;
	while (len > 0 && (line.s[len - 1] == '\n' || line.s[len - 1] == '\r'))
		len--;
	if (len == 1 && line.s[0] == '*') {
		smtp_reply(s, 501, "5.0.0", "authentication cancelled");
		r = -1;
	} else if (base64_decode(out, line.s, len) < 0) {
		smtp_reply(s, 501, "5.5.2", "cannot decode the response");
		r = -1;
	}
	auth_wipe(&line);
	return r;
}

/* The initial response of "AUTH MECH ir" ("" for "="), decoded. */
static int auth_initial(struct smtpd_session *s, const struct smtp_cmd *cmd,
			struct str *out)
{
	if (base64_decode(out, cmd->arg, cmd->arg_len) == 0)
		return 0;
	smtp_reply(s, 501, "5.5.2", "cannot decode the initial response");
	return -1;
}

/* PLAIN: authzid NUL authcid NUL password; authzid empty or authcid. */
static int auth_plain(struct smtpd_session *s, const struct smtp_cmd *cmd,
		      struct str *user, struct str *pass)
{
	struct str msg = STR_INIT(0);
	const char *p, *z1, *z2;
	int r;

	r = cmd->has_initial ? auth_initial(s, cmd, &msg)
			     : auth_ask(s, "", &msg);
	if (r < 0) {
		auth_wipe(&msg);
		return r;
	}
	p = msg.s != NULL ? msg.s : "";
	z1 = memchr(p, '\0', msg.len);
	z2 = z1 != NULL ? memchr(z1 + 1, '\0', msg.len - (size_t)(z1 + 1 - p))
			: NULL;
	if (z2 == NULL || memchr(z2 + 1, '\0', msg.len -
				 (size_t)(z2 + 1 - p)) != NULL ||
	    (z1 != p && ((size_t)(z1 - p) != (size_t)(z2 - z1 - 1) ||
			 strncasecmp(p, z1 + 1, (size_t)(z1 - p)) != 0))) {
		smtp_reply(s, 535, "5.7.8", "Authentication credentials "
			   "invalid");
		auth_wipe(&msg);
		return -1;
	}
	r = str_set(user, z1 + 1, (size_t)(z2 - z1 - 1)) < 0 ||
	    str_set(pass, z2 + 1, msg.len - (size_t)(z2 + 1 - p)) < 0;
	auth_wipe(&msg);
	if (r != 0)
		log_panic("AUTH PLAIN: cannot copy the credentials");
	return 0;
}

static int auth_login(struct smtpd_session *s, const struct smtp_cmd *cmd,
		      struct str *user, struct str *pass)
{
	int r;

	r = cmd->has_initial ? auth_initial(s, cmd, user)
			     : auth_ask(s, "VXNlcm5hbWU6", user);
	if (r == 0)
		r = auth_ask(s, "UGFzc3dvcmQ6", pass);
	return r;
}

static void auth_client_ready(struct smtpd_session *s)
{
	if (s->ac_init)
		return;
	auth_client_init(&s->ac, str_c(&s->srv->auth_socket),
			 SMTPD_AUTH_TIMEOUT_MS);
	s->ac_init = 1;
}

/* Ask postern-auth; reply. 1 if the client erred, else 0. */
static int auth_check(struct smtpd_session *s, const char *mech,
		      const struct str *user, const struct str *pass)
{
	struct str canon = STR_INIT(0), esc = STR_INIT(0);
	const char *reason = NULL;
	int r;

	auth_client_ready(s);
	r = auth_verify(&s->ac, s->srv->sc->def->name, s->ip, str_c(user),
			str_c(pass), &canon, &reason);
	smtpd_esc(&esc, user->s, user->len);
	if (r == AUTH_OK) {
		s->authed = 1;
		if (str_set(&s->auth_user, canon.s, canon.len) < 0)
			log_panic("auth user: cannot copy");
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
		log_info(s->id, "auth: %s user=%s from %s", mech, str_c(&esc),
			 s->ip);
	} else if (r == AUTH_NO) {
		smtp_reply(s, 535, "5.7.8", "Authentication credentials "
			   "invalid");
		log_info(s->id, "auth failed: %s user=%s from %s", mech,
			 str_c(&esc), s->ip);
	} else {
		smtp_reply(s, 454, "4.7.0", "Temporary authentication "
			   "failure");
		log_warn(s->id, "auth: %s user=%s: auth service: %s", mech,
			 str_c(&esc), reason != NULL ? reason : "unavailable");
	}
	auth_wipe(&canon);
	auth_wipe(&esc);
	return r == AUTH_NO;
}

/* 1 if AUTH may not be given now (the reply is sent), else 0. */
static int auth_refused(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	if (!s->esmtp)
		smtp_reply(s, 503, "5.5.1", "send EHLO first");
	else if (!smtpd_auth_offered(s))
		smtp_reply(s, 538, "5.7.11", "Encryption required for "
			   "requested authentication mechanism");
	else if (s->authed)
		smtp_reply(s, 503, "5.5.1", "already authenticated");
	else if (s->have_mail)
		smtp_reply(s, 503, "5.5.1", "AUTH not allowed during a mail "
			   "transaction");
	else if (strcmp(cmd->mech, "PLAIN") != 0 &&
		 strcmp(cmd->mech, "LOGIN") != 0)
		smtp_reply(s, 504, "5.5.4", "unrecognized authentication "
			   "mechanism");
	else
		return 0;
	return 1;
}

int smtpd_cmd_auth(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	struct str user = STR_INIT(0), pass = STR_INIT(0);
	int r, err;

	if (auth_refused(s, cmd))
		return 1;
	if (strcmp(cmd->mech, "PLAIN") == 0)
		r = auth_plain(s, cmd, &user, &pass);
	else
		r = auth_login(s, cmd, &user, &pass);
	if (r == 0)
		err = auth_check(s, cmd->mech, &user, &pass);
	else
		err = r == -1;
	auth_wipe(&user);
	auth_wipe(&pass);
	return err;
}
