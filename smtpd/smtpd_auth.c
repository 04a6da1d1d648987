/*
 * smtpd_auth - SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN
 *
 * Offered and accepted only under TLS or from a loopback client (538
 * 5.7.11 otherwise), after EHLO, once per session, outside a transaction.
 * The exchange itself (decoding, the mechanisms' grammars, cancel) is
 * common/mail/sasl.h, shared with every login; this file reads the
 * lines and maps the results to replies. The password is checked by
 * postern-auth(8) over queue_dir/private/auth with this service's name
 * and the client address, so its failure delays apply per client and per
 * user; smtpd never sees a hash. Replies:
 *   235 2.7.0  authenticated
 *   535 5.7.8  wrong user or password, or credentials that cannot be
 *              right (a malformed PLAIN message, an empty field; counts
 *              against smtpd_error_limit)
 *   454 4.7.0  the auth service could not decide (try again later)
 *   501 5.0.0  the client cancelled with "*"; 501 5.5.2 not base64
 *   500 5.5.6  an answer line over SMTPD_AUTH_LINE_MAX
 * Passwords are wiped from memory once used and never logged.
 */
#include "smtpd.h"

#include <string.h>

#include "mail/sasl.h"
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

/* Send the challenge "334 challenge", read the answer and take it. A
 * sasl result, or -10 when the line was too long (reply sent), -11 when
 * the session is lost. */
static int auth_ask(struct smtpd_session *s, struct sasl *sa)
{
	struct str line = STR_INIT(0);
	int r;

	smtp_reply(s, 334, NULL, "%s", sa->challenge);
	/* sized once: a realloc would leave a copy behind, unwiped */
	if (str_reserve(&line, SMTPD_AUTH_LINE_MAX) < 0)
		log_panic("AUTH line buffer: out of memory");
	r = smtpd_read_line(s, &line, SMTPD_AUTH_LINE_MAX);
	if (r == IO_TOOLONG) {
		smtp_reply(s, 500, "5.5.6", "authentication exchange line is "
			   "too long");
		auth_wipe(&line);
		return -10;
	}
	if (r != IO_OK || smtpd_session_stopping) {
		auth_wipe(&line);
		smtpd_session_lost(s, r);
		return -11;
	}
	r = sasl_step(sa, line.s, line.len);
	auth_wipe(&line);
	return r;
}

/* Run the exchange to its end. 0 credentials in sa; 1 the client erred
 * (reply sent); -1 the session is lost. */
static int auth_exchange(struct smtpd_session *s, const struct smtp_cmd *cmd,
			 struct sasl *sa)
{
	int r = sasl_start(sa, cmd->mech, cmd->has_initial ? cmd->arg : NULL,
			   cmd->has_initial ? cmd->arg_len : 0);

	if (r == SASL_BAD_BASE64) {
		smtp_reply(s, 501, "5.5.2", "cannot decode the initial "
			   "response");
		return 1;
	}
	while (r == SASL_CONTINUE)
		r = auth_ask(s, sa);
	switch (r) {
	case SASL_DONE:
		return 0;
	case SASL_CANCELLED:
		smtp_reply(s, 501, "5.0.0", "authentication cancelled");
		return 1;
	case SASL_BAD_BASE64:
		smtp_reply(s, 501, "5.5.2", "cannot decode the response");
		return 1;
	case -10:
		return 1;
	case -11:
		return -1;
	default:
		smtp_reply(s, 535, "5.7.8", "Authentication credentials "
			   "invalid");
		return 1;
	}
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
		      const struct sasl *sa)
{
	struct str canon = STR_INIT(0), esc = STR_INIT(0);
	const char *reason = NULL;
	int r;

	auth_client_ready(s);
	r = auth_verify(&s->ac, s->srv->sc->def->name, s->ip, sa->user,
			sa->pass, &canon, &reason);
	smtpd_esc(&esc, sa->user, sa->user_len);
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
	else if (!sasl_mech_known(cmd->mech))
		smtp_reply(s, 504, "5.5.4", "unrecognized authentication "
			   "mechanism");
	else
		return 0;
	return 1;
}

int smtpd_cmd_auth(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	struct sasl sa;
	int r, err;

	if (auth_refused(s, cmd))
		return 1;
	r = auth_exchange(s, cmd, &sa);
	if (r == 0)
		err = auth_check(s, cmd->mech, &sa);
	else
		err = r > 0;
	sasl_free(&sa);
	return err;
}
