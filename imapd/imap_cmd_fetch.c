/*
 * imap_cmd_fetch - FETCH and UID FETCH (RFC 9051 6.4.5, RFC 3501 6.4.5),
 *                  with BINARY (RFC 3516), CONDSTORE's MODSEQ and
 *                  CHANGEDSINCE, QRESYNC's VANISHED (RFC 7162)
 *
 * The items are imap_fetch_parse()'s (imap_fetch_parse.h: its GRAMMAR).
 * Every size is that of the CRLF form, whatever line ends the file has.
 *
 * SEEN    BODY[...], RFC822, RFC822.TEXT and BINARY[...] (not .PEEK) set
 *         \Seen in a read-write folder, and the response carries the new
 *         FLAGS (and MODSEQ).
 * LIMITS  IMAP_FETCH_BODY_MAX section items per command.
 */
#include "imap_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_fetch_body.h"
#include "imap_fetch_parse.h"
#include "mail/imap_cache.h"
#include "imap_message.h"
#include "imap_quote.h"
#include "imap_section.h"
#include "util/log.h"

/* ---- one message ------------------------------------------------------- */

/* A literal of data[0..n), or the partial slice of it the item asks. */
static void fetch_literal(struct str *out, const struct imap_fetch_body *it,
			  const char *data, size_t n, int binary)
{
	if (it->partial) {
		size_t off = it->partial_offset > n ? n :
			     (size_t)it->partial_offset;
		size_t len = n - off < it->partial_length ? n - off :
			     (size_t)it->partial_length;

		data += off;
		n = len;
	}
	(void)str_appendf(out, "%s{%zu}\r\n", binary ? "~" : "", n);
	(void)str_append(out, data, n);
}

/* A message opened when an item first needs its bytes. */
struct lazy_msg {
	struct imap_session *s;
	uint32_t i;
	struct imap_message msg;
	int opened, failed;
};

static struct imap_message *lazy_open(struct lazy_msg *l)
{
	if (!l->opened && !l->failed) {
		if (imap_message_open(&l->msg, l->s->sel, l->i) < 0)
			l->failed = 1;
		else
			l->opened = 1;
	}
	return l->opened ? &l->msg : NULL;
}

/* ENVELOPE, BODY or BODYSTRUCTURE (att) into out: from the index's cache
 * (imap_cache.h), else from the message, then kept in the cache. 0, or
 * -1 if the message cannot be read or parsed. */
static int fetch_structure(struct lazy_msg *l, unsigned att, struct str *out)
{
	unsigned field = att == IMAP_FETCH_ENVELOPE ? IMAP_CACHE_ENVELOPE :
			 att == IMAP_FETCH_BODY ? IMAP_CACHE_BODY :
			 IMAP_CACHE_BODYSTRUCTURE;
	uint32_t uid = l->s->sel->msgs[l->i].uid;
	struct imap_message *msg;
	const struct mime_msg *mm;
	struct str v = STR_INIT(0);
	const char *error;
	int r = -1;

	(void)str_appends(out, att == IMAP_FETCH_ENVELOPE ? "ENVELOPE " :
			  att == IMAP_FETCH_BODY ? "BODY " : "BODYSTRUCTURE ");
	if (imap_cache_get(l->s->sel, uid, field, &v) == 1) {
		(void)str_append(out, str_c(&v), v.len);
		r = 0;
		goto out;
	}
	if ((msg = lazy_open(l)) == NULL)
		goto out;
	if (att == IMAP_FETCH_ENVELOPE && !msg->parsed) {
		/* the header alone, no MIME parse; and SEARCH's fields
		 * cached while it is at hand */
		struct mime_part hdr = { .hdr_len =
					 imap_message_header_len(msg) };
		struct str fields = STR_INIT(0);

		(void)imap_envelope_write(msg->data ? msg->data : "", &hdr, &v);
		(void)imap_header_get(l->s->sel, l->i, msg, &fields);
		str_free(&fields);
		goto done;
	}
	mm = imap_message_mime(msg, &error);
	if (mm == NULL) {
		log_warn(l->s->id, "uid %lu: MIME: %s", (unsigned long)uid,
			 error);
		goto out;
	}
	if (att == IMAP_FETCH_ENVELOPE)
		(void)imap_envelope_write(msg->data, mm->root, &v);
	else
		(void)imap_bodystructure_write(msg->data, mm->root,
					       att == IMAP_FETCH_BODYSTRUCTURE,
					       &v);
done:
	(void)str_append(out, str_c(&v), v.len);
	(void)imap_cache_put(l->s->sel, uid, field, str_c(&v), v.len);
	r = 0;
out:
	str_free(&v);
	return r;
}

/* One BODY[]/BINARY[]/BINARY.SIZE[] item. 0 done; -1 the message cannot
 * be read; -2 a part's encoding is unknown (NO [UNKNOWN-CTE]). */
static int fetch_body_item(struct imap_session *s, struct lazy_msg *l,
			   const struct imap_fetch_body *it, struct str *out)
{
	struct imap_message *msg = lazy_open(l);
	const struct mime_msg *mm;
	struct str data = STR_INIT(0);
	const char *error;
	int r, unknown = 0;

	if (msg == NULL)
		return -1;
	mm = imap_message_mime(msg, &error);
	if (mm == NULL) {
		log_warn(s->id, "uid %lu: MIME: %s",
			 (unsigned long)msg->f->msgs[msg->i].uid, error);
		return -1;
	}
	if (it->type == IMAP_FETCH_BODY_SECTION)
		r = imap_section_get(msg->data ? msg->data : "", msg->len, mm,
				     &it->section, &data);
	else
		r = imap_section_binary(msg->data ? msg->data : "", msg->len,
					mm, &it->section, &data, &unknown);
	if (unknown) {
		r = -2;
		goto out;
	}
	if (r < 0) {
		r = -1;
		goto out;
	}
	/* a section that does not exist is the empty string (as Dovecot) */
	(void)str_appends(out, it->name);
	(void)str_appendc(out, ' ');
	if (it->type == IMAP_FETCH_BINARY_SIZE)
		(void)str_appendf(out, "%zu", data.len);
	else
		fetch_literal(out, it, data.s ? data.s : "", data.len,
			      it->type == IMAP_FETCH_BINARY &&
			      memchr(str_c(&data), '\0', data.len) != NULL);
	r = 0;
out:
	str_free(&data);
	return r;
}

/* Set \Seen on message i for an item that reads it (not .PEEK) in a
 * read-write folder: 1 if it changed (its FLAGS go in the response). */
static int fetch_seen(struct imap_session *s, const struct imap_fetch_items *q,
		      uint32_t i)
{
	struct imap_msg *m = &s->sel->msgs[i];
	const char *error;

	if (!q->seen || s->sel_readonly || (m->flags & IMAP_F_SEEN))
		return 0;
	if (imap_folder_store(s->sel, i, m->flags | IMAP_F_SEEN, m->keywords,
			      &error) < 0) {
		log_warn(s->id, "uid %lu: \\Seen: %s", (unsigned long)m->uid,
			 error);
		return 0;
	}
	return 1;
}

/* The items that need nothing but the index. 0, or -1 gone. */
static int fetch_index_items(struct imap_session *s,
			     const struct imap_fetch_items *q, uint32_t i,
			     int flags_too, struct str *out, const char **sep)
{
	const struct imap_msg *m = &s->sel->msgs[i];
	uint64_t size, vsize;
	time_t date;

	if (q->atts & IMAP_FETCH_UID) {
		(void)str_appendf(out, "%sUID %lu", *sep,
				  (unsigned long)m->uid);
		*sep = " ";
	}
	if ((q->atts & IMAP_FETCH_FLAGS) || flags_too) {
		(void)str_appendf(out, "%sFLAGS ", *sep);
		imap_write_flags(s, out, m);
		*sep = " ";
	}
	if ((q->atts & IMAP_FETCH_MODSEQ) ||
	    (flags_too && imap_session_condstore(s))) {
		(void)str_appendf(out, "%sMODSEQ (%llu)", *sep,
				  (unsigned long long)m->modseq);
		*sep = " ";
	}
	if (q->atts & (IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE)) {
		if (imap_folder_msg_sizes(s->sel, i, &size, &vsize, &date) < 0)
			return -1;
		if (q->atts & IMAP_FETCH_INTERNALDATE) {
			(void)str_appendf(out, "%sINTERNALDATE ", *sep);
			(void)imap_datetime_format(out, date, 0);
			*sep = " ";
		}
		if (q->atts & IMAP_FETCH_RFC822_SIZE) {
			(void)str_appendf(out, "%sRFC822.SIZE %llu", *sep,
					  (unsigned long long)vsize);
			*sep = " ";
		}
	}
	return 0;
}

/* The response of message i into out. 0, -1 gone, -2 unknown CTE. */
static int fetch_one(struct imap_session *s, const struct imap_fetch_items *q,
		     uint32_t i, struct str *out)
{
	static const unsigned structure[] = { IMAP_FETCH_ENVELOPE,
		IMAP_FETCH_BODY, IMAP_FETCH_BODYSTRUCTURE };
	struct lazy_msg l = { .s = s, .i = i };
	int r = 0;
	const char *sep = "";

	(void)str_appendf(out, "* %lu FETCH (", (unsigned long)i + 1);
	r = fetch_index_items(s, q, i, fetch_seen(s, q, i), out, &sep);
	for (size_t k = 0; k < 3 && r == 0; k++) {
		if (!(q->atts & structure[k]))
			continue;
		(void)str_appends(out, sep);
		sep = " ";
		r = fetch_structure(&l, structure[k], out);
	}
	for (unsigned k = 0; k < q->nbody && r == 0; k++) {
		(void)str_appends(out, sep);
		sep = " ";
		r = fetch_body_item(s, &l, &q->body[k], out);
	}
	(void)str_appends(out, ")\r\n");
	if (l.opened)
		imap_message_close(&l.msg);
	s->sel->msgs[i].changed = 0;
	return r;
}

void imap_cmd_fetch(struct imap_session *s, struct imap_command *c)
{
	struct imap_fetch_items q;
	struct imap_msgset ms;
	struct str out = STR_INIT(0);
	const char *error;
	unsigned gone = 0, unknown = 0;

	memset(&q, 0, sizeof(q));
	if (c->nargs < 2 ||
	    imap_fetch_parse(c->args + 1, c->nargs - 1, c->uid, &q,
			     &error) < 0) {
		imap_reply_bad(s, c, c->nargs < 2 ? "FETCH needs a message "
			       "set and items." : error);
		goto out;
	}
	if (q.vanished && !(s->enabled & IMAP_EN_QRESYNC)) {
		imap_reply_bad(s, c, "VANISHED needs QRESYNC enabled.");
		goto out;
	}
	if (imap_msgset_parse(s, c, &c->args[0], c->uid, &ms) < 0)
		goto out;
	if (q.changedsince_set || (q.atts & IMAP_FETCH_MODSEQ))
		imap_session_condstore_on(s);
	imap_session_keywords(s);
	if (q.vanished) {
		struct str set = STR_INIT(0);

		if (imap_folder_vanished_since(s->sel, q.changedsince,
					       &set) > 0 && set.len > 0)
			imap_reply_untagged(s, "VANISHED (EARLIER) %s", set.s);
		str_free(&set);
	}
	for (uint32_t i = 0; i < s->sel->count && !s->logout; i++) {
		const struct imap_msg *m = &s->sel->msgs[i];
		int r;

		if (i >= s->exists || !imap_msgset_has(s, &ms, i))
			continue;
		if (q.changedsince_set && m->modseq <= q.changedsince)
			continue;
		str_clear(&out);
		r = fetch_one(s, &q, i, &out);
		if (r == -1) {
			gone++;
			continue;
		}
		if (r == -2) {
			unknown++;
			continue;
		}
		if (io_write(&s->io, out.s, out.len) < 0)
			s->logout = 1;
		s->fetched++;
	}
	(void)imap_folder_flush(s->sel);
	imap_msgset_free(&ms);
	if (unknown)
		imap_reply_tagged(s, c, "NO", "[UNKNOWN-CTE] Unknown "
				  "Content-Transfer-Encoding.");
	else if (gone)
		imap_reply_tagged(s, c, "NO", "[EXPUNGEISSUED] Some messages "
				  "were expunged.");
	else
		imap_reply_tagged(s, c, "OK", "Fetch completed.");
out:
	imap_fetch_items_free(&q);
	str_free(&out);
}
