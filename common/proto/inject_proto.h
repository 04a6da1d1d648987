/*
 * inject_proto - the injection protocol of inject.h, parsed and formatted
 *
 * The injector's side is a byte-stream parser: the caller hands it
 * whatever arrived on the socket and gets back events, in order:
 *
 *   INJECT_EV_MORE      everything given was consumed; read more
 *   INJECT_EV_RCPT      a recipient: p->rcpt_addr (and p->rcpt_orig, or
 *                       NULL, and p->rcpt_notify, or 0), valid until the
 *                       next call; at the first one the head fields of
 *                       p->env (sender, client, HELO, login, protocol,
 *                       flags, envid) are final
 *   INJECT_EV_ENVELOPE  "DATA" was read: the envelope is complete and
 *                       p->nrcpts recipients were handed back
 *   INJECT_EV_BODY      message bytes (*data_r, *len_r point into the input)
 *   INJECT_EV_END       the "0" chunk was read: the message is complete
 *   INJECT_EV_ERROR     the request is refused; p->error says why (PERM)
 *
 * After END or ERROR the parser consumes nothing more. Nothing is copied
 * but envelope lines (at most INJECT_LINE_MAX bytes each); message bytes
 * are handed back as pointers into the caller's buffer, and recipients
 * one at a time, so the parser holds at most one recipient whatever
 * their number.
 *
 * What is refused (each with a precise reason): a line longer than
 * INJECT_LINE_MAX, any byte below 0x20 or 0x7f in a line, a field longer
 * than QUEUE_TEXT_MAX, a first line other than SENDER, an unknown or
 * repeated keyword, a keyword without its TAB, CLIENT, HELO, AUTH, PROTO,
 * FLAGS or ENVID after a recipient, an empty RCPT, more recipients than
 * the limit given to inject_proto_init, an ORCPT or NOTIFY not followed by
 * its RCPT (or given twice for one), FLAGS that are not a decimal subset
 * of QUEUE_FLAG_ALL or set both RET flags, an ENVID that is not 1 to
 * QUEUE_ENVID_MAX bytes of 0x21..0x7e, a NOTIFY that is not a decimal
 * queue_notify_ok() value, DATA without a RCPT,
 * a chunk length that is not a plain decimal up to INJECT_CHUNK_MAX, and a
 * message over the size limit.
 *
 * For a local submission (inject_proto_init with local = 1) CLIENT, HELO
 * and AUTH are checked and then ignored, and PROTO is set to "local" (at
 * the first recipient).
 *
 * The client's side: inject_proto_field_ok() and inject_proto_envelope()
 * build the request lines, refusing what the injector would refuse.
 */
#ifndef POSTERN_INJECT_PROTO_H
#define POSTERN_INJECT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto/inject.h"
#include "proto/queue_file.h"
#include "util/str.h"

enum inject_event {
	INJECT_EV_MORE = 0,
	INJECT_EV_ENVELOPE,
	INJECT_EV_BODY,
	INJECT_EV_END,
	INJECT_EV_ERROR,
	INJECT_EV_RCPT,
};

enum inject_pstate {
	INJECT_PS_FIRST = 0,	/* expecting SENDER */
	INJECT_PS_ENVELOPE,	/* expecting RCPT ... DATA */
	INJECT_PS_CHUNK_LEN,	/* expecting a chunk length line */
	INJECT_PS_CHUNK,	/* inside a chunk */
	INJECT_PS_DONE,		/* END or ERROR was returned */
};

struct inject_proto {
	enum inject_pstate state;
	int local;		/* local submission: see above */
	uint64_t size_limit;	/* largest message, 0 for QUEUE_MESSAGE_MAX */
	uint64_t size;		/* message bytes so far */
	size_t rcpt_limit;	/* most recipients */
	size_t nrcpts;		/* recipients handed back */
	size_t chunk_left;
	unsigned seen;		/* optional keywords already given */
	char *orcpt;		/* an ORCPT waiting for its RCPT */
	unsigned notify;	/* a NOTIFY waiting for its RCPT, or 0 */
	char *rcpt_addr;	/* INJECT_EV_RCPT: the recipient */
	char *rcpt_orig;	/* ... and its original, or NULL */
	unsigned rcpt_notify;	/* ... and its NOTIFY, or 0 */
	struct str line;	/* partial line */
	struct queue_env env;	/* the head only: no recipients; arrival is
				 * left for the caller */
	char error[160];
};

/* size_limit 0: QUEUE_MESSAGE_MAX; rcpt_limit 0: QUEUE_RCPT_MAX. */
void inject_proto_init(struct inject_proto *p, int local,
		       uint64_t size_limit, size_t rcpt_limit);
void inject_proto_free(struct inject_proto *p);
/*
 * Consume a prefix of buf[0..n): *used_r says how much. Returns the event;
 * for INJECT_EV_BODY, *data_r and *len_r are the message bytes (inside buf).
 * Call again with the rest until INJECT_EV_MORE (all consumed) or a final
 * event.
 */
enum inject_event inject_proto_next(struct inject_proto *p, const char *buf,
				    size_t n, size_t *used_r,
				    const char **data_r, size_t *len_r);

/* A field the protocol can carry: no byte below 0x20 or 0x7f, at most
 * QUEUE_TEXT_MAX bytes, not empty unless allow_empty. 1 or 0. */
int inject_proto_field_ok(const char *s, int allow_empty);
/* Append the request lines of env, up to and including "DATA\n", to out.
 * 0, or -1 with *error_r (a static text) if a field would be refused. */
int inject_proto_envelope(const struct inject_env *env, struct str *out,
			  const char **error_r);
/* Parse an answer line (without LF): INJECT_OK/TEMP/PERM with the id or
 * reason in text_r; -1 if the line is not an answer. */
int inject_proto_answer(const char *line, size_t len, struct str *text_r);

#endif
