/*
 * smtpd_txn - MAIL FROM and RCPT TO: the envelope of one message
 *
 * MAIL needs HELO/EHLO first, and on submission and smtps a successful
 * AUTH (530 5.7.0). A declared SIZE over message_size_limit is refused at
 * once (552 5.3.4, RFC 1870). RCPT goes through smtpd_policy; every
 * refused recipient is logged, one line each.
 *
 * DSN (RFC 3461): RET and ENVID of MAIL and NOTIFY and ORCPT of each RCPT
 * (checked by smtp_cmd with mail/dsn_param.h; 501 5.5.4 when bad) go to
 * the injector with the envelope, in their wire form.
 *
 * A recipient given twice in one transaction is accepted again (250) but
 * kept once, with the DSN parameters of its first RCPT: it counts once against smtpd_recipient_limit and gets one
 * copy of the message. Addresses are compared as formatted (the domain
 * is lower case already); in local_domains the local part is compared
 * without case too, since policy and delivery fold it to one mailbox.
 */
#include "smtpd.h"

#include <string.h>
#include <strings.h>

#include "proto/queue_file.h"

_Static_assert(SMTP_NOTIFY_NEVER == QUEUE_NOTIFY_NEVER &&
	       SMTP_NOTIFY_SUCCESS == QUEUE_NOTIFY_SUCCESS &&
	       SMTP_NOTIFY_FAILURE == QUEUE_NOTIFY_FAILURE &&
	       SMTP_NOTIFY_DELAY == QUEUE_NOTIFY_DELAY &&
	       SMTP_ENVID_MAX == QUEUE_ENVID_MAX,
	       "DSN values differ between smtp_cmd and queue_file");
#include "util/alloc.h"
#include "util/log.h"

int smtpd_cmd_mail(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	if (!s->have_helo) {
		smtp_reply(s, 503, "5.5.1", "send HELO or EHLO first");
		return 1;
	}
	if (s->have_mail) {
		smtp_reply(s, 503, "5.5.1", "nested MAIL command");
		return 1;
	}
	if (s->srv->mode != SMTPD_MX && !s->authed) {
		smtp_reply(s, 530, "5.7.0", "Authentication required");
		return 1;
	}
	if (cmd->body == SMTP_BODY_BINARYMIME) {
		smtp_reply(s, 504, "5.5.4", "BODY=BINARYMIME is not supported");
		return 1;
	}
	if (cmd->has_size && cmd->size > s->srv->conf->message_size_limit) {
		smtp_reply(s, 552, "5.3.4", "message size exceeds the limit "
			   "of %llu bytes",
			   (unsigned long long)s->srv->conf->message_size_limit);
		return 1;
	}
	str_clear(&s->sender);
	if (addr_format(&cmd->addr, &s->sender) < 0)
		log_panic("sender address: cannot format");
	s->have_mail = 1;
	s->smtputf8 = cmd->smtputf8;
	s->qflags = (cmd->body == SMTP_BODY_8BITMIME ? QUEUE_FLAG_8BITMIME : 0)
		| (cmd->smtputf8 ? QUEUE_FLAG_SMTPUTF8 : 0)
		| (cmd->ret == SMTP_RET_FULL ? QUEUE_FLAG_RET_FULL : 0)
		| (cmd->ret == SMTP_RET_HDRS ? QUEUE_FLAG_RET_HDRS : 0);
	cstr_copy(s->envid, sizeof(s->envid), cmd->envid);
	smtp_reply(s, 250, "2.1.0", "Ok");
	return 0;
}

static void txn_log_reject(struct smtpd_session *s, const char *reply,
			   const struct str *rcpt)
{
	struct str e1 = STR_INIT(0), e2 = STR_INIT(0), e3 = STR_INIT(0);

	log_info(s->id, "reject: RCPT from %s: %s; from=<%s> to=<%s> helo=%s",
		 s->ip, reply, smtpd_esc(&e1, s->sender.s, s->sender.len),
		 smtpd_esc(&e2, rcpt->s, rcpt->len),
		 smtpd_esc(&e3, s->helo, strlen(s->helo)));
	str_free(&e1);
	str_free(&e2);
	str_free(&e3);
}

/* Refuse a recipient: the reply and its log line. */
static int txn_refuse(struct smtpd_session *s, enum smtpd_rcpt_verdict v,
		      const struct str *rcpt)
{
	switch (v) {
	case SMTPD_RCPT_UNKNOWN:
		smtp_reply(s, 550, "5.1.1", "<%s>: user unknown", str_c(rcpt));
		txn_log_reject(s, "550 5.1.1 user unknown", rcpt);
		return 1;
	case SMTPD_RCPT_RELAY:
		smtp_reply(s, 554, "5.7.1", "<%s>: relay access denied",
			   str_c(rcpt));
		txn_log_reject(s, "554 5.7.1 relay access denied", rcpt);
		return 1;
	default:
		smtp_reply(s, 451, "4.3.0", "<%s>: temporary lookup failure, "
			   "try again later", str_c(rcpt));
		txn_log_reject(s, "451 4.3.0 lookup failure", rcpt);
		return 0;
	}
}

/* Is rcpt a recipient of this transaction already? */
static int txn_duplicate(const struct smtpd_session *s, const struct addr *a,
			 const struct str *rcpt)
{
	int fold = a->domain_len == 0 ||
		   (!a->is_literal &&
		    conf_domain_is_local(s->srv->conf, a->domain));

	for (size_t i = 0; i < s->nrcpts; i++)
		if (fold ? strcasecmp(s->rcpts[i], str_c(rcpt)) == 0
			 : strcmp(s->rcpts[i], str_c(rcpt)) == 0)
			return 1;
	return 0;
}

/* Keep an accepted recipient with its DSN NOTIFY and ORCPT. */
static void txn_add(struct smtpd_session *s, struct str *rcpt,
		    const struct smtp_cmd *cmd)
{
	size_t n = s->nrcpts + 1;

	s->rcpts = xreallocarray(s->rcpts, n, sizeof(*s->rcpts));
	s->orcpts = xreallocarray(s->orcpts, n, sizeof(*s->orcpts));
	s->notify = xreallocarray(s->notify, n, sizeof(*s->notify));
	s->rcpts[s->nrcpts] = str_steal(rcpt);
	s->orcpts[s->nrcpts] = cmd->orcpt[0] != '\0' ? xstrdup(cmd->orcpt)
						      : NULL;
	s->notify[s->nrcpts] = cmd->notify;
	s->nrcpts++;
}

int smtpd_cmd_rcpt(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	struct str rcpt = STR_INIT(0);
	enum smtpd_rcpt_verdict v;
	int err = 0;

	if (!s->have_mail || s->bdat) {
		smtp_reply(s, 503, "5.5.1", s->bdat ? "RCPT not allowed "
			   "during BDAT" : "need MAIL command");
		return 1;
	}
	v = smtpd_policy_rcpt(s, &cmd->addr, &rcpt);
	if (v == SMTPD_RCPT_OK && txn_duplicate(s, &cmd->addr, &rcpt)) {
		smtp_reply(s, 250, "2.1.5", "Ok (duplicate recipient)");
	} else if (v == SMTPD_RCPT_OK && s->nrcpts >= s->srv->rcpt_limit) {
		smtp_reply(s, 452, "4.5.3", "too many recipients");
	} else if (v == SMTPD_RCPT_OK) {
		txn_add(s, &rcpt, cmd);
		smtp_reply(s, 250, "2.1.5", "Ok");
	} else {
		err = txn_refuse(s, v, &rcpt);
	}
	str_free(&rcpt);
	return err;
}
