/*
 * imap_cmd_fetch - FETCH and UID FETCH (RFC 9051 6.4.5, RFC 3501 6.4.5),
 *                  with BINARY (RFC 3516), CONDSTORE's MODSEQ and
 *                  CHANGEDSINCE, QRESYNC's VANISHED (RFC 7162)
 *
 * GRAMMAR (the items, after the sequence set)
 *   items    = "ALL" / "FAST" / "FULL" / item / "(" item *(SP item) ")"
 *   item     = "FLAGS" / "INTERNALDATE" / "RFC822.SIZE" / "ENVELOPE" /
 *              "BODY" / "BODYSTRUCTURE" / "UID" / "MODSEQ" / "RFC822" /
 *              "RFC822.HEADER" / "RFC822.TEXT" /
 *              ("BODY" / "BODY.PEEK" / "BINARY" / "BINARY.PEEK")
 *                 "[" section "]" ["<" number "." nz-number ">"] /
 *              "BINARY.SIZE[" section "]"
 *   modifiers = "(" "CHANGEDSINCE" SP mod-sequence [SP "VANISHED"] ")"
 * The reader (imap_parse.h) gives each bracketed item as one atom; the
 * section between the brackets is imap_section_from_text()'s. Every size
 * is that of the CRLF form, whatever line ends the file has.
 *
 * SEEN    BODY[...], RFC822, RFC822.TEXT and BINARY[...] (not .PEEK) set
 *         \Seen in a read-write folder, and the response carries the new
 *         FLAGS (and MODSEQ).
 * LIMITS  IMAP_FETCH_ITEMS_MAX items per command.
 */
#include "imap_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_fetch_body.h"
#include "imap_message.h"
#include "imap_quote.h"
#include "imap_section.h"
#include "util/log.h"

#define IMAP_FETCH_ITEMS_MAX 64

enum fetch_kind {
	F_FLAGS, F_INTERNALDATE, F_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE,
	F_UID, F_MODSEQ, F_SECTION, F_BINARY, F_BINARY_SIZE,
};

struct fetch_item {
	enum fetch_kind kind;
	int peek;
	struct imap_section sec;
	int partial;
	uint64_t off, len;
	/* what the response names it: "BODY[", the client's section text */
	const char *prefix;
	const char *sec_text;
	size_t sec_len;
	char sec_buf[1024];	/* the section text, NUL-terminated: the
				 * field names of sec point into it */
};

struct fetch_req {
	struct fetch_item item[IMAP_FETCH_ITEMS_MAX];
	unsigned n;
	int need_mime;		/* an item reads the message */
	int sets_seen;
	uint64_t changedsince;
	int has_changedsince, vanished;
};

static int fetch_add(struct fetch_req *q, enum fetch_kind kind)
{
	if (q->n >= IMAP_FETCH_ITEMS_MAX)
		return -1;
	memset(&q->item[q->n], 0, sizeof(q->item[q->n]));
	q->item[q->n++].kind = kind;
	return 0;
}

/* "BODY[...]<a.b>" and friends; a points at the item's atom. */
static int fetch_section(struct fetch_req *q, const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum fetch_kind kind;
		int peek;
		const char *prefix;
	} forms[] = {
		{ "BODY.PEEK[", F_SECTION, 1, "BODY[" },
		{ "BODY[", F_SECTION, 0, "BODY[" },
		{ "BINARY.PEEK[", F_BINARY, 1, "BINARY[" },
		{ "BINARY.SIZE[", F_BINARY_SIZE, 1, "BINARY.SIZE[" },
		{ "BINARY[", F_BINARY, 0, "BINARY[" },
	};
	struct fetch_item *it;
	const char *close, *end = s + n;

	for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		size_t fl = strlen(forms[k].name);

		if (n < fl || strncasecmp(s, forms[k].name, fl) != 0)
			continue;
		close = memchr(s + fl, ']', n - fl);
		if (close == NULL ||
		    (size_t)(close - (s + fl)) >= sizeof(it->sec_buf))
			return -1;
		if (fetch_add(q, forms[k].kind) < 0)
			return -1;
		it = &q->item[q->n - 1];
		it->peek = forms[k].peek;
		it->prefix = forms[k].prefix;
		it->sec_text = s + fl;
		it->sec_len = (size_t)(close - (s + fl));
		memcpy(it->sec_buf, it->sec_text, it->sec_len);
		it->sec_buf[it->sec_len] = '\0';
		if (imap_section_from_text(it->sec_buf, &it->sec) < 0)
			return -1;
		if (forms[k].kind != F_SECTION &&
		    (it->sec.kind != IMAP_SECTION_ALL))
			return -1;
		s = close + 1;
		if (s < end) {
			char *e;
			unsigned long long off, len;

			if (*s != '<' || forms[k].kind == F_BINARY_SIZE)
				return -1;
			off = strtoull(s + 1, &e, 10);
			if (e == s + 1 || *e != '.')
				return -1;
			len = strtoull(e + 1, &e, 10);
			if (len == 0 || *e != '>' || e + 1 != end)
				return -1;
			it->partial = 1;
			it->off = off;
			it->len = len;
		}
		if (!it->peek)
			q->sets_seen = 1;
		q->need_mime = 1;
		return 0;
	}
	return -1;
}

static int fetch_atom(struct fetch_req *q, const struct imap_arg *a)
{
	static const struct {
		const char *name;
		enum fetch_kind kind;
		int mime;
	} simple[] = {
		{ "FLAGS", F_FLAGS, 0 }, { "INTERNALDATE", F_INTERNALDATE, 0 },
		{ "RFC822.SIZE", F_SIZE, 0 }, { "ENVELOPE", F_ENVELOPE, 1 },
		{ "BODY", F_BODY, 1 }, { "BODYSTRUCTURE", F_BODYSTRUCTURE, 1 },
		{ "UID", F_UID, 0 }, { "MODSEQ", F_MODSEQ, 0 },
	};

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++)
		if (imap_arg_atom_is(a, simple[k].name)) {
			q->need_mime |= simple[k].mime;
			return fetch_add(q, simple[k].kind);
		}
	if (imap_arg_atom_is(a, "RFC822") ||
	    imap_arg_atom_is(a, "RFC822.HEADER") ||
	    imap_arg_atom_is(a, "RFC822.TEXT")) {
		struct fetch_item *it;

		if (fetch_add(q, F_SECTION) < 0)
			return -1;
		it = &q->item[q->n - 1];
		it->prefix = a->s;	/* "RFC822..." names itself */
		it->sec_text = NULL;
		it->peek = imap_arg_atom_is(a, "RFC822.HEADER");
		it->sec.kind = imap_arg_atom_is(a, "RFC822") ?
			IMAP_SECTION_ALL : it->peek ? IMAP_SECTION_HEADER :
			IMAP_SECTION_TEXT;
		q->sets_seen |= !it->peek;
		q->need_mime = 1;
		return 0;
	}
	return fetch_section(q, a->s, a->len);
}

static int fetch_macro(struct fetch_req *q, const struct imap_arg *a)
{
	static const enum fetch_kind fast[] = { F_FLAGS, F_INTERNALDATE,
						F_SIZE };

	if (!imap_arg_atom_is(a, "ALL") && !imap_arg_atom_is(a, "FAST") &&
	    !imap_arg_atom_is(a, "FULL"))
		return 0;
	for (size_t k = 0; k < 3; k++)
		(void)fetch_add(q, fast[k]);
	if (!imap_arg_atom_is(a, "FAST")) {
		(void)fetch_add(q, F_ENVELOPE);
		q->need_mime = 1;
	}
	if (imap_arg_atom_is(a, "FULL"))
		(void)fetch_add(q, F_BODY);
	return 1;
}

static int fetch_parse(struct imap_command *c, struct fetch_req *q)
{
	const struct imap_arg *items = &c->args[1];

	memset(q, 0, sizeof(*q));
	if (c->nargs < 2 || c->nargs > 3)
		return -1;
	if (items->type == IMAP_ARG_LIST) {
		if (items->n == 0)
			return -1;
		for (unsigned i = 0; i < items->n; i++)
			if (fetch_atom(q, &items->list[i]) < 0)
				return -1;
	} else if (!fetch_macro(q, items) && fetch_atom(q, items) < 0) {
		return -1;
	}
	if (c->nargs == 3) {
		const struct imap_arg *m = &c->args[2];

		if (m->type != IMAP_ARG_LIST || m->n < 2 || m->n > 3 ||
		    !imap_arg_atom_is(&m->list[0], "CHANGEDSINCE") ||
		    !imap_arg_number(&m->list[1], UINT64_MAX, &q->changedsince))
			return -1;
		q->has_changedsince = 1;
		if (m->n == 3) {
			if (!imap_arg_atom_is(&m->list[2], "VANISHED") ||
			    !c->uid)
				return -1;
			q->vanished = 1;
		}
		(void)fetch_add(q, F_MODSEQ);
	}
	if (c->uid)
		(void)fetch_add(q, F_UID);
	return 0;
}

/* ---- one message ------------------------------------------------------- */

/* A literal of data[0..n), or the partial slice of it the item asks. */
static void fetch_literal(struct str *out, const struct fetch_item *it,
			  const char *data, size_t n, int binary)
{
	if (it->partial) {
		size_t off = it->off > n ? n : (size_t)it->off;
		size_t len = n - off < it->len ? n - off : (size_t)it->len;

		data += off;
		n = len;
	}
	(void)str_appendf(out, "%s{%zu}\r\n", binary ? "~" : "", n);
	(void)str_append(out, data, n);
}

/* The name of a section item as the response gives it. */
static void fetch_item_name(struct str *out, const struct fetch_item *it)
{
	if (it->sec_text == NULL) {
		(void)str_appends(out, it->prefix);
		for (size_t k = out->len - strlen(it->prefix); k < out->len; k++)
			if (out->s[k] >= 'a' && out->s[k] <= 'z')
				out->s[k] = (char)(out->s[k] - 'a' + 'A');
		return;
	}
	(void)str_appends(out, it->prefix);
	(void)str_append(out, it->sec_text, it->sec_len);
	(void)str_appendc(out, ']');
	if (it->partial)
		(void)str_appendf(out, "<%llu>", (unsigned long long)it->off);
}

/* 0 done; -1 the message is gone (expunged by another session);
 * -2 a part could not be given (NO [UNKNOWN-CTE]). */
static int fetch_body_item(struct imap_session *s, struct imap_message *msg,
			   const struct fetch_item *it, struct str *out)
{
	const struct mime_msg *mm;
	struct str data = STR_INIT(0);
	const char *error;
	int r = 0, unknown = 0;

	mm = imap_message_mime(msg, &error);
	if (mm == NULL) {
		log_warn(s->id, "uid %lu: MIME: %s",
			 (unsigned long)msg->f->msgs[msg->i].uid, error);
		r = -1;
		goto out;
	}
	switch (it->kind) {
	case F_ENVELOPE:
		(void)str_appends(out, "ENVELOPE ");
		(void)imap_envelope_write(msg->data, mm->root, out);
		goto out;
	case F_BODY:
	case F_BODYSTRUCTURE:
		(void)str_appends(out, it->kind == F_BODY ? "BODY " :
				  "BODYSTRUCTURE ");
		(void)imap_bodystructure_write(msg->data, mm->root,
					       it->kind == F_BODYSTRUCTURE, out);
		goto out;
	case F_SECTION:
		r = imap_section_get(msg->data ? msg->data : "", msg->len, mm,
				     &it->sec, &data);
		break;
	default:
		r = imap_section_binary(msg->data ? msg->data : "", msg->len,
					mm, &it->sec, &data, &unknown);
		break;
	}
	if (unknown) {
		r = -2;
		goto out;
	}
	if (r < 0) {
		r = -1;
		goto out;
	}
	fetch_item_name(out, it);
	(void)str_appendc(out, ' ');
	if (it->kind == F_BINARY_SIZE)
		(void)str_appendf(out, "%zu", data.len);
	else
		fetch_literal(out, it, data.s ? data.s : "", data.len,
			      it->kind == F_BINARY &&
			      memchr(data.s ? data.s : "", '\0', data.len));
	r = 0;
out:
	str_free(&data);
	return r;
}

/* The response of message i into out. 0, -1 gone, -2 unknown CTE. */
static int fetch_one(struct imap_session *s, const struct fetch_req *q,
		     uint32_t i, struct str *out)
{
	struct imap_msg *m = &s->sel->msgs[i];
	struct imap_message msg;
	int opened = 0, r = 0, flags_done = 0;
	const char *sep = "";

	if (q->need_mime) {
		if (imap_message_open(&msg, s->sel, i) < 0)
			return -1;
		opened = 1;
	}
	if (q->sets_seen && !s->sel_readonly && !(m->flags & IMAP_F_SEEN)) {
		const char *error;

		if (imap_folder_store(s->sel, i, m->flags | IMAP_F_SEEN,
				      m->keywords, &error) < 0)
			log_warn(s->id, "uid %lu: \\Seen: %s",
				 (unsigned long)m->uid, error);
		else
			flags_done = 1;	/* FLAGS go in the response */
	}
	(void)str_appendf(out, "* %lu FETCH (", (unsigned long)i + 1);
	for (unsigned k = 0; k < q->n && r == 0; k++) {
		const struct fetch_item *it = &q->item[k];
		uint64_t size, vsize;
		time_t date;

		(void)str_appends(out, sep);
		sep = " ";
		switch (it->kind) {
		case F_UID:
			(void)str_appendf(out, "UID %lu",
					  (unsigned long)m->uid);
			break;
		case F_FLAGS:
			(void)str_appends(out, "FLAGS ");
			imap_write_flags(s, out, m);
			flags_done = 0;
			break;
		case F_MODSEQ:
			(void)str_appendf(out, "MODSEQ (%llu)",
					  (unsigned long long)m->modseq);
			break;
		case F_INTERNALDATE:
		case F_SIZE:
			if (imap_folder_msg_sizes(s->sel, i, &size, &vsize,
						  &date) < 0) {
				r = -1;
				break;
			}
			if (it->kind == F_SIZE) {
				(void)str_appendf(out, "RFC822.SIZE %llu",
						  (unsigned long long)vsize);
			} else {
				(void)str_appends(out, "INTERNALDATE ");
				(void)imap_datetime_format(out, date, 0);
			}
			break;
		default:
			r = fetch_body_item(s, &msg, it, out);
			break;
		}
	}
	if (flags_done) {
		(void)str_appends(out, " FLAGS ");
		imap_write_flags(s, out, m);
		if (imap_session_condstore(s))
			(void)str_appendf(out, " MODSEQ (%llu)",
					  (unsigned long long)m->modseq);
	}
	(void)str_appends(out, ")\r\n");
	if (opened)
		imap_message_close(&msg);
	m->changed = 0;
	return r;
}

void imap_cmd_fetch(struct imap_session *s, struct imap_command *c)
{
	static struct fetch_req q;
	struct imap_msgset ms;
	struct str out = STR_INIT(0);
	unsigned gone = 0, unknown = 0;

	if (fetch_parse(c, &q) < 0) {
		imap_reply_bad(s, c, "Invalid FETCH arguments.");
		return;
	}
	if (q.vanished && !(s->enabled & IMAP_EN_QRESYNC)) {
		imap_reply_bad(s, c, "VANISHED needs QRESYNC enabled.");
		return;
	}
	if (imap_msgset_parse(s, c, &c->args[0], c->uid, &ms) < 0)
		return;
	if (q.has_changedsince)
		imap_session_condstore_on(s);
	for (unsigned k = 0; k < q.n; k++)
		if (q.item[k].kind == F_MODSEQ)
			imap_session_condstore_on(s);
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
		if (q.has_changedsince && m->modseq <= q.changedsince)
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
	str_free(&out);
	if (unknown)
		imap_reply_tagged(s, c, "NO", "[UNKNOWN-CTE] Unknown "
				  "Content-Transfer-Encoding.");
	else if (gone)
		imap_reply_tagged(s, c, "NO", "[EXPUNGEISSUED] Some messages "
				  "were expunged.");
	else
		imap_reply_tagged(s, c, "OK", "Fetch completed.");
}
