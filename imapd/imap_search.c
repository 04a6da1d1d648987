/*
 * imap_search - SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4),
 *               with ESEARCH's RETURN (RFC 4731), SEARCHRES's SAVE and
 *               "$" (RFC 5182), CONDSTORE's MODSEQ (RFC 7162)
 *
 * GRAMMAR  imap_search_parse()'s (imap_search_parse.h): RETURN, CHARSET
 *          (US-ASCII, UTF-8; others NO [BADCHARSET]), every key.
 * MATCHING Strings match as substrings without regard to ASCII case.
 *          Header keys look at each field of that name, unfolded and with
 *          RFC 2047 words decoded; HEADER name "" matches every message
 *          that has the field. BODY looks at the body as stored and at the
 *          decoded content (base64, quoted-printable) of its text parts;
 *          TEXT at the header and the body. Dates compare days (BEFORE,
 *          ON, SINCE: the internal date; SENT*: the Date field), in UTC.
 * LIMITS   IMAP_SEARCH_NODES_MAX keys, IMAP_SEARCH_DEPTH_MAX levels.
 */
#include "imap_session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_message.h"
#include "imap_quote.h"
#include "imap_search.h"
#include "imap_search_parse.h"
#include "imap_section.h"
#include "mail/mail_address.h"
#include "mail/mail_date.h"
#include "mail/mail_header.h"
#include "mail/rfc2047.h"
#include "util/alloc.h"
#include "util/log.h"

/* ---- matching ------------------------------------------------------------ */

struct smsg {
	struct imap_session *s;
	uint32_t i;
	struct imap_message msg;
	int opened, failed;
	uint64_t vsize;
	time_t date;
	int sizes;
	struct str hdr;			/* the cached header fields */
	int hdr_cached;
};

static int has_substr(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++)
		if (strncasecmp(h + i, n, nn) == 0)
			return 1;
	return 0;
}

static int smsg_open(struct smsg *m)
{
	if (!m->opened && !m->failed) {
		if (imap_message_open(&m->msg, m->s->sel, m->i) < 0)
			m->failed = 1;
		else
			m->opened = 1;
	}
	return m->opened;
}

static size_t smsg_hdr_len(struct smsg *m)
{
	const char *error;
	const struct mime_msg *mm = imap_message_mime(&m->msg, &error);

	return mm ? mm->root->hdr_len : m->msg.len;
}

/* An address field's addresses as "name <mailbox@domain>, ..." (names
 * decoded), so that FROM user@example.org matches however the field
 * wrote it (comments, quoting, folding), as Dovecot does. */
static void address_text(const char *v, size_t n, struct str *out)
{
	struct mail_address_list l = { 0 };

	mail_address_parse(v, n, &l);
	for (size_t k = 0; k < l.n; k++) {
		const struct mail_address *a = &l.a[k];

		if (a->name)
			(void)rfc2047_decode(a->name, strlen(a->name), out);
		if (a->mailbox)
			(void)str_appendf(out, " <%s@%s>, ", a->mailbox,
					  a->domain ? a->domain : "");
	}
	mail_address_list_free(&l);
}

/* Header keys: the field name and the string; address fields also by
 * their parsed addresses. */
static int match_header(struct smsg *m, const char *name, const char *str,
			size_t len, int address)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct str v = STR_INIT(1024 * 1024);
	int hit = 0;

	if (imap_header_cached(name)) {
		/* the index's cache: no file read when it has them */
		if (!m->hdr_cached) {
			if (imap_header_get(m->s->sel, m->i, m->opened ?
					    &m->msg : NULL, &m->hdr) < 0) {
				str_free(&v);
				return 0;
			}
			m->hdr_cached = 1;
		}
		mail_header_iter_init(&it, str_c(&m->hdr), m->hdr.len);
	} else {
		if (!smsg_open(m)) {
			str_free(&v);
			return 0;
		}
		mail_header_iter_init(&it, m->msg.data ? m->msg.data : "",
				      smsg_hdr_len(m));
	}
	while (!hit && mail_header_iter_next(&it, &f)) {
		if (!mail_header_name_is(&f, name))
			continue;
		str_clear(&v);
		(void)rfc2047_decode(f.value, f.value_len, &v);
		hit = has_substr(str_c(&v), v.len, str, len);
		if (!hit && address) {
			str_clear(&v);
			address_text(f.value, f.value_len, &v);
			hit = has_substr(str_c(&v), v.len, str, len);
		}
	}
	str_free(&v);
	return hit;
}

/* The decoded text parts of p (recursion over the tree, at most
 * IMAP_SECTION_PARTS_MAX deep). */
static int match_parts(struct smsg *m, const struct mime_msg *mm,
		       const struct mime_part *p, uint32_t *path,
		       unsigned depth, const char *str, size_t len)
{
	unsigned k = 1;

	if (p->children && depth < IMAP_SECTION_PARTS_MAX) {
		for (const struct mime_part *c = p->children; c; c = c->next) {
			path[depth] = k++;
			if (match_parts(m, mm, c, path, depth + 1, str, len))
				return 1;
		}
		return 0;
	}
	if ((p->flags & MIME_PART_TEXT) && p->cte &&
	    (strcasecmp(p->cte, "base64") == 0 ||
	     strcasecmp(p->cte, "quoted-printable") == 0)) {
		struct imap_section sec;
		struct str out = STR_INIT(64 * 1024 * 1024);
		int unknown = 0, hit;

		memset(&sec, 0, sizeof(sec));
		memcpy(sec.part, path, depth * sizeof(*path));
		sec.nparts = depth;
		if (depth == 0) {
			sec.part[0] = 1;
			sec.nparts = 1;
		}
		hit = imap_section_binary(m->msg.data, m->msg.len, mm, &sec,
					  &out, &unknown) == 0 &&
		      has_substr(str_c(&out), out.len, str, len);
		str_free(&out);
		return hit;
	}
	return 0;
}

/* BODY (text 0) or TEXT (text 1). */
static int match_body(struct smsg *m, const char *str, size_t len, int text)
{
	const struct mime_msg *mm;
	const char *error;
	uint32_t path[IMAP_SECTION_PARTS_MAX];
	size_t hl;

	if (!smsg_open(m) || m->msg.data == NULL)
		return len == 0;
	hl = smsg_hdr_len(m);
	if (has_substr(m->msg.data + (text ? 0 : hl), m->msg.len -
		       (text ? 0 : hl), str, len))
		return 1;
	mm = imap_message_mime(&m->msg, &error);
	return mm && match_parts(m, mm, mm->root, path, 0, str, len);
}

/* The day (since 1970) of the message's Date field, or INT64_MIN. */
static int64_t sent_day(struct smsg *m)
{
	struct mail_header_field f;
	struct str v = STR_INIT(256);
	struct imap_date d;
	int64_t day = INT64_MIN;

	if (!m->hdr_cached) {
		if (imap_header_get(m->s->sel, m->i, m->opened ? &m->msg : NULL,
				    &m->hdr) < 0)
			goto out;
		m->hdr_cached = 1;
	}
	if (!mail_header_find(str_c(&m->hdr), m->hdr.len, "Date", &f))
		goto out;
	(void)mail_header_unfold(f.value, f.value_len, &v);
	if (v.s && mail_date_parse_day(v.s, &d.year, &d.mon, &d.day) == 0)
		day = imap_date_days(&d);
out:
	str_free(&v);
	return day;
}

static int smsg_sizes(struct smsg *m)
{
	uint64_t size;

	if (!m->sizes && imap_folder_msg_sizes(m->s->sel, m->i, &size,
					       &m->vsize, &m->date) < 0)
		return -1;
	m->sizes = 1;
	return 0;
}

static int match_date(struct smsg *m, const struct imap_search_node *nd)
{
	int64_t day;

	switch (nd->key) {
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		if ((day = sent_day(m)) == INT64_MIN)
			return 0;
		break;
	default:
		if (smsg_sizes(m) < 0)
			return 0;
		day = (int64_t)(m->date >= 0 ? m->date / 86400 :
				(m->date - 86399) / 86400);
		break;
	}
	switch (nd->key) {
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_SENTBEFORE:
		return day < nd->days;
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SENTON:
		return day == nd->days;
	default:
		return day >= nd->days;
	}
}

static int match(struct smsg *m, const struct imap_search_node *nd);

static int match_flag(const struct imap_msg *im,
		      const struct imap_search_node *nd, int *hit)
{
	static const struct {
		enum imap_search_key key;
		uint8_t flag;
		int want;
	} flags[] = {
		{ IMAP_SEARCH_ANSWERED, IMAP_F_ANSWERED, 1 },
		{ IMAP_SEARCH_DELETED, IMAP_F_DELETED, 1 },
		{ IMAP_SEARCH_DRAFT, IMAP_F_DRAFT, 1 },
		{ IMAP_SEARCH_FLAGGED, IMAP_F_FLAGGED, 1 },
		{ IMAP_SEARCH_SEEN, IMAP_F_SEEN, 1 },
		{ IMAP_SEARCH_UNANSWERED, IMAP_F_ANSWERED, 0 },
		{ IMAP_SEARCH_UNDELETED, IMAP_F_DELETED, 0 },
		{ IMAP_SEARCH_UNDRAFT, IMAP_F_DRAFT, 0 },
		{ IMAP_SEARCH_UNFLAGGED, IMAP_F_FLAGGED, 0 },
		{ IMAP_SEARCH_UNSEEN, IMAP_F_SEEN, 0 },
	};

	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
		if (flags[k].key == nd->key) {
			*hit = ((im->flags & flags[k].flag) != 0) ==
			       flags[k].want;
			return 1;
		}
	return 0;
}

static int match_string(struct smsg *m, const struct imap_search_node *nd,
			int *hit)
{
	static const struct {
		enum imap_search_key key;
		const char *field;
	} fields[] = {
		{ IMAP_SEARCH_BCC, "Bcc" }, { IMAP_SEARCH_CC, "Cc" },
		{ IMAP_SEARCH_FROM, "From" }, { IMAP_SEARCH_SUBJECT, "Subject" },
		{ IMAP_SEARCH_TO, "To" },
	};

	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		if (fields[k].key == nd->key) {
			*hit = match_header(m, fields[k].field, nd->str,
					    nd->len,
					    nd->key != IMAP_SEARCH_SUBJECT);
			return 1;
		}
	return 0;
}

static int match(struct smsg *m, const struct imap_search_node *nd)
{
	const struct imap_msg *im = &m->s->sel->msgs[m->i];
	const struct imap_search_node *c;
	int hit, k;

	if (match_flag(im, nd, &hit) || match_string(m, nd, &hit))
		return hit;
	switch (nd->key) {
	case IMAP_SEARCH_ALL:
		return 1;
	case IMAP_SEARCH_AND:
		for (c = nd->child; c; c = c->next)
			if (!match(m, c))
				return 0;
		return 1;
	case IMAP_SEARCH_OR:
		for (c = nd->child; c; c = c->next)
			if (match(m, c))
				return 1;
		return 0;
	case IMAP_SEARCH_NOT:
		return !match(m, nd->child);
	case IMAP_SEARCH_SEQSET:
		return m->i < m->s->exists &&
		       imap_seqset_contains(&nd->set, m->i + 1);
	case IMAP_SEARCH_UID:
		return imap_seqset_contains(&nd->set, im->uid);
	case IMAP_SEARCH_KEYWORD:
	case IMAP_SEARCH_UNKEYWORD:
		k = imap_folder_keyword(m->s->sel, nd->str, 0);
		return (k >= 0 && (im->keywords & (UINT32_C(1) << k))) ==
		       (nd->key == IMAP_SEARCH_KEYWORD);
	case IMAP_SEARCH_NEW:
		return im->recent && !(im->flags & IMAP_F_SEEN);
	case IMAP_SEARCH_OLD:
		return !im->recent;
	case IMAP_SEARCH_RECENT:
		return im->recent;
	case IMAP_SEARCH_LARGER:
	case IMAP_SEARCH_SMALLER:
		if (smsg_sizes(m) < 0)
			return 0;
		return nd->key == IMAP_SEARCH_LARGER ? m->vsize > nd->num :
						       m->vsize < nd->num;
	case IMAP_SEARCH_HEADER:
		return match_header(m, nd->str, nd->value, nd->value_len, 0);
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		return match_body(m, nd->str, nd->len,
				  nd->key == IMAP_SEARCH_TEXT);
	case IMAP_SEARCH_MODSEQ:
		return im->modseq >= nd->num;
	default:
		return match_date(m, nd);
	}
}

/* Resolve the sets of the tree: "*" against the mailbox, "$" to the
 * saved UIDs (a UID set whatever the key said). */
static void resolve_sets(struct imap_session *s, struct imap_search_node *nd,
			 unsigned depth)
{
	const struct imap_folder *f = s->sel;

	if (depth > IMAP_SEARCH_DEPTH_MAX + 1)
		return;
	for (; nd; nd = nd->next) {
		if (nd->key == IMAP_SEARCH_SEQSET || nd->key == IMAP_SEARCH_UID) {
			if (nd->set.searchres) {
				imap_seqset_clear(&nd->set);
				for (uint32_t k = 0; s->saved_valid &&
				     k < s->nsaved; k++)
					imap_seqset_add(&nd->set, s->saved[k],
							s->saved[k]);
				imap_seqset_normalize(&nd->set);
				nd->key = IMAP_SEARCH_UID;
			} else if (nd->key == IMAP_SEARCH_UID) {
				imap_seqset_resolve(&nd->set, f->count ?
						    f->msgs[f->count - 1].uid : 0);
			} else {
				imap_seqset_resolve(&nd->set, s->exists);
			}
		}
		resolve_sets(s, nd->child, depth + 1);
	}
}

/* ---- the commands --------------------------------------------------------- */

uint32_t imap_search_run(struct imap_session *s, struct imap_search *q,
			 uint32_t **hits_r)
{
	uint32_t *hits = xreallocarray(NULL, s->exists + 1, sizeof(*hits));
	uint32_t n = 0;

	resolve_sets(s, q->root, 0);
	for (uint32_t i = 0; i < s->exists && i < s->sel->count; i++) {
		struct smsg m;
		int hit;

		memset(&m, 0, sizeof(m));
		m.s = s;
		m.i = i;
		hit = match(&m, q->root);
		if (m.opened)
			imap_message_close(&m.msg);
		str_free(&m.hdr);
		if (hit)
			hits[n++] = i;
	}
	*hits_r = hits;
	return n;
}

int imap_search_command(struct imap_session *s, struct imap_command *c,
			struct imap_search *q,
			int (*parse)(struct imap_search *,
				     const struct imap_arg *, unsigned,
				     const char **))
{
	const char *error = "Invalid search.";
	int r;

	imap_search_init(q);
	r = parse(q, c->args, c->nargs, &error);
	if (r == IMAP_SEARCH_BADCHARSET) {
		imap_reply_tagged(s, c, "NO", "[BADCHARSET (US-ASCII UTF-8)] "
				  "Unknown charset.");
		return -1;
	}
	if (r != IMAP_SEARCH_OK) {
		imap_reply_bad(s, c, error);
		return -1;
	}
	if (q->uses_modseq)
		imap_session_condstore_on(s);
	return 0;
}

/* The untagged answer: ESEARCH if esearch, else SEARCH. ids are what
 * the client asked for (sequence numbers or UIDs), in order. */
static void search_answer(struct imap_session *s, const struct imap_command *c,
			  const uint32_t *ids, uint32_t n, unsigned ret,
			  int esearch, uint64_t modseq, int with_modseq)
{
	struct str line = STR_INIT(0), set = STR_INIT(0);

	if (!esearch) {
		(void)str_appends(&line, "* SEARCH");
		for (uint32_t k = 0; k < n; k++)
			(void)str_appendf(&line, " %lu", (unsigned long)ids[k]);
		if (with_modseq && n > 0)
			(void)str_appendf(&line, " (MODSEQ %llu)",
					  (unsigned long long)modseq);
	} else {
		(void)str_appends(&line, "* ESEARCH (TAG ");
		(void)imap_quote_string(&line, c->tag, strlen(c->tag), 0);
		(void)str_appends(&line, ")");
		if (c->uid)
			(void)str_appends(&line, " UID");
		if ((ret & IMAP_SEARCH_RETURN_MIN) && n > 0)
			(void)str_appendf(&line, " MIN %lu",
					  (unsigned long)ids[0]);
		if ((ret & IMAP_SEARCH_RETURN_MAX) && n > 0)
			(void)str_appendf(&line, " MAX %lu",
					  (unsigned long)ids[n - 1]);
		if ((ret & IMAP_SEARCH_RETURN_ALL) && n > 0 &&
		    imap_seqset_format_uids(ids, n, &set) == 0)
			(void)str_appendf(&line, " ALL %s", set.s);
		if (ret & IMAP_SEARCH_RETURN_COUNT)
			(void)str_appendf(&line, " COUNT %lu", (unsigned long)n);
		if (with_modseq && n > 0)
			(void)str_appendf(&line, " MODSEQ %llu",
					  (unsigned long long)modseq);
	}
	(void)str_appends(&line, "\r\n");
	if (io_write(&s->io, line.s, line.len) < 0)
		s->logout = 1;
	str_free(&line);
	str_free(&set);
}

void imap_cmd_search(struct imap_session *s, struct imap_command *c)
{
	struct imap_search q;
	uint32_t *hits = NULL, n;
	uint64_t modseq = 0;
	unsigned ret;
	int esearch;

	if (imap_search_command(s, c, &q, imap_search_parse) < 0)
		goto out;
	n = imap_search_run(s, &q, &hits);
	/* the MODSEQ of what is returned: with only MIN and/or MAX, of
	 * those messages (RFC 4731 3.2 / RFC 7162 3.1.5), else of all */
	ret = q.return_given ? q.return_opts : IMAP_SEARCH_RETURN_ALL;
	for (uint32_t k = 0; k < n; k++) {
		const struct imap_msg *m = &s->sel->msgs[hits[k]];
		int counted = (ret & (IMAP_SEARCH_RETURN_ALL |
				      IMAP_SEARCH_RETURN_COUNT)) ||
			      ((ret & IMAP_SEARCH_RETURN_MIN) && k == 0) ||
			      ((ret & IMAP_SEARCH_RETURN_MAX) && k == n - 1) ||
			      ret == 0 || ret == IMAP_SEARCH_RETURN_SAVE;

		if (counted && m->modseq > modseq)
			modseq = m->modseq;
	}
	if (q.return_opts & IMAP_SEARCH_RETURN_SAVE) {
		free(s->saved);
		s->saved = xreallocarray(NULL, n + 1, sizeof(*s->saved));
		for (uint32_t k = 0; k < n; k++)
			s->saved[k] = s->sel->msgs[hits[k]].uid;
		s->nsaved = n;
		s->saved_valid = 1;
	}
	for (uint32_t k = 0; k < n; k++)
		hits[k] = c->uid ? s->sel->msgs[hits[k]].uid : hits[k] + 1;
	/* under IMAP4rev2 every SEARCH answers ESEARCH (RFC 9051 7.3.4) */
	esearch = q.return_given || (s->enabled & IMAP_EN_REV2);
	/* RETURN () is RETURN (ALL) (RFC 4731 3.1) */
	ret = q.return_given && q.return_opts ? q.return_opts :
					       IMAP_SEARCH_RETURN_ALL;
	/* RETURN (SAVE) alone answers nothing (RFC 5182 2.1) */
	if (!(q.return_given && ret == IMAP_SEARCH_RETURN_SAVE))
		search_answer(s, c, hits, n, ret, esearch, modseq,
			      q.uses_modseq);
	imap_reply_tagged(s, c, "OK", "Search completed.");
out:
	free(hits);
	imap_search_free(&q);
}
