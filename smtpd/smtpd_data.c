/*
 * smtpd_data - DATA and BDAT: from the client, through smtp_data, to the
 * injector
 *
 * The connection to postern-inject(8) is opened (and the envelope sent)
 * before the 354 reply or at the first BDAT chunk, so a queue that cannot
 * take mail is a 451 before the client sends a byte of the message. Then
 * smtpd writes the Received: header and streams the decoded message; for
 * an authenticated client on submission or smtps the header section is
 * held to add Message-ID: and Date: when missing. The reply to the end of
 * the message comes from one place, data_reply():
 *
 *   250 2.0.0 Ok: queued as ID    the injector has the message on disk
 *   451 4.3.0 reason              the injector failed or is unreachable
 *   554 5.3.4 reason              the injector refused the message
 *   552 5.3.4 message too big     over message_size_limit (read to the end)
 *   550 5.6.11 bare CR ...        a CR without LF (read to the end)
 *
 * A refused message is abandoned with inject_abort(), which leaves nothing
 * in the queue. BDAT (RFC 3030) chunks are read exactly; BDAT without MAIL
 * and RCPT is answered 503 after its chunk was read, and DATA after BDAT
 * is 503 too.
 *
 * BDAT SIZES. The chunk size is the client's word, up to 2^64 - 1, and
 * every byte of a chunk must be read for the session to stay in step
 * with the client (its bytes follow the command at once; RFC 3030 2 has
 * the server accept and discard the chunks already pipelined after a
 * failed BDAT). So:
 *   - a chunk larger than message_size_limit could never be part of an
 *     acceptable message: "552 5.3.4", and the connection is closed at
 *     once, without reading it (reading could take forever);
 *   - a chunk that would take the message's bytes (as sent, CRLF
 *     counted, RFC 1870) past message_size_limit is read and thrown away
 *     (at most message_size_limit bytes, under the data deadline), the
 *     message is abandoned and the chunk answered "552 5.3.4"; later
 *     chunks of that transaction get 503 after being read the same way.
 * Nothing of a chunk is ever held in memory beyond one read block.
 *
 * The injector is fed in 64 KiB chunks; held bytes also go out when the
 * client is slow (smtpd_input.c, "THE INJECTOR'S SILENCE") and at the end
 * of each BDAT chunk that is not the last, since the client may take up
 * to smtpd_timeout to send the next BDAT command.
 */
#include "smtpd.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mail/mail_date.h"
#include "util/log.h"

#define DATA_BLOCK 8192

void smtpd_data_abort(struct smtpd_session *s)
{
	if (s->injecting) {
		inject_abort(&s->ic);
		smtp_data_free(&s->data);
		s->injecting = 0;
	}
	s->held_since_ms = 0;
	s->bdat = 0;
}

/* After writing to the injector: note since when bytes are held. */
static void data_note_held(struct smtpd_session *s)
{
	if (inject_buffered(&s->ic) == 0)
		s->held_since_ms = 0;
	else if (s->held_since_ms == 0)
		s->held_since_ms = smtpd_now_ms();
}

int64_t smtpd_data_flush_due(const struct smtpd_session *s)
{
	if (!s->injecting || s->held_since_ms == 0)
		return -1;
	return s->held_since_ms + SMTPD_INJECT_FLUSH_MS;
}

void smtpd_data_flush(struct smtpd_session *s)
{
	/* a failure is the injector's to explain: inject_commit reads its
	 * answer */
	if (s->injecting && inject_buffered(&s->ic) > 0)
		(void)inject_flush(&s->ic);
	s->held_since_ms = 0;
}

/* RFC 3848 */
static const char *data_proto(const struct smtpd_session *s)
{
	if (!s->esmtp)
		return "SMTP";
	if (s->tls)
		return s->authed ? "ESMTPSA" : "ESMTPS";
	return s->authed ? "ESMTPA" : "ESMTP";
}

static int data_sink_write(void *ctx, const void *p, size_t n)
{
	struct smtpd_session *s = ctx;

	return inject_write(&s->ic, p, n);
}

/* Submission: the client's header section is over; add what it lacks. */
static int data_header_end(void *ctx, const struct smtp_data *d)
{
	struct smtpd_session *s = ctx;
	struct str h = STR_INIT(0);
	unsigned char rnd[6] = { 0 };
	int r;

	if (!d->has_message_id) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			log_warn(s->id, "getrandom: %s", strerror(errno));
		str_appendf(&h, "Message-ID: <%s.%u.%02x%02x%02x%02x%02x%02x@%s>\n",
			    s->id, s->messages, rnd[0], rnd[1], rnd[2], rnd[3],
			    rnd[4], rnd[5], s->srv->conf->hostname);
	}
	if (!d->has_date) {
		str_appends(&h, "Date: ");
		mail_date(&h, time(NULL), MAIL_DATE_LOCAL);
		str_appendc(&h, '\n');
	}
	r = h.len > 0 ? inject_write(&s->ic, h.s, h.len) : 0;
	str_free(&h);
	return r;
}

static int data_received(struct smtpd_session *s)
{
	struct str h = STR_INIT(0);
	int r;

	str_appendf(&h, "Received: from %s ([%s%s])\n\tby %s (postern) with %s",
		    s->helo, strchr(s->ip, ':') != NULL ? "IPv6:" : "", s->ip,
		    s->srv->conf->hostname, data_proto(s));
	if (s->nrcpts == 1)
		str_appendf(&h, "\n\tfor <%s>", s->rcpts[0]);
	str_appends(&h, "; ");
	mail_date(&h, time(NULL), MAIL_DATE_LOCAL);
	str_appendc(&h, '\n');
	r = inject_write(&s->ic, h.s, h.len);
	str_free(&h);
	return r;
}

/* Connect to the injector, send the envelope and Received:. INJECT_OK,
 * or TEMP/PERM with the reason. */
static int data_begin(struct smtpd_session *s, enum smtp_data_mode mode,
		      struct str *reason)
{
	struct smtp_data_sink sink = { data_sink_write, data_header_end, s };
	struct inject_env env;
	int r;

	memset(&env, 0, sizeof(env));
	env.sender = str_c(&s->sender);
	env.rcpts = (const char *const *)s->rcpts;
	env.orcpts = (const char *const *)s->orcpts;
	env.notify = s->notify;
	env.envid = s->envid[0] != '\0' ? s->envid : NULL;
	env.nrcpts = s->nrcpts;
	env.client_ip = s->ip;
	env.helo = s->helo;
	env.auth_user = s->authed ? str_c(&s->auth_user) : NULL;
	env.protocol = data_proto(s);
	env.flags = s->qflags;
	r = inject_begin(&s->ic, str_c(&s->srv->inject_socket), &env,
			 s->srv->timeout_ms, reason);
	if (r != INJECT_OK)
		return r;
	s->injecting = 1;
	smtp_data_init(&s->data, mode, s->srv->conf->message_size_limit,
		       s->srv->mode != SMTPD_MX && s->authed, &sink);
	if (data_received(s) < 0)
		s->data.sink_error = 1;
	data_note_held(s);
	return INJECT_OK;
}

/* Injector text in a reply: printable ASCII only, cut. */
static void data_reason(struct str *out, const struct str *reason)
{
	for (size_t i = 0; i < reason->len && out->len < 200; i++) {
		char c = reason->s[i];

		str_appendc(out, c >= 0x20 && c < 0x7f ? c : '?');
	}
	if (out->len == 0)
		str_appends(out, "queue unavailable, try again later");
}

/* The one mapping of injector results to replies. A reason that starts
 * with an enhanced status code of its class gives the code (5.4.6 for a
 * mail loop, inject.h). */
static void data_reply(struct smtpd_session *s, int status,
		       const struct str *id, const struct str *reason)
{
	struct str text = STR_INIT(0), rest = STR_INIT(0);
	char code[16];
	size_t cl;

	if (status == INJECT_OK) {
		smtp_reply(s, 250, "2.0.0", "Ok: queued as %s", str_c(id));
		return;
	}
	cl = inject_reason_code(str_c(reason), status == INJECT_PERM ? '5'
								  : '4');
	snprintf(code, sizeof(code), "%.*s", (int)(cl > 0 ? cl : 5),
		 cl > 0 ? str_c(reason) : status == INJECT_PERM ? "5.3.4"
								: "4.3.0");
	str_appends(&rest, str_c(reason) + (cl > 0 ? cl + 1 : 0));
	data_reason(&text, &rest);
	str_free(&rest);
	if (status == INJECT_PERM)
		smtp_reply(s, 554, code, "%s", str_c(&text));
	else
		smtp_reply(s, 451, code, "%s", str_c(&text));
	log_warn(s->id, "message from %s not queued: %s", s->ip,
		 str_c(&text));
	str_free(&text);
}

static void data_log_queued(struct smtpd_session *s, const struct str *id,
			    uint64_t size)
{
	struct str e1 = STR_INIT(0), e2 = STR_INIT(0), e3 = STR_INIT(0);
	struct str e4 = STR_INIT(0);

	smtpd_esc(&e4, id->s, id->len);
	log_info(str_c(&e4), "client=%s helo=%s sasl=%s from=<%s> nrcpt=%zu "
		 "size=%" PRIu64 " proto=%s session=%s", s->ip,
		 smtpd_esc(&e1, s->helo, strlen(s->helo)),
		 smtpd_esc(&e2, s->auth_user.s, s->auth_user.len),
		 smtpd_esc(&e3, s->sender.s, s->sender.len), s->nrcpts, size,
		 data_proto(s), s->id);
	str_free(&e1);
	if (e2.s != NULL)		/* the AUTH user */
		explicit_bzero(e2.s, e2.cap);
	str_free(&e2);
	str_free(&e3);
	str_free(&e4);
}

/* The message has been read to its end: commit it or refuse it. */
static void data_finish(struct smtpd_session *s)
{
	struct str id = STR_INIT(0), reason = STR_INIT(0);
	enum smtp_data_result res;
	uint64_t size = s->data.size;
	int status;

	smtp_data_finish(&s->data);
	res = smtp_data_result(&s->data);
	if (res == SMTP_DATA_TOO_BIG || res == SMTP_DATA_BARE_CR) {
		inject_abort(&s->ic);
		if (res == SMTP_DATA_TOO_BIG)
			smtp_reply(s, 552, "5.3.4", "message too big");
		else
			smtp_reply(s, 550, "5.6.11", "bare CR not allowed");
		log_info(s->id, "reject: message from %s: %s size=%" PRIu64,
			 s->ip, res == SMTP_DATA_TOO_BIG ? "too big"
			 : "bare CR", size);
	} else {
		/* a sink error makes the injector's answer the reason */
		status = inject_commit(&s->ic, &id, &reason);
		data_reply(s, status, &id, &reason);
		if (status == INJECT_OK) {
			s->messages++;
			s->junk = 0;	/* mail moved: junk is counted afresh */
			data_log_queued(s, &id, size);
		}
	}
	smtp_data_free(&s->data);
	s->injecting = 0;
	str_free(&id);
	str_free(&reason);
	smtpd_txn_reset(s);
}

/* Read and decode DATA to its end marker; IO_OK or the read error. */
static int data_read_dot(struct smtpd_session *s)
{
	char buf[DATA_BLOCK];
	size_t got, used;
	int r = IO_OK;

	smtpd_data_clock_start(s);
	while (!s->data.done) {
		r = smtpd_read_data(s, buf, sizeof(buf), &got);
		if (r != IO_OK || smtpd_session_stopping) {
			r = r != IO_OK ? r : IO_EOF;
			break;
		}
		used = smtp_data_feed(&s->data, buf, got);
		data_note_held(s);
		smtpd_unread(s, buf + used, got - used);
	}
	smtpd_data_clock_stop(s);
	return r;
}

int smtpd_cmd_data(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	struct str reason = STR_INIT(0);
	int r;

	(void)cmd;
	if (s->bdat) {
		smtp_reply(s, 503, "5.5.1", "DATA not allowed after BDAT");
		return 1;
	}
	if (!s->have_mail || s->nrcpts == 0) {
		smtp_reply(s, s->have_mail ? 554 : 503, "5.5.1",
			   s->have_mail ? "no valid recipients"
			   : "need MAIL command");
		return 1;
	}
	r = data_begin(s, SMTP_DATA_DOT, &reason);
	if (r != INJECT_OK) {
		data_reply(s, r, NULL, &reason);
		str_free(&reason);
		smtpd_txn_reset(s);
		return 0;
	}
	str_free(&reason);
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	r = data_read_dot(s);
	if (r != IO_OK) {
		smtpd_data_abort(s);
		smtpd_session_lost(s, r);
		return 0;
	}
	data_finish(s);
	return 0;
}

/* Read exactly n bytes of a chunk, decoding them if a message is open. */
static int data_read_chunk(struct smtpd_session *s, uint64_t n)
{
	char buf[DATA_BLOCK];
	size_t got;
	int r = IO_OK;

	smtpd_data_clock_start(s);
	while (n > 0) {
		r = smtpd_read_data(s, buf, n < sizeof(buf) ? (size_t)n
				    : sizeof(buf), &got);
		if (r != IO_OK || smtpd_session_stopping) {
			r = r != IO_OK ? r : IO_EOF;
			break;
		}
		if (s->injecting) {
			smtp_data_feed(&s->data, buf, got);
			data_note_held(s);
		}
		n -= got;
	}
	smtpd_data_clock_stop(s);
	return r;
}

/* A chunk that can never fit: refused unread, and the session ends. */
static int bdat_refuse_unread(struct smtpd_session *s, uint64_t size)
{
	uint64_t limit = s->srv->conf->message_size_limit;

	smtp_reply(s, 552, "5.3.4", "BDAT chunk of %llu bytes exceeds the "
		   "message size limit of %llu bytes", (unsigned long long)size,
		   (unsigned long long)limit);
	log_info(s->id, "reject: BDAT chunk from %s: %llu bytes, over "
		 "message_size_limit; closing", s->ip,
		 (unsigned long long)size);
	smtpd_txn_reset(s);
	s->quit = 1;
	s->end_reason = "BDAT chunk too large";
	return 1;
}

/* A chunk that takes the message past the limit: read, thrown away. */
static int bdat_discard(struct smtpd_session *s, uint64_t size)
{
	uint64_t total = s->bdat_octets + size;
	int r;

	smtpd_data_abort(s);
	r = data_read_chunk(s, size);
	if (r != IO_OK) {
		smtpd_session_lost(s, r);
		return 0;
	}
	smtp_reply(s, 552, "5.3.4", "message too big");
	log_info(s->id, "reject: message from %s: too big size>=%llu", s->ip,
		 (unsigned long long)total);
	smtpd_txn_reset(s);
	return 0;
}

int smtpd_cmd_bdat(struct smtpd_session *s, const struct smtp_cmd *cmd)
{
	struct str reason = STR_INIT(0);
	int ready = s->have_mail && s->nrcpts > 0;
	uint64_t limit = s->srv->conf->message_size_limit;
	int status = INJECT_OK, r;

	if (cmd->chunk_size > limit)
		return bdat_refuse_unread(s, cmd->chunk_size);
	if (ready && cmd->chunk_size > limit - s->bdat_octets)
		return bdat_discard(s, cmd->chunk_size);
	if (ready && !s->bdat) {
		status = data_begin(s, SMTP_DATA_BDAT, &reason);
		s->bdat = status == INJECT_OK;
	}
	r = data_read_chunk(s, cmd->chunk_size);
	if (r != IO_OK) {
		str_free(&reason);
		smtpd_data_abort(s);
		smtpd_session_lost(s, r);
		return 0;
	}
	if (!ready) {
		smtp_reply(s, 503, "5.5.1", s->have_mail ? "no valid recipients"
			   : "need MAIL and RCPT commands");
		return 1;
	}
	if (ready)
		s->bdat_octets += cmd->chunk_size;
	if (status != INJECT_OK) {
		/* the transaction ends; its further chunks will get 503 */
		data_reply(s, status, NULL, &reason);
		smtpd_txn_reset(s);
	} else if (cmd->last) {
		data_finish(s);
	} else {
		smtpd_data_flush(s);
		smtp_reply(s, 250, "2.0.0", "%" PRIu64 " octets received",
			   cmd->chunk_size);
	}
	str_free(&reason);
	return 0;
}
